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

export function createSharedLog(options: WritableSharedLogOptions): SharedLogBase & { writer: ShmWriter }
export function createSharedLog(options: SharedLogOptions): SharedLog

// ---- Diagnostics -----------------------------------------------------------

/** libuv's counters for this thread's event loop. */
export function loopMetrics(): { loopCount: number; events: number; eventsWaiting: number }
