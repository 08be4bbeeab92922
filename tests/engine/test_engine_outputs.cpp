// The engine's output bookkeeping without a model: a runner with scripted logits and the
// letter tokenizer (one character per token). What a user reads (text, ids, finish reasons)
// must not depend on the output kind, on stop strings split across tokens, on n, or on other
// requests being aborted; and every KV block must be free again at the end.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/output_processor.hpp"
#include "engine_fixture.hpp"
#include "ovllm/llm.hpp"
#include "scripted_engine.hpp"

namespace ovllm::test {
namespace {

const std::vector<int64_t> kPrompt = letter_ids("Say: ");

SamplingParams spelled(int max_tokens, OutputKind kind) {
    SamplingParams params = greedy(max_tokens);
    params.output_kind = kind;
    return params;
}

// Steps until idle; returns every output.
std::vector<RequestOutput> drain(engine::LLMEngine& engine) {
    std::vector<RequestOutput> all;
    while (engine.has_unfinished_requests())
        for (RequestOutput& out : engine.step()) all.push_back(std::move(out));
    return all;
}

// The text of each output's completion 0, in order.
std::vector<std::string> texts_of(const std::vector<RequestOutput>& outputs) {
    std::vector<std::string> texts;
    for (const RequestOutput& out : outputs) texts.push_back(out.outputs.at(0).text);
    return texts;
}

TEST(EngineOutputs, StepOutputsAreIncrementalWhateverTheKind) {
    // Inside the engine even a cumulative request gets only what is new each step: O(new)
    // per step, not O(text so far).
    auto engine = scripted_engine(spell(kPrompt.size(), letter_ids("hello")));
    engine->add_request("c", {{}, kPrompt}, spelled(5, OutputKind::cumulative));
    const std::vector<RequestOutput> outputs = drain(*engine);
    ASSERT_EQ(outputs.size(), 5u);
    EXPECT_EQ(texts_of(outputs), (std::vector<std::string>{"h", "e", "l", "l", "o"}));
    EXPECT_EQ(outputs[0].prompt_token_ids, kPrompt);
    for (size_t i = 1; i < outputs.size(); ++i) {
        EXPECT_EQ(outputs[i].outputs[0].token_ids.size(), 1u);
        EXPECT_TRUE(outputs[i].prompt_token_ids.empty()) << "the prompt goes out once";
    }
    expect_all_blocks_free(*engine);
}

TEST(EngineOutputs, DeltaCumulativeAndFinalOnlyGiveTheSameResult) {
    const std::string text = "hello world";
    std::map<OutputKind, std::vector<RequestOutput>> streamed;
    std::map<OutputKind, RequestOutput> results;
    for (const OutputKind kind :
         {OutputKind::cumulative, OutputKind::delta, OutputKind::final_only}) {
        LLM llm(scripted_engine(spell(kPrompt.size(), letter_ids(text))));
        const auto out = llm.generate(std::vector<std::vector<int64_t>>{kPrompt},
                                      spelled(static_cast<int>(text.size()), kind),
                                      [&](const RequestOutput& o) { streamed[kind].push_back(o); });
        ASSERT_EQ(out.size(), 1u);
        results[kind] = out[0];
        expect_all_blocks_free(llm.engine());
    }
    const RequestOutput& whole = results[OutputKind::cumulative];
    ASSERT_EQ(whole.outputs.size(), 1u);
    EXPECT_EQ(whole.outputs[0].text, text);
    EXPECT_EQ(whole.outputs[0].token_ids, letter_ids(text));
    EXPECT_EQ(whole.outputs[0].finish_reason, "length");
    EXPECT_EQ(whole.prompt_token_ids, kPrompt);
    EXPECT_TRUE(whole.finished);
    for (const OutputKind kind : {OutputKind::delta, OutputKind::final_only}) {
        const RequestOutput& r = results[kind];
        ASSERT_EQ(r.outputs.size(), 1u);
        EXPECT_EQ(r.outputs[0].text, whole.outputs[0].text);
        EXPECT_EQ(r.outputs[0].token_ids, whole.outputs[0].token_ids);
        EXPECT_EQ(r.outputs[0].finish_reason, whole.outputs[0].finish_reason);
        EXPECT_EQ(r.prompt_token_ids, whole.prompt_token_ids);
    }
    // Cumulative callbacks see growing prefixes, delta callbacks one character each,
    // final_only one output.
    ASSERT_EQ(streamed[OutputKind::cumulative].size(), text.size());
    ASSERT_EQ(streamed[OutputKind::delta].size(), text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        EXPECT_EQ(streamed[OutputKind::cumulative][i].outputs[0].text, text.substr(0, i + 1));
        EXPECT_EQ(streamed[OutputKind::cumulative][i].prompt_token_ids, kPrompt);
        EXPECT_EQ(streamed[OutputKind::delta][i].outputs[0].text, text.substr(i, 1));
    }
    ASSERT_EQ(streamed[OutputKind::final_only].size(), 1u);
    EXPECT_EQ(streamed[OutputKind::final_only][0].outputs[0].text, text);
}

// A stop string split over several tokens: the text that may still become the stop string
// is held back, released when it cannot, and cut when it does.
TEST(EngineOutputs, StopStringAcrossTokensIsHeldBackThenCut) {
    const std::string script = "abxyqxyzr";
    auto engine = scripted_engine(spell(kPrompt.size(), letter_ids(script)));
    SamplingParams params = spelled(20, OutputKind::delta);
    params.stop = {"xyz"};
    engine->add_request("s", {{}, kPrompt}, params);
    const std::vector<RequestOutput> outputs = drain(*engine);
    // "x" and "xy" may start "xyz": held; "q" releases "xyq"; "xyz" ends the completion.
    EXPECT_EQ(texts_of(outputs), (std::vector<std::string>{"a", "b", "", "", "xyq", "", "", ""}));
    const CompletionOutput& last = outputs.back().outputs.at(0);
    EXPECT_EQ(last.finish_reason, "stop");
    EXPECT_EQ(last.stop_reason_text, "xyz");
    EXPECT_EQ(last.token_ids, letter_ids("z")) << "the stop string's tokens stay in the ids";
    expect_all_blocks_free(*engine);

    params.include_stop_str_in_output = true;  // nothing is held back then
    engine->add_request("i", {{}, kPrompt}, params);
    const std::vector<RequestOutput> kept = drain(*engine);
    EXPECT_EQ(texts_of(kept), (std::vector<std::string>{"a", "b", "x", "y", "q", "x", "y", "z"}));
    expect_all_blocks_free(*engine);
}

TEST(EngineOutputs, StopStringInsideOneTokenCutsThatToken) {
    auto engine = scripted_engine(spell(kPrompt.size(), {letter_id('a'), kLetterCde}));
    SamplingParams params = spelled(5, OutputKind::cumulative);
    params.stop = {"d"};
    LLM llm(std::move(engine));
    const auto out = llm.generate(std::vector<std::vector<int64_t>>{kPrompt}, params);
    EXPECT_EQ(out.at(0).outputs.at(0).text, "ac");
    EXPECT_EQ(out[0].outputs[0].token_ids, (std::vector<int64_t>{letter_id('a'), kLetterCde}));
    EXPECT_EQ(out[0].outputs[0].finish_reason, "stop");
    expect_all_blocks_free(llm.engine());
}

TEST(EngineOutputs, NCompletionsSampleApartAndFinishEach) {
    // Every position: 'a' and 'b' equally likely, the rest impossible. Each completion has
    // its own generator (seed + index), so their strings differ (fixed by the seed).
    const LogitsScript coin = [](int64_t, int64_t, std::span<float> row) {
        std::fill(row.begin(), row.end(), -kPeak);
        row[static_cast<size_t>(letter_id('a'))] = 0.0f;
        row[static_cast<size_t>(letter_id('b'))] = 0.0f;
    };
    auto engine = scripted_engine(coin);
    SamplingParams params = spelled(12, OutputKind::delta);
    params.temperature = 1.0f;
    params.seed = 7;
    params.n = 3;
    engine->add_request("n", {{}, kPrompt}, params);
    std::map<int, std::string> text;
    std::map<int, std::vector<int64_t>> ids;
    std::map<int, std::string> finish;
    for (const RequestOutput& out : drain(*engine)) {
        for (const CompletionOutput& c : out.outputs) {
            text[c.index] += c.text;
            ids[c.index].insert(ids[c.index].end(), c.token_ids.begin(), c.token_ids.end());
            if (c.finish_reason) finish[c.index] = *c.finish_reason;
        }
    }
    ASSERT_EQ(text.size(), 3u);
    std::set<std::string> distinct;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(text[i].size(), 12u);
        EXPECT_EQ(text[i].find_first_not_of("ab"), std::string::npos) << text[i];
        EXPECT_EQ(ids[i], letter_ids(text[i]));
        EXPECT_EQ(finish[i], "length");
        distinct.insert(text[i]);
    }
    EXPECT_GT(distinct.size(), 1u) << "completions of one request sample independently";
    expect_all_blocks_free(*engine);
}

TEST(EngineOutputs, AbortStopsOneRequestAndFreesItsBlocks) {
    auto engine = scripted_engine(spell(kPrompt.size(), letter_ids("abcdefgh")));
    SamplingParams params = spelled(8, OutputKind::delta);
    params.n = 2;
    engine->add_request("keep", {{}, kPrompt}, params);
    engine->add_request("drop", {{}, kPrompt}, params);
    for (int i = 0; i < 3; ++i) engine->step();
    EXPECT_TRUE(engine->abort_request("drop"));
    EXPECT_FALSE(engine->abort_request("drop")) << "already gone";
    EXPECT_FALSE(engine->abort_request("never-added"));
    std::string kept;
    for (const RequestOutput& out : drain(*engine)) {
        EXPECT_EQ(out.request_id, "keep");
        for (const CompletionOutput& c : out.outputs)
            if (c.index == 0) kept += c.text;
    }
    EXPECT_EQ(kept, "defgh") << "the other request goes on where it was";
    EXPECT_FALSE(engine->abort_request("keep")) << "finished requests are gone";
    expect_all_blocks_free(*engine);
}

TEST(EngineOutputs, MinTokensMasksEosUntilReached) {
    // EOS is the most likely token everywhere, then 'm'.
    const LogitsScript eos_first = [](int64_t, int64_t, std::span<float> row) {
        row[static_cast<size_t>(kLetterEos)] = kPeak;
        row[static_cast<size_t>(letter_id('m'))] = kPeak / 2;
    };
    auto engine = scripted_engine(eos_first);
    SamplingParams params = spelled(10, OutputKind::final_only);
    params.ignore_eos = false;
    engine->add_request("none", {{}, kPrompt}, params);
    params.min_tokens = 3;
    engine->add_request("three", {{}, kPrompt}, params);
    std::map<std::string, CompletionOutput> done;
    for (const RequestOutput& out : drain(*engine)) done[out.request_id] = out.outputs.at(0);
    EXPECT_EQ(done["none"].token_ids, (std::vector<int64_t>{kLetterEos}));
    EXPECT_EQ(done["none"].text, "");
    EXPECT_EQ(done["three"].token_ids,
              (std::vector<int64_t>{letter_id('m'), letter_id('m'), letter_id('m'), kLetterEos}));
    EXPECT_EQ(done["three"].text, "mmm") << "EOS ends the text without showing itself";
    EXPECT_EQ(done["three"].finish_reason, "stop");
    expect_all_blocks_free(*engine);
}

CompletionOutput part(int index, std::string text, std::vector<int64_t> ids,
                      std::optional<std::string> finish_reason = std::nullopt) {
    CompletionOutput c;
    c.index = index;
    c.text = std::move(text);
    c.token_ids = std::move(ids);
    c.finish_reason = std::move(finish_reason);
    return c;
}

TEST(EngineOutputs, AccumulateFoldsDeltasByIndex) {
    RequestOutput total;
    RequestOutput first;
    first.request_id = "r";
    first.prompt_token_ids = {1, 2};
    first.outputs.push_back(part(1, "b", {5}));
    engine::accumulate(total, std::move(first));
    RequestOutput second;
    second.request_id = "r";
    second.finished = true;
    second.outputs.push_back(part(0, "a", {4}));
    second.outputs.push_back(part(1, "c", {6}, "stop"));
    engine::accumulate(total, std::move(second));
    ASSERT_EQ(total.outputs.size(), 2u);
    EXPECT_EQ(total.outputs[0].index, 0);
    EXPECT_EQ(total.outputs[0].text, "a");
    EXPECT_EQ(total.outputs[1].text, "bc");
    EXPECT_EQ(total.outputs[1].token_ids, (std::vector<int64_t>{5, 6}));
    EXPECT_EQ(total.outputs[1].finish_reason, "stop");
    EXPECT_EQ(total.prompt_token_ids, (std::vector<int64_t>{1, 2}));
    EXPECT_TRUE(total.finished);
}

}  // namespace
}  // namespace ovllm::test
