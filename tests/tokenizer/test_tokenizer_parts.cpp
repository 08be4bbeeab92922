// Behaviour of the tokenizer stages on small hand-made configurations, with expected values
// from the `tokenizers` documentation and semantics.
#include <thread>

#include <gtest/gtest.h>

#include "golden_cases.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {
namespace {

std::vector<std::string> pre_tokenize(const std::string& config, const std::string& text) {
    const auto pre = make_pre_tokenizer(Json::parse(config), {"test", ""});
    std::vector<std::string> pieces{text};
    pre->split(pieces, true);
    return pieces;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizers, SplitBehaviors) {
    const std::string text = "the-final--countdown";
    const auto split = [&](const std::string& behavior) {
        return pre_tokenize(R"({"type":"Split","pattern":{"String":"-"},"behavior":")" + behavior +
                                R"(","invert":false})",
                            text);
    };
    EXPECT_EQ(split("Removed"), (Pieces{"the", "final", "countdown"}));
    EXPECT_EQ(split("Isolated"), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
    EXPECT_EQ(split("MergedWithPrevious"), (Pieces{"the-", "final-", "-", "countdown"}));
    EXPECT_EQ(split("MergedWithNext"), (Pieces{"the", "-final", "-", "-countdown"}));
    EXPECT_EQ(split("Contiguous"), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizers, DigitsPunctuationWhitespace) {
    EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":true})", "a123b"),
              (Pieces{"a", "1", "2", "3", "b"}));
    EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":false})", "a123b"),
              (Pieces{"a", "123", "b"}));
    EXPECT_EQ(pre_tokenize(R"({"type":"Punctuation"})", "Hey, you!"),
              (Pieces{"Hey", ",", " you", "!"}));
    EXPECT_EQ(pre_tokenize(R"({"type":"WhitespaceSplit"})", " a  b\tc "), (Pieces{"a", "b", "c"}));
    EXPECT_EQ(pre_tokenize(R"({"type":"Whitespace"})", "Hey man!! ok"),
              (Pieces{"Hey", "man", "!!", "ok"}));
}

TEST(PreTokenizers, ByteLevelAndMetaspace) {
    // GPT-2 split; space becomes U+0120 'Ġ'.
    EXPECT_EQ(pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})",
                           "Hello world's  end"),
              (Pieces{"Hello", "\xC4\xA0world", "'s", "\xC4\xA0",
                      "\xC4\xA0"
                      "end"}));
    EXPECT_EQ(
        pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":false})", "hi"),
        (Pieces{"\xC4\xA0hi"}));
    EXPECT_EQ(
        pre_tokenize(
            R"({"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always","split":true})",
            "Hey friend"),
        (Pieces{"\xE2\x96\x81Hey",
                "\xE2\x96\x81"
                "friend"}));
}

TEST(Normalizers, Forms) {
    const auto run = [](const std::string& config, std::string text) {
        make_normalizer(Json::parse(config), {"test", ""})->normalize(text);
        return text;
    };
    EXPECT_EQ(run(R"({"type":"NFC"})", "e\xCC\x81"), "\xC3\xA9");
    EXPECT_EQ(run(R"({"type":"NFKC"})", "\xEF\xAC\x81"), "fi");  // U+FB01 ligature
    EXPECT_EQ(run(R"({"type":"Lowercase"})", "HeLLo \xC3\x89"), "hello \xC3\xA9");
    EXPECT_EQ(run(R"({"type":"Strip","strip_left":true,"strip_right":true})", "  a b \n"), "a b");
    EXPECT_EQ(
        run(R"({"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"_"},{"type":"Replace","pattern":{"String":" "},"content":"_"}]})",
            "a b"),
        "_a_b");
    EXPECT_EQ(run(R"({"type":"Prepend","prepend":"_"})", ""), "");
}

