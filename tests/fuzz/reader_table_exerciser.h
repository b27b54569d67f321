// ExerciseReaderTableBytes: the body of the reader-table fuzzer. It writes
// arbitrary bytes as DIR/readers.shm of a small scratch chain (made once
// per process; only readers.shm is rewritten for each input, so an input
// costs a file write and a few opens) and drives it through
// ReaderTable::Open/List/Claim/Reset/Remove/Drop, a ReaderSlot, and
// ChainConsumer::OpenNamed with its Next/Ack: each must give an error or
// work, never crash, whatever the table says (names, states, positions
// anywhere). A broken promise aborts with a message.
//
// Bytes 16..23 of an input (the table's chain id) that are all zero stand
// for the scratch chain's id, which is random: seeds then reach past the
// header check; any other value is taken as it is.
#ifndef TESTS_FUZZ_READER_TABLE_EXERCISER_H_
#define TESTS_FUZZ_READER_TABLE_EXERCISER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace shmio_fuzz {

void ExerciseReaderTableBytes(const uint8_t* data, size_t size);

// Removes the scratch chain ExerciseReaderTableBytes made in process `pid`
// (a parent that forks children to run inputs removes theirs).
void RemoveReaderTableScratch(pid_t pid);

}  // namespace shmio_fuzz

#endif  // TESTS_FUZZ_READER_TABLE_EXERCISER_H_
