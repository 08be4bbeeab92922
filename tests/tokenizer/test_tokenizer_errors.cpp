// Malformed or unsupported tokenizer.json files give ovllm::Error naming file and JSON path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

namespace ovllm::tokenizer {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& json) {
    try {
        Tokenizer::from_json_text(json, "bad/tokenizer.json");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

const std::string kModel =
    R"("model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]})";

TEST(TokenizerErrors, MinimalFileLoads) {
    const Tokenizer tok = Tokenizer::from_json_text("{" + kModel + "}");
    EXPECT_EQ(tok.encode("ab", false), (std::vector<int64_t>{2}));
    EXPECT_EQ(tok.encode("ba", false), (std::vector<int64_t>{1, 0}));
}

TEST(TokenizerErrors, InvalidJson) {
    EXPECT_THAT(error_of("{\"model\": {"), HasSubstr("bad/tokenizer.json: invalid JSON at byte"));
    EXPECT_THAT(error_of("[1,2]"), HasSubstr("bad/tokenizer.json: expected a JSON object"));
    EXPECT_THAT(error_of("{" + kModel + "} x"), HasSubstr("trailing characters"));
    EXPECT_THAT(error_of("{\"model\": \"\\ud800\"}"), HasSubstr("lone surrogate"));
}

TEST(TokenizerErrors, MissingModel) {
    EXPECT_EQ(error_of(R"({"normalizer":null})"), "bad/tokenizer.json: model: missing field");
}

TEST(TokenizerErrors, UnsupportedModelTypes) {
    for (const std::string type : {"WordPiece", "Unigram", "WordLevel"}) {
        EXPECT_EQ(error_of(R"({"model":{"type":")" + type + R"(","vocab":{}}})"),
                  "bad/tokenizer.json: model.type: not supported yet: " + type);
    }
    EXPECT_EQ(error_of(R"({"model":{"type":"Magic"}})"),
              "bad/tokenizer.json: model.type: unknown model type 'Magic'");
}

TEST(TokenizerErrors, MergeWithMissingToken) {
    EXPECT_EQ(
        error_of(R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b","a c"]}})"),
        "bad/tokenizer.json: model.merges[1]: token 'c' is not in the vocabulary");
    EXPECT_EQ(error_of(R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a","b"]]}})"),
              "bad/tokenizer.json: model.merges[0]: merged token 'ab' is not in the vocabulary");
    EXPECT_EQ(
        error_of(R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a  b"]}})"),
        "bad/tokenizer.json: model.merges[0]: expected a merge as \"left right\" or [\"left\", "
        "\"right\"]");
}

TEST(TokenizerErrors, BadVocab) {
    EXPECT_EQ(error_of(R"({"model":{"type":"BPE","vocab":[1],"merges":[]}})"),
              "bad/tokenizer.json: model.vocab: expected an object of token: id");
    EXPECT_EQ(error_of(R"({"model":{"type":"BPE","vocab":{"a":"x"},"merges":[]}})"),
              "bad/tokenizer.json: model.vocab.a: expected an integer id from 0 to 2^31-1");
    EXPECT_EQ(error_of(R"({"model":{"type":"BPE","vocab":{"a":0}}})"),
              "bad/tokenizer.json: model.merges: missing field");
    EXPECT_EQ(
        error_of(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"}})"),
        "bad/tokenizer.json: model.unk_token: token '<unk>' is not in the vocabulary");
}

TEST(TokenizerErrors, UnknownStageTypes) {
    EXPECT_EQ(
        error_of(
            "{" + kModel +
            R"(,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Digits"},{"type":"Nope"}]}})"),
        "bad/tokenizer.json: pre_tokenizer.pretokenizers[1].type: unknown pre-tokenizer type "
        "'Nope'");
    EXPECT_EQ(
        error_of("{" + kModel +
                 R"(,"normalizer":{"type":"Sequence","normalizers":[{"type":"Bogus"}]}})"),
        "bad/tokenizer.json: normalizer.normalizers[0].type: unknown normalizer type 'Bogus'");
    EXPECT_EQ(error_of("{" + kModel + R"(,"decoder":{"type":"Wat"}})"),
              "bad/tokenizer.json: decoder.type: unknown decoder type 'Wat'");
    EXPECT_EQ(error_of("{" + kModel + R"(,"post_processor":{"type":"Zip"}})"),
              "bad/tokenizer.json: post_processor.type: unknown post-processor type 'Zip'");
    EXPECT_EQ(error_of("{" + kModel + R"(,"normalizer":{"content":"x"}})"),
              "bad/tokenizer.json: normalizer.type: missing field");
}

TEST(TokenizerErrors, BadFields) {
    EXPECT_THAT(
        error_of(
            "{" + kModel +
            R"(,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated"}})"),
        HasSubstr("bad/tokenizer.json: pre_tokenizer.pattern.Regex: cannot compile regex '(a'"));
    EXPECT_EQ(
        error_of(
            "{" + kModel +
            R"(,"pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Sideways"}})"),
        "bad/tokenizer.json: pre_tokenizer.behavior: unknown split behavior 'Sideways'");
    EXPECT_EQ(error_of("{" + kModel + R"(,"added_tokens":[{"id":5}]})"),
              "bad/tokenizer.json: added_tokens[0].content: missing field");
    EXPECT_EQ(
        error_of(
            "{" + kModel +
            R"(,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{}}})"),
        "bad/tokenizer.json: post_processor.special_tokens: special token '<s>' is not in "
        "special_tokens");
}

TEST(TokenizerErrors, MissingFiles) {
    EXPECT_THROW(Tokenizer::from_folder("/nonexistent/folder"), Error);
    EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), Error);
}

TEST(TokenizerErrors, InvalidUtf8InputIsRejected) {
    const Tokenizer tok = Tokenizer::from_json_text("{" + kModel + "}");
    try {
        tok.encode(std::string("a\xFF"
                               "b"),
                   false);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "tokenizer: input text is not valid UTF-8 (byte offset 1)");
    }
}

}  // namespace
}  // namespace ovllm::tokenizer
