// The benchmark's message check is what turns a lossy or torn run into an
// error: it must accept every message the maker writes and reject any other.
#include "bench/message.h"

#include <vector>

#include "gtest/gtest.h"

namespace bench {
namespace {

TEST(MessageTest, EveryMadeMessageVerifies) {
  for (size_t size : {16, 32, 256, 1024}) {
    MessageMaker maker(size);
    std::vector<uint8_t> message(size);
    for (uint64_t sequence : {0ull, 1ull, 7ull, 123456789ull, ~0ull}) {
      maker.Fill(sequence, message.data());
      EXPECT_TRUE(VerifyMessage(message, size, sequence).ok())
          << "size " << size << " sequence " << sequence;
      EXPECT_EQ(SequenceOf(message.data()), sequence);
    }
  }
}

TEST(MessageTest, WrongSequenceIsDataLoss) {
  MessageMaker maker(32);
  std::vector<uint8_t> message(32);
  maker.Fill(41, message.data());
  absl::Status status = VerifyMessage(message, 32, 42);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("expected message 42, got 41"),
            absl::string_view::npos)
      << status;
}

TEST(MessageTest, AnyChangedByteIsDataLoss) {
  MessageMaker maker(64);
  std::vector<uint8_t> message(64);
  // Every byte after the sequence number is covered by the checksum (a
  // changed sequence number shows as the wrong sequence instead).
  for (size_t i = 8; i < message.size(); ++i) {
    maker.Fill(5, message.data());
    message[i] ^= 0x10;
    EXPECT_EQ(VerifyMessage(message, 64, 5).code(),
              absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
}

TEST(MessageTest, AllZeroBytesAreNotAMessage) {
  // What a reader would see if it read a frame before the writer filled it.
  std::vector<uint8_t> zeros(32, 0);
  MessageMaker maker(32);
  EXPECT_FALSE(VerifyMessage(zeros, 32, 0).ok());
}

TEST(MessageTest, WrongLengthIsDataLoss) {
  MessageMaker maker(32);
  std::vector<uint8_t> message(32);
  maker.Fill(0, message.data());
  EXPECT_EQ(VerifyMessage(absl::MakeConstSpan(message.data(), 24), 32, 0).code(),
            absl::StatusCode::kDataLoss);
}

TEST(MessageTest, SizesThatCannotHoldAMessageAreRejected) {
  EXPECT_TRUE(CheckMessageSize(16).ok());
  EXPECT_TRUE(CheckMessageSize(1024).ok());
  EXPECT_EQ(CheckMessageSize(8).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckMessageSize(33).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bench
