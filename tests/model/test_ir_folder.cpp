// OpenVINO IR folders: the optimum exports in golden/ir give their recorded greedy
// continuations through the paged runner, runtime_options come from rt_info, a stateless IR
// is refused with the export command, and a folder written by write_ir_folder reads back.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openvino/core/graph_util.hpp>
#include <openvino/op/add.hpp>
#include <openvino/op/parameter.hpp>
#include <openvino/op/result.hpp>
#include <openvino/runtime/core.hpp>

#include "model/ir_folder.hpp"
#include "model/model_config.hpp"
#include "model/quantize.hpp"
#include "model/registry.hpp"
#include "model/safetensors.hpp"
#include "model/safetensors_weights.hpp"
#include "runner/model_runner.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {
namespace fs = std::filesystem;

fs::path golden_ir(const std::string& name) {
    return test::golden_dir() / "ir" / name;
}

runner::RunnerOptions reference_options() {
    runner::RunnerOptions options;  // golden.json reference_ov_config
    options.inference_precision = ov::element::f32;
    options.kv_cache_precision = ov::element::f32;
    options.num_kv_blocks = 16;
    options.properties = {{"DYNAMIC_QUANTIZATION_GROUP_SIZE", "0"}};
    return options;
}

struct GreedyResult {
    std::vector<int64_t> tokens;
    double max_last_logit_diff = 0.0;  // prompt's last position vs last_logits.p<i>
    double max_step_diff = 0.0;        // each step vs gen_logits.p<i>, while greedy agrees
};

// Prefill, then decode `steps` tokens greedily through the paged runner.
GreedyResult run_greedy(runner::ModelRunner& runner, const std::vector<int64_t>& prompt,
                        size_t steps, const float* last_logits, const float* gen_logits,
                        size_t vocab) {
    GreedyResult result;
    runner::SequenceInput seq;
    seq.token_ids = prompt;
    const size_t blocks = (prompt.size() + steps + runner.block_size() - 1) / runner.block_size();
    for (size_t b = 0; b < blocks; ++b) seq.block_table.push_back(static_cast<int32_t>(b));
    runner::LogitsView logits = runner.run({{seq}});
    for (size_t i = 0; i < vocab; ++i) {
        result.max_last_logit_diff = std::max(result.max_last_logit_diff,
                                              std::abs(double(logits.row(0)[i]) - last_logits[i]));
    }
    for (size_t step = 0; step < steps; ++step) {
        for (size_t i = 0; i < vocab; ++i) {
            result.max_step_diff =
                std::max(result.max_step_diff,
                         std::abs(double(logits.row(0)[i]) - gen_logits[step * vocab + i]));
        }
        const int64_t next = std::max_element(logits.row(0), logits.row(0) + vocab) - logits.row(0);
        result.tokens.push_back(next);
        seq.past_len += static_cast<int64_t>(seq.token_ids.size());
        seq.token_ids = {next};
        logits = runner.run({{seq}});
    }
    return result;
}

class GoldenIrTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenIrTest, PagedRunnerReproducesRecordedGreedy) {
    const fs::path folder = golden_ir(GetParam());
    const IrFolderModel ir = load_ir_folder(folder);
    std::ifstream in(folder / "golden.json");
    const auto golden = nlohmann::json::parse(in);
    const SafetensorsFile tensors(folder / "golden.safetensors");
    runner::ModelRunner runner(ir.model, reference_options());
    const size_t vocab = static_cast<size_t>(ir.config.vocab_size);
    for (const auto& prompt : golden.at("prompts")) {
        const auto expected = prompt.at("greedy").get<std::vector<int64_t>>();
        const auto* last =
            static_cast<const float*>(tensors.tensors().at(prompt.at("last_logits_tensor")).data);
        const auto* gen =
            static_cast<const float*>(tensors.tensors().at(prompt.at("gen_logits_tensor")).data);
        const GreedyResult result = run_greedy(runner, prompt.at("ids").get<std::vector<int64_t>>(),
                                               expected.size(), last, gen, vocab);
        const std::string name = prompt.at("name");
        EXPECT_EQ(result.tokens, expected) << name;
        // OpenVINO's own reference run: f32 noise only.
        EXPECT_LT(result.max_last_logit_diff, 1e-4) << name;
        EXPECT_LT(result.max_step_diff, 1e-4) << name;
    }
}

