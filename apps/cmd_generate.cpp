// `ovllm generate --model M --prompt-ids 1,2,3 --max-tokens N`: greedy continuation of raw
// token ids, printed as a JSON array. A small loop straight over the model runner.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"
#include "runner/precision.hpp"
#include "util/error.hpp"

namespace ovllm::cli {
namespace {

struct GenerateOptions {
    std::string model;
    std::string prompt_ids;
    int max_tokens = 16;
    std::string load_format = "auto";
    std::string dtype = "auto";
    std::string kv_cache_dtype = "auto";
};

std::vector<int64_t> parse_ids(const std::string& text, int64_t vocab) {
    std::vector<int64_t> ids;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        size_t used = 0;
        int64_t id = -1;
        try {
            id = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || id < 0 || id >= vocab) {
            throw_error("--prompt-ids: '{}' is not a token id in [0, {})", item, vocab);
        }
        ids.push_back(id);
    }
    if (ids.empty()) throw_error("--prompt-ids: no token ids given");
    return ids;
}

int run_generate(const GenerateOptions& o) {
    if (o.max_tokens < 1) throw_error("--max-tokens must be at least 1, got {}", o.max_tokens);
    const model::LoadedModel loaded =
        model::load_model(o.model, model::parse_load_format(o.load_format));
    const auto vocab = static_cast<size_t>(loaded.config.vocab_size);
    runner::SequenceInput seq;
    seq.token_ids = parse_ids(o.prompt_ids, loaded.config.vocab_size);

    runner::RunnerOptions options;
    options.inference_precision = runner::parse_inference_precision(o.dtype);
    options.kv_cache_precision = runner::parse_kv_cache_precision(o.kv_cache_dtype);
    const size_t total = seq.token_ids.size() + static_cast<size_t>(o.max_tokens);
    options.num_kv_blocks = total / 32 + 2;  // the CPU plugin's 32-token blocks, plus slack
    runner::ModelRunner runner(loaded.model, options);
    const auto blocks = (total + static_cast<size_t>(runner.block_size()) - 1) /
                        static_cast<size_t>(runner.block_size());
    if (blocks > runner.num_blocks()) throw_error("{} tokens do not fit the KV cache", total);
    for (size_t b = 0; b < blocks; ++b) seq.block_table.push_back(static_cast<int32_t>(b));

    std::vector<int64_t> generated;
    while (generated.size() < static_cast<size_t>(o.max_tokens)) {
        const runner::LogitsView logits = runner.run({{seq}});
        const float* row = logits.row(0);
        const int64_t next = std::max_element(row, row + vocab) - row;
        generated.push_back(next);
        seq.past_len += static_cast<int64_t>(seq.token_ids.size());
        seq.token_ids = {next};
    }
    std::printf("[%s]\n", fmt::format("{}", fmt::join(generated, ", ")).c_str());
    return 0;
}

}  // namespace

Command add_generate_command(CLI::App& app) {
    auto options = std::make_shared<GenerateOptions>();
    CLI::App* cmd = app.add_subcommand("generate", "Greedy continuation of raw token ids");
    cmd->add_option("--model", options->model, "Model folder or built-in name")->required();
    cmd->add_option("--prompt-ids", options->prompt_ids, "Comma-separated token ids")->required();
    cmd->add_option("--max-tokens", options->max_tokens, "Tokens to generate");
    cmd->add_option("--load-format", options->load_format, "auto | dummy");
    cmd->add_option("--dtype", options->dtype, "Inference precision: auto | bf16 | f16 | f32");
    cmd->add_option("--kv-cache-dtype", options->kv_cache_dtype,
                    "KV-cache precision: auto | u8 | i8 | f16 | bf16 | f32");
    return [options] { return run_generate(*options); };
}

}  // namespace ovllm::cli
