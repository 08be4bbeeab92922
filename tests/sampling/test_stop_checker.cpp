#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sampling/stop_checker.hpp"

namespace {

using namespace ovllm::sampling;
using ovllm::SamplingParams;
using Ids = std::vector<int64_t>;

// Appends each delta to the text and checks it, as the engine does per token; returns the
// status of the first finishing delta (or the last status).
StopStatus feed(const StopChecker& checker, std::string& text,
                const std::vector<std::string>& deltas) {
    StopStatus status;
    for (const std::string& delta : deltas) {
        text += delta;
        status = checker.check_text(text, delta.size());
        if (status.finished()) break;
    }
    return status;
}

TEST(StopChecker, FindsAStopStringSplitAcrossTokens) {
    SamplingParams params;
    params.stop = {"STOP"};
    const StopChecker checker(params, Ids{}, 100);
    std::string text;
    const StopStatus status = feed(checker, text, {"ab", "ST", "O", "P!", "more"});
    EXPECT_EQ(status.reason, FinishReason::stop);
    EXPECT_EQ(status.stop_string, 0);
    EXPECT_EQ(text, "ab");
}

TEST(StopChecker, KeepsTheStopStringWhenAsked) {
    SamplingParams params;
    params.stop = {"STOP"};
    params.include_stop_str_in_output = true;
    const StopChecker checker(params, Ids{}, 100);
    std::string text;
    const StopStatus status = feed(checker, text, {"ab", "ST", "O", "P!"});
    EXPECT_EQ(status.reason, FinishReason::stop);
    EXPECT_EQ(text, "abSTOP");
}

TEST(StopChecker, TheEarliestMatchWins) {
    SamplingParams params;
    params.stop = {"cd", "bc"};
    const StopChecker checker(params, Ids{}, 100);
    std::string text;
    const StopStatus status = feed(checker, text, {"a", "bcd"});
    EXPECT_EQ(status.stop_string, 1);
    EXPECT_EQ(text, "a");
}

TEST(StopChecker, MatchesInsideOneDelta) {
    SamplingParams params;
    params.stop = {"\n\n"};
    const StopChecker checker(params, Ids{}, 100);
    std::string text = "Hello";
    const StopStatus status = feed(checker, text, {" world\n\nBye"});
    EXPECT_EQ(status.reason, FinishReason::stop);
    EXPECT_EQ(text, "Hello world");
}

TEST(StopChecker, OnlySearchesWhereANewMatchCanEnd) {
    SamplingParams params;
    params.stop = {"ab"};
    const StopChecker checker(params, Ids{}, 100);
    std::string text = "xxab";  // already there before this delta: not a new match
    text += "c";
    EXPECT_FALSE(checker.check_text(text, 1).finished());
    EXPECT_EQ(text, "xxabc");
    EXPECT_FALSE(checker.check_text(text, 0).finished());
}

TEST(StopChecker, WorksOnMultiByteText) {
    SamplingParams params;
    params.stop = {"é!"};
    const StopChecker checker(params, Ids{}, 100);
    std::string text;
    const std::string e_acute = "é";
    const StopStatus status =
        feed(checker, text, {"caf", e_acute.substr(0, 1), e_acute.substr(1) + "!"});
    EXPECT_TRUE(status.finished());
    EXPECT_EQ(text, "caf");
}

TEST(StopChecker, StopTokenIdsAndEos) {
    SamplingParams params;
    params.stop_token_ids = {4};
    const Ids eos{2};
    const StopChecker checker(params, eos, 100);
    const StopStatus by_id = checker.check_token(4, 1, 10);
    EXPECT_EQ(by_id.reason, FinishReason::stop);
    ASSERT_TRUE(by_id.stop_token.has_value());
    EXPECT_EQ(*by_id.stop_token, 4);
    const StopStatus by_eos = checker.check_token(2, 1, 10);
    EXPECT_EQ(by_eos.reason, FinishReason::stop);
    EXPECT_FALSE(by_eos.stop_token.has_value());
    EXPECT_FALSE(checker.check_token(3, 1, 10).finished());

    params.ignore_eos = true;
    const StopChecker ignoring(params, eos, 100);
    EXPECT_FALSE(ignoring.check_token(2, 1, 10).finished());
    EXPECT_TRUE(ignoring.check_token(4, 1, 10).finished());
}

TEST(StopChecker, LengthLimits) {
    SamplingParams params;
    params.max_tokens = 3;
    const Ids eos{2};
    const StopChecker checker(params, eos, 10);
    EXPECT_FALSE(checker.check_token(7, 2, 5).finished());
    EXPECT_EQ(checker.check_token(7, 3, 6).reason, FinishReason::length);
    // The limit is checked first: an EOS as the last allowed token still reads "length".
    EXPECT_EQ(checker.check_token(2, 3, 6).reason, FinishReason::length);
    // Context limit: prompt + output reached max_model_len.
    EXPECT_EQ(checker.check_token(7, 1, 10).reason, FinishReason::length);

    params.max_tokens.reset();
    const StopChecker unbounded(params, eos, 10);
    EXPECT_FALSE(unbounded.check_token(7, 500, 9).finished());
    EXPECT_EQ(unbounded.check_token(7, 500, 10).reason, FinishReason::length);
}

TEST(StopChecker, MinTokensDefersEosAndStopIds) {
    SamplingParams params;
    params.min_tokens = 2;
    params.stop_token_ids = {4};
    const Ids eos{2};
    const StopChecker checker(params, eos, 100);
    EXPECT_FALSE(checker.check_token(2, 1, 5).finished());
    EXPECT_FALSE(checker.check_token(4, 1, 5).finished());
    EXPECT_TRUE(checker.check_token(2, 2, 6).finished());
}

TEST(StopChecker, HoldsBackOnlyWhatCouldStartAStopString) {
    SamplingParams params;
    params.stop = {"</end>", "xyz"};
    const StopChecker checker(params, Ids{}, 100);
    EXPECT_EQ(checker.max_hold_back(), 5u);
    EXPECT_EQ(checker.emittable_bytes("hello </e", false), 6u);
    EXPECT_EQ(checker.emittable_bytes("hello <", false), 6u);
    EXPECT_EQ(checker.emittable_bytes("hello xy", false), 6u);
    EXPECT_EQ(checker.emittable_bytes("hello", false), 5u);
    EXPECT_EQ(checker.emittable_bytes("hello </e", true), 9u);
    EXPECT_EQ(checker.emittable_bytes("</en", false), 0u);
    EXPECT_EQ(checker.emittable_bytes("", false), 0u);

    params.include_stop_str_in_output = true;
    const StopChecker including(params, Ids{}, 100);
    EXPECT_EQ(including.max_hold_back(), 0u);
    EXPECT_EQ(including.emittable_bytes("hello </e", false), 9u);

    SamplingParams none;
    const StopChecker plain(none, Ids{}, 100);
    EXPECT_EQ(plain.emittable_bytes("hello <", false), 7u);
}

TEST(StopChecker, FinishReasonNames) {
    EXPECT_EQ(to_string(FinishReason::stop), "stop");
    EXPECT_EQ(to_string(FinishReason::length), "length");
    EXPECT_EQ(to_string(FinishReason::none), "");
}

}  // namespace
