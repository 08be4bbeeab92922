// The grammar stage on a tiny raw vocabulary, no model: which tokens each grammar allows,
// how the stage finishes, the compile cache, and the sampler wiring.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "error_pieces.hpp"
#include "sampling/sampler.hpp"
#include "structured_output/grammar_compiler.hpp"
#include "structured_output/sequence_grammar.hpp"
#include "util/error.hpp"

namespace {

using namespace ovllm;
using namespace ovllm::structured;

// A raw vocabulary (token strings are the text); "<eos>" is the stop token. The last two
// ids have no token, like the padding columns of a model's logits.
const std::vector<std::string> kTokens = {
    "<eos>", "{", "}", "\"", ":", ",", "a", "b",    "1",     "2",     "12", "yes",
    "no",    "y", "n", "x",  " ", "[", "]", "true", "false", "\"a\"", "",   "",
};
constexpr int64_t kEos = 0;

int64_t id_of(const std::string& token) {
    for (size_t i = 0; i < kTokens.size(); ++i)
        if (kTokens[i] == token && !token.empty()) return static_cast<int64_t>(i);
    ADD_FAILURE() << "no token " << token;
    return -1;
}

GrammarVocabulary tiny_vocab() {
    GrammarVocabulary vocab;
    vocab.tokens = kTokens;
    vocab.type = VocabType::raw;
    vocab.stop_token_ids = {static_cast<int32_t>(kEos)};
    return vocab;
}

GrammarCompiler& compiler() {
    static GrammarCompiler instance(tiny_vocab(), 1);
    return instance;
}

StructuredOutputs regex(const std::string& text) {
    StructuredOutputs so;
    so.regex = text;
    return so;
}
StructuredOutputs schema(const std::string& text) {
    StructuredOutputs so;
    so.json = text;
    return so;
}

// The set of token strings the grammar allows next.
std::set<std::string> allowed(SequenceGrammar& grammar) {
    std::vector<float> row(kTokens.size(), 0.0f);
    std::vector<int32_t> bitmask;
    const size_t count = grammar.mask_logits(row, bitmask);
    std::set<std::string> out;
    for (size_t i = 0; i < row.size(); ++i)
        if (!std::isinf(row[i])) out.insert(kTokens[i]);
    EXPECT_EQ(out.size(), count);
    return out;
}

TEST(GrammarMask, ChoiceAllowsOnlyPrefixesOfTheChoices) {
    StructuredOutputs so;
    so.choice = std::vector<std::string>{"yes", "no"};
    SequenceGrammar grammar(compiler().compile(so));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"yes", "no", "y", "n"}));
    ASSERT_TRUE(grammar.accept(id_of("y")));
    // No token spells "e", "es" or "s": after "y" the grammar allows nothing.
    EXPECT_TRUE(allowed(grammar).empty());
}

TEST(GrammarMask, ChoiceEndsWithTheStopTokenThenTerminates) {
    StructuredOutputs so;
    so.choice = std::vector<std::string>{"yes", "no"};
    SequenceGrammar grammar(compiler().compile(so));
    ASSERT_TRUE(grammar.accept(id_of("no")));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"<eos>"}));
    EXPECT_FALSE(grammar.terminated());
    EXPECT_FALSE(grammar.accept(id_of("x")));  // refused, state unchanged
    ASSERT_TRUE(grammar.accept(kEos));
    EXPECT_TRUE(grammar.terminated());
}

TEST(GrammarMask, RegexDigits) {
    SequenceGrammar grammar(compiler().compile(regex("[12]{2}")));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"1", "2", "12"}));
    ASSERT_TRUE(grammar.accept(id_of("1")));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"1", "2"}));
    ASSERT_TRUE(grammar.accept(id_of("2")));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"<eos>"}));
}

// Compact JSON as xgrammar writes it without free whitespace: {"a": false}.
TEST(GrammarMask, JsonSchemaObjectIsCompact) {
    SequenceGrammar grammar(compiler().compile(schema(
        R"({"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]})")));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"{"}));
    ASSERT_TRUE(grammar.accept(id_of("{")));
    // Only the required key may follow: its quote, or the whole quoted key as one token.
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"\"", "\"a\""}));
    for (const char* token : {"\"a\"", ":"}) ASSERT_TRUE(grammar.accept(id_of(token)));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{" "}));
    for (const char* token : {" ", "false", "}"}) ASSERT_TRUE(grammar.accept(id_of(token)));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{"<eos>"}));
}

