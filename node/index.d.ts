// Type definitions for shmio (Node.js), over the shmio C++ core.
/// <reference types="node" />
import type { Observable } from 'rxjs'

// ---- The original (0.3) API ------------------------------------------------

export interface SharedMemoryConfig {
  /** The log file (/dev/shm/NAME for shared memory). */
  path: string
  /** Bytes per segment (the original's buffers). */
  size?: number
  /** Number of segments. */
  num?: number
  /** Bytes each segment's Buffer reaches into the next; >= the largest frame. */
  overlap?: number
  /** The one writer (creates the file if missing); false: a reader. */
  writable?: boolean
  /** Instead of size/num/overlap: one segment of this many bytes. */
  capacity?: number
  /** Leading == trailing size checks ("[DEBUG]" errors); SHMIO_DEBUG=true does the same. */
  debugChecks?: boolean
  /** Fault every page in at open. */
  prefault?: boolean
}

export interface SharedMemoryConfigInForce {
  path: string
  size: number
  num: number
  overlap: number
  writable: boolean
  capacity: number
  debugChecks: boolean
}

export class SharedMemory {
  constructor(config: SharedMemoryConfig)
  getBuffers(): Buffer[]
  getConfig(): SharedMemoryConfigInForce
  close(): void
}

/** The parts of a bendec instance a Pool uses. */
export interface BendecLike<W = unknown> {
  getSize(typeName: string): number
  wrap(typeName: string, buffer: Buffer): W
}

export class Pool<W = any> {
  constructor(bendec: BendecLike<W> | null | undefined, sharedMemory: SharedMemory)
  bendec: BendecLike<W> | null | undefined
  slice(typeName: string): Buffer
  sliceSize(size: number): Buffer
  wrap(typeName: string): W
  commit(): void
  /** [committed size, bytes appended since the last commit] */
  getSize(): [number, number]
  /** [segment index, offset in the segment] */
  getStatus(): [number, number]
  setActive(active: boolean): void
}

export interface GetAllOptions {
  mode?: 'auto' | 'timer' | 'inotify'
  safetyIntervalMs?: number
  maxFrames?: number
  maxBytes?: number
}

export class SharedMemoryIterator implements IterableIterator<Buffer> {
  constructor(sharedMemory: SharedMemory, fromIndex: number, toIndex: number)
  [Symbol.iterator](): IterableIterator<Buffer>
  next(): IteratorResult<Buffer>
}

export class SharedMemoryConsumer {
  constructor(sharedMemory: SharedMemory)
  getData(fromIndex?: number): SharedMemoryIterator
  getAll(pollInterval?: number, options?: GetAllOptions): Observable<Iterable<Buffer>>
}

// ---- Upstream 1.x's API ----------------------------------------------------

export const DEFAULT_MAX_MESSAGES: number
export const DEFAULT_MAX_BYTES: number

export type ShmIteratorErrorCode =
  | 'ERR_SHM_ITERATOR_CLOSED'
  | 'ERR_SHM_CURSOR'
  | 'ERR_SHM_FRAME_CORRUPT'
  | 'ERR_SHM_MAPPING_GONE'

export function isShmIteratorError(error: unknown): error is Error & { code: ShmIteratorErrorCode }

export interface NextBatchOptions {
  maxMessages?: number
  maxBytes?: number
  debugChecks?: boolean
}

export interface ShmIterator {
  next(): Buffer | null
  nextBatch(options?: NextBatchOptions): Buffer[]
  cursor(): bigint
  committedSize(): bigint
  seek(position: bigint): void
  close(): void
}

export interface ShmWriter {
  allocate(size: number, options?: { debugChecks?: boolean }): Buffer
  commit(): void
  close(): void
  getLastAllocatedAddress(): bigint | null
  getBufferAtAddress(address: bigint): Buffer
}

export interface MemHeader {
  readonly headerSize: bigint
  readonly dataOffset: bigint
  readonly size: bigint
}

export interface SubscribeOptions {
  startCursor?: bigint
  mode?: 'auto' | 'timer' | 'inotify'
  pollIntervalMs?: number
  safetyIntervalMs?: number
  maxMessages?: number
  maxBytes?: number
  onError?: (error: Error & { code?: string }) => void
}

export interface LogSubscription {
  close(): void
  mode(): 'inotify' | 'timer' | 'closed'
}

interface SharedLogBase {
  header: MemHeader
  createIterator(options?: { startCursor?: bigint }): ShmIterator
  subscribe(onFrames: (frames: Buffer[], cursor: bigint) => void, options?: SubscribeOptions): LogSubscription
  close(): void
}

export interface WritableSharedLogOptions {
  path: string
  capacityBytes: number | bigint
  writable: true
  debugChecks?: boolean
}

export interface ReadonlySharedLogOptions {
  path: string
  writable: false
  capacityBytes?: number | bigint
  debugChecks?: boolean
}

export type SharedLogOptions = WritableSharedLogOptions | ReadonlySharedLogOptions