TEST(Decoders, ByteFallbackFuseStrip) {
    const auto run = [](const std::string& config, std::vector<std::string> tokens) {
        make_decoder(Json::parse(config), {"test", ""})->decode_chain(tokens);
        std::string out;
        for (const auto& t : tokens) out += t;
        return out;
    };
    const std::string seq =
        R"({"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"}]})";
    EXPECT_EQ(run(seq, {"a", "<0xE4>", "<0xB8>", "<0xAD>", "b"}),
              "a\xE4\xB8\xAD"
              "b");
    // An invalid run: one U+FFFD per byte.
    EXPECT_EQ(run(seq, {"<0x74>", "<0xF6>"}), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(run(R"({"type":"Strip","content":" ","start":1,"stop":0})", {"  a "}), " a ");
    EXPECT_EQ(run(R"({"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always"})",
                  {"\xE2\x96\x81Hey", "\xE2\x96\x81you"}),
              "Hey you");
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
    std::string out;
    // E2 82 is a truncated 3-byte sequence (one U+FFFD); C0 and FF are invalid alone.
    utf8::append_lossy(out,
                       "a\xE2\x82"
                       "b\xC0\xFF");
    EXPECT_EQ(out,
              "a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

const std::string kModel =
    R"("model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2," ":3,"<unk>":4,"<0x61>":5,"<0xC3>":6,"<0xA9>":7},)"
    R"("merges":["a b"],"unk_token":"<unk>","fuse_unk":true,"byte_fallback":true})";

TEST(Bpe, ByteFallbackAndFusedUnk) {
    const Tokenizer tok = Tokenizer::from_json_text("{" + kModel + "}");
    // 'é' (C3 A9) spelled with byte tokens; 'x' has no byte token 0x78, so it is unk.
    EXPECT_EQ(tok.encode("ab\xC3\xA9xx", false), (std::vector<int64_t>{2, 6, 7, 4}));
}

TEST(AddedTokens, StripAndSingleWord) {
    const std::string added =
        R"(,"added_tokens":[{"id":10,"content":"<x>","lstrip":true,"rstrip":true,"special":true,"normalized":false},)"
        R"({"id":11,"content":"ab","single_word":true,"special":false,"normalized":false}])";
    const Tokenizer tok = Tokenizer::from_json_text("{" + kModel + added + "}");
    // lstrip/rstrip swallow the spaces around <x>.
    EXPECT_EQ(tok.encode("a  <x>  b", false), (std::vector<int64_t>{0, 10, 1}));
    // "ab" alone is the added token 11; inside "aab" it is not a single word, so BPE runs.
    EXPECT_EQ(tok.encode("ab a", false), (std::vector<int64_t>{11, 3, 0}));
    EXPECT_EQ(tok.encode("aab", false), (std::vector<int64_t>{0, 2}));
    // Without a decoder, tokens are joined with spaces.
    EXPECT_EQ(tok.decode(std::vector<int64_t>{0, 10, 1}, true), "a b");
    EXPECT_EQ(tok.decode(std::vector<int64_t>{0, 10, 1}, false), "a <x> b");
    EXPECT_TRUE(tok.is_special(10));
    EXPECT_FALSE(tok.is_special(11));
    EXPECT_EQ(tok.token_to_id("<x>"), 10);
    EXPECT_EQ(tok.id_to_token(10), "<x>");
    EXPECT_EQ(tok.vocab_size(), 12u);
    EXPECT_FALSE(tok.id_to_token(9).has_value());
}

TEST(Tokenizer, EncodeIsThreadSafe) {
    const Tokenizer& tok = test::golden_tokenizer("qwen2.5");
    const auto cases = test::read_jsonl(test::golden_tokenizer_dir("qwen2.5") / "cases.jsonl");
    std::vector<std::thread> threads;
    std::vector<size_t> mismatches(4, 0);
    for (size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (size_t i = t; i < cases.size(); i += 2) {
                if (tok.encode(cases[i]["text"].get<std::string>(), false) !=
                    cases[i]["ids"].get<std::vector<int64_t>>()) {
                    ++mismatches[t];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(mismatches, (std::vector<size_t>{0, 0, 0, 0}));
}

TEST(Tokenizer, ConfigTokens) {
    const Tokenizer& gemma = test::golden_tokenizer("gemma3");
    EXPECT_EQ(gemma.bos_token_id(), 2);
    EXPECT_EQ(gemma.eos_token_id(), 1);
    EXPECT_EQ(gemma.pad_token_id(), 0);
    EXPECT_EQ(gemma.eos_token()->content, "<eos>");
    const Tokenizer& qwen = test::golden_tokenizer("qwen2.5");
    EXPECT_FALSE(qwen.bos_token().has_value());  // "bos_token": null
    EXPECT_EQ(qwen.eos_token_id(), 151643);
    EXPECT_EQ(qwen.vocab_size(), 151936u);  // vocabulary ids run to 151935
}

TEST(Tokenizer, RealModelFoldersLoad) {
    size_t loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ovllm::test::models_dir())) {
        if (!std::filesystem::exists(entry.path() / "tokenizer.json")) continue;
        const Tokenizer tok = Tokenizer::from_folder(entry.path());
        const auto ids = tok.encode("Hello, world! <|im_start|>user", false);
        EXPECT_EQ(tok.decode(ids, false), "Hello, world! <|im_start|>user") << entry.path();
        EXPECT_TRUE(tok.eos_token_id().has_value()) << entry.path();
        ++loaded;
    }
    EXPECT_GE(loaded, 2u);
}

}  // namespace
}  // namespace ovllm::tokenizer
