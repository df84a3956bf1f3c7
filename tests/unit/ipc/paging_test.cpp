// Answers of any size: split into `more` events within the frame limit, and put back together.
#include "ipc/paging.h"

#include <gtest/gtest.h>

namespace touchpass::ipc {
namespace {

Json big_answer(int entries) {
  Json list = Json::array();
  for (int i = 0; i < entries; ++i) {
    list.push_back({{"seq", i + 1}, {"detail", std::string(200, 'x')}});
  }
  Json answer = Json::object();
  answer["entries"] = list;
  answer["chain_ok"] = true;
  return answer;
}

// Sends `answer` through paged_ok_messages and an assembler, as a client would read it.
Json round_trip(const Json& answer, std::size_t limit, std::size_t* message_count) {
  auto messages = paged_ok_messages(answer, limit);
  EXPECT_TRUE(messages.ok());
  if (!messages.ok()) return Json();
  *message_count = messages->size();
  PageAssembler pages;
  for (const std::string& m : *messages) {
    EXPECT_LE(m.size(), limit);
    auto reply = Reply::parse(m);
    EXPECT_TRUE(reply.ok());
    if (reply->kind == Reply::Kind::event) {
      EXPECT_EQ(reply->event, kMoreEvent);
      EXPECT_TRUE(pages.absorb(reply->body).ok());
    } else {
      EXPECT_TRUE(pages.complete(reply->body).ok());
      return reply->body;
    }
  }
  return Json();
}

TEST(PagingTest, ASmallAnswerIsOneMessage) {
  std::size_t count = 0;
  EXPECT_EQ(round_trip(big_answer(3), kMaxJsonSize, &count), big_answer(3));
  EXPECT_EQ(count, 1u);
}

TEST(PagingTest, ALargeAnswerComesBackWholeAndInOrder) {
  std::size_t count = 0;
  const Json answer = big_answer(10000);  // about 2.3 MB
  EXPECT_EQ(round_trip(answer, kMaxJsonSize, &count), answer);
  EXPECT_GT(count, 30u);
}

TEST(PagingTest, TwoLongListsComeBackWholeInFullMessages) {
  Json answer = big_answer(4000);
  Json grants = Json::array();
  for (int i = 0; i < 3000; ++i) grants.push_back({{"name", "g" + std::to_string(i)}});
  answer["grants"] = grants;
  std::size_t count = 0;
  const std::size_t limit = 16 * 1024;
  EXPECT_EQ(round_trip(answer, limit, &count), answer);
  // Each piece is filled close to the limit: hardly more messages than the size needs.
  const std::size_t whole = ok_message(answer).size();
  EXPECT_LE(count, whole / (limit - 512) + 2) << whole;
}

TEST(PagingTest, WhatCannotBeSplitIsAnErrorNotATruncation) {
  Json huge = Json::object();
  huge["entries"] = Json::array({std::string(kMaxJsonSize, 'x'), "y"});
  EXPECT_EQ(paged_ok_messages(huge).code(), Code::internal);
  Json single = Json::object();
  single["text"] = std::string(kMaxJsonSize, 'x');
  EXPECT_EQ(paged_ok_messages(single).code(), Code::internal);
}

TEST(PagingTest, TheAssemblerRefusesMalformedPiecesAndTooMuch) {
  PageAssembler pages(1000);
  EXPECT_EQ(pages.absorb({{"key", 1}, {"items", Json::array()}}).code(), Code::protocol_error);
  EXPECT_EQ(pages.absorb({{"items", Json::array()}}).code(), Code::protocol_error);
  EXPECT_TRUE(pages.absorb({{"key", "entries"}, {"items", {1, 2, 3}}}).ok());
  Json no_list = {{"other", Json::array()}};
  EXPECT_EQ(pages.complete(no_list).code(), Code::protocol_error);
  PageAssembler small(100);
  EXPECT_EQ(small.absorb({{"key", "entries"}, {"items", {std::string(200, 'x')}}}).code(),
            Code::protocol_error);
}

}  // namespace
}  // namespace touchpass::ipc