TEST(GrammarMask, EbnfGrammar) {
    StructuredOutputs so;
    so.grammar = R"(root ::= "[" item ("," item)* "]"
item ::= "a" | "b")";
    SequenceGrammar grammar(compiler().compile(so));
    for (const char* token : {"[", "a", ",", "b"}) ASSERT_TRUE(grammar.accept(id_of(token)));
    EXPECT_EQ(allowed(grammar), (std::set<std::string>{",", "]"}));
}

TEST(GrammarMask, RowWidthMustMatchTheVocabulary) {
    SequenceGrammar grammar(compiler().compile(regex("a")));
    std::vector<float> row(kTokens.size() - 1, 0.0f);
    std::vector<int32_t> bitmask;
    EXPECT_THROW(grammar.mask_logits(row, bitmask), Error);
}

TEST(GrammarCache, SameTextCompilesOnce) {
    GrammarCompiler local(tiny_vocab(), 1);
    const auto first = local.compile(regex("(ab)+"));
    const auto second = local.compile(regex("(ab)+"));
    EXPECT_EQ(first.get(), second.get());
    StructuredOutputs as_grammar;
    as_grammar.grammar = "root ::= \"(ab)+\"";
    const auto third = local.compile(as_grammar);  // other form: its own entry
    EXPECT_NE(first.get(), third.get());
    EXPECT_EQ(local.stats().compiles, 2u);
    EXPECT_EQ(local.stats().cache_hits, 1u);
}

TEST(GrammarErrors, InvalidInputsNameTheirPlace) {
    using test::expect_error;
    expect_error([] { compiler().compile(regex("(ab")); },
                 {"structured output regex is invalid: Regex parsing error at position 4"});
    StructuredOutputs so;
    so.grammar = "root ::= \"a\" |\nitem ::= ";
    // xgrammar's EBNF parser reports the line and column.
    expect_error([&] { compiler().compile(so); }, {"structured output grammar", "line 2"});
    // The trailing comma: line 2, column 11.
    expect_error([] { compiler().compile(schema("{\"type\": \n \"object\",}")); },
                 {"not valid JSON at 2:11"});
}

// The sampler's grammar stage: a model that prefers "x" still produces the grammar's text,
// and the row reports the grammar's end.
TEST(SamplerGrammarStage, MaskBeforeSamplingAcceptAfter) {
    sampling::Sampler sampler(0, 2);
    SamplingParams params;
    params.temperature = 0.0f;
    SequenceGrammar grammar(compiler().compile(regex("1(2)?")));
    std::vector<int64_t> output;
    sampling::SamplerOutput out;
    for (int step = 0; step < 4; ++step) {
        std::vector<float> logits(kTokens.size(), 0.0f);
        logits[id_of("x")] = 10.0f;  // the "model" wants x
        logits[id_of("2")] = 5.0f;   // then 2
        logits[id_of("1")] = 1.0f;
        sampling::SamplerRow row;
        row.params = &params;
        row.output_ids = output;
        row.grammar = &grammar;
        sampler.sample(logits, kTokens.size(), std::span(&row, 1), out);
        output.push_back(out.rows[0].token_id);
        if (out.rows[0].grammar_terminated) break;
    }
    EXPECT_EQ(output, (std::vector<int64_t>{id_of("1"), id_of("2"), kEos}));
    EXPECT_TRUE(out.rows[0].grammar_terminated);
    EXPECT_FALSE(out.rows[0].grammar_rejected);
}

class SamplerNoAllowedToken : public ::testing::TestWithParam<float> {};

TEST_P(SamplerNoAllowedToken, IsReported) {
    sampling::Sampler sampler(0, 1);
    SamplingParams params;
    params.temperature = GetParam();
    params.min_tokens = 5;  // hides EOS, the only token the finished grammar allows
    SequenceGrammar grammar(compiler().compile(regex("1")));
    ASSERT_TRUE(grammar.accept(id_of("1")));
    std::vector<float> logits(kTokens.size(), 0.0f);
    const std::vector<int64_t> eos = {kEos}, output = {id_of("1")};
    sampling::SamplerRow row;
    row.params = &params;
    row.output_ids = output;
    row.eos_ids = eos;
    row.grammar = &grammar;
    sampling::SamplerOutput out;
    sampler.sample(logits, kTokens.size(), std::span(&row, 1), out);
    EXPECT_TRUE(out.rows[0].grammar_rejected);
    EXPECT_FALSE(out.rows[0].grammar_terminated);
    EXPECT_FALSE(grammar.terminated());  // EOS was not fed to the grammar
}

INSTANTIATE_TEST_SUITE_P(GreedyAndRandom, SamplerNoAllowedToken, ::testing::Values(0.0f, 1.0f));

}  // namespace