INSTANTIATE_TEST_SUITE_P(OptimumExports, GoldenIrTest,
                         ::testing::Values("llama-fp32", "qwen2-fp32", "llama-int8"),
                         [](const auto& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

TEST(IrFolder, ReadsConfigAndRuntimeOptions) {
    const IrFolderModel ir = load_ir_folder(golden_ir("llama-fp32"), WeightFormat::int8);
    EXPECT_EQ(ir.config.architecture, "LlamaForCausalLM");
    EXPECT_EQ(ir.config.vocab_size, 512);
    EXPECT_TRUE(is_stateful_model(*ir.model));
    ASSERT_TRUE(ir.runtime_options.count("KV_CACHE_PRECISION"));
    EXPECT_EQ(ir.runtime_options.at("KV_CACHE_PRECISION").as<std::string>(), "f16");
    ASSERT_TRUE(ir.runtime_options.count("ACTIVATIONS_SCALE_FACTOR"));
    EXPECT_EQ(ir.runtime_options.at("ACTIVATIONS_SCALE_FACTOR").as<std::string>(), "8.0");
}

class IrFolderTemp : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ovllm_ir_folder_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(IrFolderTemp, StatelessIrGetsTheExportCommand) {
    // A stateless graph: input_ids -> (+1) -> logits, no ReadValue/Assign, no beam_idx.
    auto ids = std::make_shared<ov::op::v0::Parameter>(ov::element::f32, ov::PartialShape{-1, -1});
    ids->output(0).set_names({"input_ids"});
    const auto one = ov::op::v0::Constant::create(ov::element::f32, {}, {1.0f});
    auto logits = std::make_shared<ov::op::v1::Add>(ids, one);
    logits->output(0).set_names({"logits"});
    const auto model =
        std::make_shared<ov::Model>(ov::OutputVector{logits}, ov::ParameterVector{ids});
    ov::save_model(model, dir_ / "openvino_model.xml");
    fs::copy_file(test::golden_dir() / "models" / "llama" / "config.json", dir_ / "config.json");
    try {
        load_ir_folder(dir_);
        FAIL() << "a stateless IR was accepted";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("stateless"), std::string::npos) << message;
        EXPECT_NE(message.find("--task text-generation-with-past"), std::string::npos) << message;
        EXPECT_NE(message.find((dir_ / "openvino_model.xml").string()), std::string::npos)
            << message;
    }
}

TEST_F(IrFolderTemp, MissingFilesNameTheFolder) {
    EXPECT_THROW(load_ir_folder(dir_), Error);
    fs::copy_file(golden_ir("llama-fp32") / "openvino_model.xml", dir_ / "openvino_model.xml");
    try {
        load_ir_folder(dir_);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("openvino_model.bin"), std::string::npos) << e.what();
    }
}

TEST_F(IrFolderTemp, WrittenFolderReadsBackWithTheSameGreedy) {
    // int8 llama written as an IR folder equals the optimum int8 export's greedy (same bytes).
    const fs::path source = test::golden_dir() / "models" / "llama";
    CompressedWeights weights(std::make_shared<SafetensorsWeights>(source), WeightFormat::int8);
    const auto model = build_stateful_model(load_model_config(source), weights);
    const fs::path out = dir_ / "llama-int8";
    write_ir_folder(out, model, source, WeightFormat::int8, weights.statistics().table());
    for (const char* name : {"openvino_model.xml", "openvino_model.bin", "config.json",
                             "generation_config.json", "openvino_config.json"}) {
        EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
    }
    std::ifstream in(out / "openvino_config.json");
    const auto record = nlohmann::json::parse(in);
    EXPECT_EQ(record.at("weight_format"), "int8");
    EXPECT_EQ(record.at("quantization_config").at("bits"), 8);
    EXPECT_NE(record.at("bitwidth_distribution").get<std::string>().find("100% (22 / 22)"),
              std::string::npos);

    const IrFolderModel ir = load_ir_folder(out);
    const fs::path golden = golden_ir("llama-int8");
    std::ifstream golden_in(golden / "golden.json");
    const auto json = nlohmann::json::parse(golden_in);
    const SafetensorsFile tensors(golden / "golden.safetensors");
    runner::ModelRunner runner(ir.model, reference_options());
    const auto& prompt = json.at("prompts")[2];
    const auto expected = prompt.at("greedy").get<std::vector<int64_t>>();
    const GreedyResult result = run_greedy(
        runner, prompt.at("ids").get<std::vector<int64_t>>(), expected.size(),
        static_cast<const float*>(tensors.tensors().at(prompt.at("last_logits_tensor")).data),
        static_cast<const float*>(tensors.tensors().at(prompt.at("gen_logits_tensor")).data), 512);
    EXPECT_EQ(result.tokens, expected);
    EXPECT_LT(result.max_last_logit_diff, 1e-4);

    EXPECT_THROW(write_ir_folder(out, model, source, WeightFormat::int8, ""), Error);  // not empty
}

}  // namespace
}  // namespace ovllm::model
