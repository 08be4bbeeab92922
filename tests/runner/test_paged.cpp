// Paged batching gives every sequence the logits it gets when run alone (the golden files,
// which come from one sequence at a time): mixed prefills, decode beside prefill, chunked
// prefill, shuffled and reused dirty blocks.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "golden_util.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

constexpr double kExactTolerance = 1e-4;  // as in test_golden.cpp
constexpr size_t kBlocks = 24;

class PagedTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        golden_ = std::make_unique<Golden>(GetParam());
        const model::LoadedModel loaded = model::load_model(golden_->folder.string());
        vocab_ = static_cast<size_t>(loaded.config.vocab_size);
        runner_ = std::make_unique<runner::ModelRunner>(loaded.model, exact_options(kBlocks));
    }
    const GoldenPrompt& prompt(size_t i) const { return golden_->prompts.at(i); }
    // Expects row `row` of `logits` to equal row `golden_row` of golden tensor `tensor`.
    void expect_row(const runner::LogitsView& logits, size_t row, const std::string& tensor,
                    size_t golden_row) const {
        ASSERT_LT(row, logits.rows);
        EXPECT_LT(max_abs_diff(logits.row(row), golden_->row(tensor, golden_row), vocab_),
                  kExactTolerance)
            << tensor << " row " << golden_row;
    }
    int block_size() const { return runner_->block_size(); }

    std::unique_ptr<Golden> golden_;
    std::unique_ptr<runner::ModelRunner> runner_;
    size_t vocab_ = 0;
};

runner::SequenceInput prefill(const GoldenPrompt& p, std::vector<int32_t> blocks) {
    runner::SequenceInput seq;
    seq.token_ids = p.ids;
    seq.block_table = std::move(blocks);
    return seq;
}

TEST_P(PagedTest, SeveralPromptsInOnePrefill) {
    runner::ModelInput input;
    int32_t next_block = 0;
    for (size_t i = 0; i < golden_->prompts.size(); ++i) {
        const int32_t count = blocks_for(prompt(i).ids.size(), block_size());
        input.sequences.push_back(prefill(prompt(i), block_range(next_block, count)));
        next_block += count;
    }
    const runner::LogitsView logits = runner_->run(input);
    ASSERT_EQ(logits.rows, golden_->prompts.size());
    for (size_t i = 0; i < golden_->prompts.size(); ++i) {
        expect_row(logits, i, prompt(i).logits_tensor, prompt(i).ids.size() - 1);
    }
}

TEST_P(PagedTest, DecodeBesidePrefill) {
    const GoldenPrompt& a = prompt(2);
    const GoldenPrompt& b = prompt(3);
    runner::SequenceInput first = prefill(a, block_range(0, 2));
    expect_row(runner_->run({{first}}), 0, a.gen_logits_tensor, 0);
    // a decodes its first greedy token while b prefills, and a's row comes second this time.
    runner::SequenceInput decode{{a.greedy[0]}, static_cast<int64_t>(a.ids.size()), {0, 1}, true};
    const runner::LogitsView logits = runner_->run({{prefill(b, block_range(2, 3)), decode}});
    ASSERT_EQ(logits.rows, 2u);
    expect_row(logits, 0, b.logits_tensor, b.ids.size() - 1);
    expect_row(logits, 1, a.gen_logits_tensor, 1);
}

TEST_P(PagedTest, ChunkedPrefillInTwoAndThreeChunks) {
    const GoldenPrompt& p = prompt(3);  // 70 tokens
    for (const std::vector<size_t>& chunks :
         {std::vector<size_t>{35, 35}, std::vector<size_t>{20, 25, 25}}) {
        size_t done = 0;
        for (const size_t chunk : chunks) {
            runner::SequenceInput seq;
            seq.token_ids.assign(p.ids.begin() + static_cast<std::ptrdiff_t>(done),
                                 p.ids.begin() + static_cast<std::ptrdiff_t>(done + chunk));
            seq.past_len = static_cast<int64_t>(done);
            seq.block_table = block_range(4, blocks_for(done + chunk, block_size()));
            done += chunk;
            expect_row(runner_->run({{seq}}), 0, p.logits_tensor, done - 1);
        }
    }
}

TEST_P(PagedTest, ShuffledBlocksAndDirtyReuse) {
    const GoldenPrompt& p = prompt(3);  // 70 tokens + 24 decoded: 3 blocks
    // Dirty every block with other sequences first.
    runner::ModelInput dirt;
    for (int32_t b = 0; b < static_cast<int32_t>(kBlocks); b += 3) {
        dirt.sequences.push_back(prefill(p, block_range(b, 3)));
        dirt.sequences.back().token_ids[5] = 7;  // a different prompt
    }
    runner_->run(dirt);
    // Scattered, out-of-order blocks that held other tokens.
    runner::SequenceInput seq = prefill(p, {17, 3, 11});
    runner::LogitsView logits = runner_->run({{seq}});
    for (size_t step = 0; step < p.greedy.size(); ++step) {
        expect_row(logits, 0, p.gen_logits_tensor, step);
        seq.past_len += static_cast<int64_t>(seq.token_ids.size());
        seq.token_ids = {p.greedy[step]};
        logits = runner_->run({{seq}});
    }
}

TEST_P(PagedTest, UnsampledSequencesGiveNoRows) {
    runner::SequenceInput seq = prefill(prompt(2), block_range(0, 2));
    seq.sample = false;
    runner::SequenceInput other = prefill(prompt(1), block_range(2, 1));
    const runner::LogitsView logits = runner_->run({{seq, other}});
    ASSERT_EQ(logits.rows, 1u);
    expect_row(logits, 0, prompt(1).logits_tensor, prompt(1).ids.size() - 1);
}

TEST_P(PagedTest, RejectsShortBlockTablesAndBadIds) {
    EXPECT_THROW(runner_->run({{prefill(prompt(3), block_range(0, 2))}}), Error);
    EXPECT_THROW(runner_->run({{prefill(prompt(1), {static_cast<int32_t>(kBlocks)})}}), Error);
    EXPECT_THROW(runner_->run({}), Error);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, PagedTest, ::testing::Values("llama", "mistral", "gpt2"));

}  // namespace
}  // namespace ovllm::test