export interface SharedLog extends SharedLogBase {
  writer?: ShmWriter
}

// ---- Chains of files and named readers (createSharedLog({path, chain})) ----

/** A chain's settings, at creation (retention may be changed by a later writer). */
export interface ChainSettings {
  /** Bytes of each file (required when the chain is created; at most 2^32). */
  fileCapacity?: number
  /** Keep at most this many files (0: no limit). */
  retainFiles?: number
  /** Keep at most this many bytes of files (0: no limit). */
  retainBytes?: number
  /** Keep files sealed less than this long ago (0: no limit). */
  retainSeconds?: number
  /** Named readers further behind than this many bytes may be dropped. */
  maxReaderLag?: number
  /** Drop a named reader retention would leave behind, instead of refusing the roll. */
  dropSlowReaders?: boolean
  /** The position of the chain's first frame, at creation. */
  firstPosition?: bigint
  /** Prefault each new file as it is prepared. */
  prefault?: boolean
}

export interface WritableChainLogOptions {
  /** The chain's directory (/dev/shm/NAME). */
  path: string
  /** true: an existing chain as it is; or its settings. */
  chain: true | ChainSettings
  writable: true
  debugChecks?: boolean
}

export interface ReadonlyChainLogOptions {
  path: string
  chain: true | ChainSettings
  writable?: false
  debugChecks?: boolean
}

export type ChainLogOptions = WritableChainLogOptions | ReadonlyChainLogOptions

/** Where a chain reader starts: a saved position, or the oldest frame / the end. */
export interface ChainStartOptions {
  startCursor?: bigint
  start?: 'beginning' | 'end'
}

export interface ChainIteratorOptions extends ChainStartOptions {
  /** A named reader: resumes at its acknowledged position, protected from retention. */
  name?: string
}

/** Codes a chain log adds to 1.x's. */
export type ChainErrorCode =
  | ShmIteratorErrorCode
  | 'ERR_SHM_FRAMES_LOST'
  | 'ERR_SHM_WRITER_CLOSED'
  | 'ERR_SHM_FAILED_PRECONDITION'
  | 'ERR_SHM_EXHAUSTED'
  | 'ERR_SHM_NOT_FOUND'
  | 'ERR_SHM_INVALID_ARGUMENT'

export interface ChainIterator {
  next(): Buffer | null
  /** One file's frames at most; maxBytes counts payload bytes. */
  nextBatch(options?: { maxMessages?: number; maxBytes?: number }): Buffer[]
  cursor(): bigint
  committedSize(): bigint
  seek(position: bigint): void
  seekToEnd(): void
  seekToBeginning(): void
  /** A named reader's acknowledgement (default: the cursor). */
  ack(position?: bigint): void
  acked(): bigint
  readonly name: string
  close(): void
}

export interface ChainWriterStats {
  committed: bigint
  uncommitted: bigint
  rolls: number
  filesRemoved: number
  currentFile: string
}

export interface ChainLogWriter {
  /** A zero-copy Buffer for one frame; fill it before the next allocate(). */
  allocate(size: number): Buffer
  append(payload: Uint8Array): void
  commit(): void
  flush(): void
  stats(): ChainWriterStats
  close(): void
}

export interface ChainSubscribeOptions extends ChainStartOptions {
  name?: string
  /** With name: acknowledge each batch once onFrames returns (default true). */
  autoAck?: boolean
  mode?: 'auto' | 'timer' | 'inotify'
  pollIntervalMs?: number
  safetyIntervalMs?: number
  maxMessages?: number
  maxBytes?: number
  onError?: (error: Error & { code?: string }) => void
}

export interface ChainSubscription {
  /** Resolves once the handles are closed and a name is free again. */
  close(): Promise<void>
  mode(): 'inotify' | 'timer' | 'closed'
  cursor(): bigint
  ack(position?: bigint): void
}

export interface ChainInfo {
  directory: string
  writable: boolean
  debugChecks: boolean
  fileCapacity?: number
  retainFiles?: number
  retainBytes?: number
  retainSeconds?: number
  maxReaderLag?: number
  dropSlowReaders?: boolean
}

export interface ChainLog {
  readonly chain: true
  readonly path: string
  writer?: ChainLogWriter
  info(): ChainInfo
  createIterator(options?: ChainIteratorOptions): ChainIterator
  subscribe(onFrames: (frames: Buffer[], cursor: bigint) => void, options?: ChainSubscribeOptions): ChainSubscription
  close(): void
}

export function createSharedLog(options: WritableChainLogOptions): ChainLog & { writer: ChainLogWriter }
export function createSharedLog(options: ChainLogOptions): ChainLog

export function createSharedLog(options: WritableSharedLogOptions): SharedLogBase & { writer: ShmWriter }
export function createSharedLog(options: SharedLogOptions): SharedLog

// ---- Diagnostics -----------------------------------------------------------

/** libuv's counters for this thread's event loop. */
export function loopMetrics(): { loopCount: number; events: number; eventsWaiting: number }
