#include <cmath>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "error_pieces.hpp"
#include "model/model_config.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

namespace fs = std::filesystem;

ModelConfig golden(const std::string& name) {
    return load_model_config(test::golden_dir() / "models" / name);
}

using test::expect_error;

// A fresh temp folder holding one config.json with `text`.
fs::path write_config(const std::string& tag, const std::string& text) {
    const fs::path dir = fs::temp_directory_path() / ("ovllm_test_config_" + tag);
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << text;
    return dir;
}

TEST(ModelConfig, Llama) {
    const ModelConfig c = golden("llama");
    EXPECT_EQ(c.architecture, "LlamaForCausalLM");
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.num_hidden_layers, 3);
    EXPECT_EQ(c.num_attention_heads, 4);
    EXPECT_EQ(c.num_key_value_heads, 2);
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.intermediate_size, 128);
    EXPECT_EQ(c.vocab_size, 512);
    EXPECT_EQ(c.max_position_embeddings, 256);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.rope_scaling.type, "default");
    EXPECT_EQ(c.hidden_act, Activation::silu);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_FALSE(c.qk_norm);
    EXPECT_FALSE(c.sliding_window.has_value());
    EXPECT_EQ(c.layer_uses_sliding_window, std::vector<bool>(3, false));
    EXPECT_EQ(c.torch_dtype, "float32");
    EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
    EXPECT_EQ(c.bos_token_id, 1);
    EXPECT_DOUBLE_EQ(c.attention_scale(), 0.25);
    EXPECT_EQ(c.parameter_count(), 143808);  // sum of model.safetensors shapes
}

TEST(ModelConfig, LlamaBf16) {
    const ModelConfig c = golden("llama-bf16");
    EXPECT_EQ(c.torch_dtype, "bfloat16");
    EXPECT_EQ(c.parameter_count(), 143808);
}

TEST(ModelConfig, LlamaRope3) {
    const ModelConfig c = golden("llama-rope3");
    EXPECT_EQ(c.num_hidden_layers, 2);
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.parameter_count(), 106816);
}

TEST(ModelConfig, Qwen2) {
    const ModelConfig c = golden("qwen2");
    EXPECT_EQ(c.architecture, "Qwen2ForCausalLM");
    EXPECT_TRUE(c.attention_bias);  // implied by model_type, no config key
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
    EXPECT_FALSE(c.sliding_window.has_value());
    EXPECT_EQ(c.layer_uses_sliding_window, std::vector<bool>(2, false));
    EXPECT_EQ(c.parameter_count(), 139840);
}

TEST(ModelConfig, Qwen3) {
    const ModelConfig c = golden("qwen3");
    EXPECT_EQ(c.head_dim, 32);  // != hidden / heads
    EXPECT_TRUE(c.qk_norm);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(c.attention_scale(), 1.0 / std::sqrt(32.0));
    EXPECT_EQ(c.parameter_count(), 131520);
}

TEST(ModelConfig, Mistral) {
    const ModelConfig c = golden("mistral");
    EXPECT_EQ(c.head_dim, 16);  // null in config.json
    ASSERT_TRUE(c.sliding_window.has_value());
    EXPECT_EQ(*c.sliding_window, 16);
    EXPECT_EQ(c.layer_uses_sliding_window, std::vector<bool>(2, true));
    EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_EQ(c.parameter_count(), 139584);
}

TEST(ModelConfig, Gemma3) {
    const ModelConfig c = golden("gemma3");
    EXPECT_EQ(c.architecture, "Gemma3ForCausalLM");
    EXPECT_EQ(c.model_type, "gemma3_text");
    EXPECT_EQ(c.num_hidden_layers, 4);
    EXPECT_EQ(c.head_dim, 32);
    EXPECT_EQ(c.layer_uses_sliding_window, (std::vector<bool>{true, true, false, true}));
    ASSERT_TRUE(c.sliding_window.has_value());
    EXPECT_EQ(*c.sliding_window, 16);
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_DOUBLE_EQ(c.rope_local_theta, 1e4);
    EXPECT_DOUBLE_EQ(c.query_pre_attn_scalar, 24.0);
    EXPECT_DOUBLE_EQ(c.attention_scale(), 1.0 / std::sqrt(24.0));
    ASSERT_TRUE(c.final_logit_softcapping.has_value());
    EXPECT_DOUBLE_EQ(*c.final_logit_softcapping, 3.0);
    EXPECT_EQ(c.hidden_act, Activation::gelu_tanh);
    EXPECT_TRUE(c.tie_word_embeddings);  // absent from config.json
    EXPECT_TRUE(c.qk_norm);
    EXPECT_EQ(c.parameter_count(), 230720);
}

TEST(ModelConfig, Opt) {
    const ModelConfig c = golden("opt");
    EXPECT_EQ(c.architecture, "OPTForCausalLM");
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.num_key_value_heads, 4);
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.intermediate_size, 128);  // ffn_dim
    EXPECT_EQ(c.word_embed_proj_dim, 64);
    EXPECT_TRUE(c.do_layer_norm_before);
    EXPECT_EQ(c.hidden_act, Activation::relu);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.parameter_count(), 116352);  // includes the 258-row position table
}

TEST(ModelConfig, Gpt2) {
    const ModelConfig c = golden("gpt2");
    EXPECT_EQ(c.architecture, "GPT2LMHeadModel");
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.num_hidden_layers, 2);
    EXPECT_EQ(c.num_attention_heads, 4);
    EXPECT_EQ(c.num_key_value_heads, 4);
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.intermediate_size, 128);
    EXPECT_EQ(c.max_position_embeddings, 256);
    EXPECT_EQ(c.hidden_act, Activation::gelu_tanh);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{511});
    EXPECT_EQ(c.parameter_count(), 116224);
}

// The README's table of golden models: class, layers, q/kv heads, head_dim, tied lm_head.
struct GoldenRow {
    const char* folder;
    const char* architecture;
    int64_t layers, heads, kv_heads, head_dim;
    bool tied;
};

TEST(ModelConfig, EveryGoldenModelMatchesReadmeTable) {
    const GoldenRow rows[] = {
        {"llama", "LlamaForCausalLM", 3, 4, 2, 16, true},
        {"llama-bf16", "LlamaForCausalLM", 3, 4, 2, 16, true},
        {"llama-rope3", "LlamaForCausalLM", 2, 4, 2, 16, true},
        {"qwen2", "Qwen2ForCausalLM", 2, 4, 2, 16, false},
        {"opt", "OPTForCausalLM", 2, 4, 4, 16, true},
        {"gpt2", "GPT2LMHeadModel", 2, 4, 4, 16, true},
        {"qwen3", "Qwen3ForCausalLM", 2, 4, 2, 32, true},
        {"gemma3", "Gemma3ForCausalLM", 4, 4, 2, 32, true},
        {"mistral", "MistralForCausalLM", 2, 4, 2, 16, false},
    };
    for (const GoldenRow& row : rows) {
        SCOPED_TRACE(row.folder);
        const ModelConfig c = golden(row.folder);
        EXPECT_EQ(c.architecture, row.architecture);
        EXPECT_EQ(c.num_hidden_layers, row.layers);
        EXPECT_EQ(c.num_attention_heads, row.heads);
        EXPECT_EQ(c.num_key_value_heads, row.kv_heads);
        EXPECT_EQ(c.head_dim, row.head_dim);
        EXPECT_EQ(c.tie_word_embeddings, row.tied);
        // All: hidden 64, intermediate 128, vocab 512, max positions 256.
        EXPECT_EQ(c.hidden_size, 64);
        EXPECT_EQ(c.intermediate_size, 128);
        EXPECT_EQ(c.vocab_size, 512);
        EXPECT_EQ(c.max_position_embeddings, 256);
        EXPECT_EQ(c.layer_uses_sliding_window.size(), static_cast<size_t>(row.layers));
    }
}

TEST(ModelConfig, Llama3ScalingInTransformers5RopeParameters) {
    const fs::path dir =
        write_config("rope5", R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,
            "max_position_embeddings":32,"rope_parameters":{"rope_type":"llama3",
            "rope_theta":500000.0,"factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
            "original_max_position_embeddings":8192}})");
    const ModelConfig c = load_model_config(dir);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
    fs::remove_all(dir);
}

TEST(ModelConfig, Gpt2NullInnerIsFourTimesHidden) {
    const fs::path dir =
        write_config("gpt2_inner", R"({"model_type":"gpt2","n_embd":32,"n_layer":1,"n_head":2,
                          "n_inner":null,"n_positions":16,"vocab_size":10})");
    EXPECT_EQ(load_model_config(dir).intermediate_size, 128);
    fs::remove_all(dir);
}

TEST(ModelConfig, SmolLM2Transformers5) {
    const fs::path dir = test::models_dir() / "smollm2-135m";
    if (!fs::exists(dir)) GTEST_SKIP() << dir << " not fetched";
    const ModelConfig c = load_model_config(dir / "config.json");
    EXPECT_EQ(c.num_hidden_layers, 30);
    EXPECT_EQ(c.num_key_value_heads, 3);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_DOUBLE_EQ(c.rope_theta, 100000.0);  // from rope_parameters
    EXPECT_EQ(c.rope_scaling.type, "default");
    EXPECT_EQ(c.torch_dtype, "bfloat16");
    EXPECT_EQ(c.parameter_count(), 134515008);
}

TEST(ModelConfig, Qwen25Coder05B) {
    const fs::path dir = test::models_dir() / "qwen2.5-coder-0.5b";
    if (!fs::exists(dir)) GTEST_SKIP() << dir << " not fetched";
    const ModelConfig c = load_model_config(dir);
    EXPECT_EQ(c.num_hidden_layers, 24);
    EXPECT_EQ(c.num_attention_heads, 14);
    EXPECT_EQ(c.num_key_value_heads, 2);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
    EXPECT_EQ(c.parameter_count(), 630167424);
}

TEST(ModelConfig, Gemma3Transformers5RopeParameters) {
    const ModelConfig c = load_model_config(test::shared_dir() / "models" / "gemma3-270m");
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_DOUBLE_EQ(c.rope_local_theta, 1e4);
    EXPECT_EQ(c.head_dim, 256);
    EXPECT_EQ(c.num_key_value_heads, 1);
    EXPECT_EQ(*c.sliding_window, 512);
    std::vector<bool> expected(18, true);
    expected[5] = expected[11] = expected[17] = false;
    EXPECT_EQ(c.layer_uses_sliding_window, expected);
    EXPECT_FALSE(c.final_logit_softcapping.has_value());
    EXPECT_EQ(c.parameter_count(), 268098176);  // README: 268.1 M tied
}

TEST(ModelConfig, Gemma3PatternWithoutLayerTypes) {
    const fs::path dir =
        write_config("gemma_pattern",
                     R"({"model_type":"gemma3_text","hidden_size":8,"num_hidden_layers":6,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,
            "max_position_embeddings":32,"sliding_window":4,"sliding_window_pattern":3})");
    EXPECT_EQ(load_model_config(dir).layer_uses_sliding_window,
              (std::vector<bool>{true, true, false, true, true, false}));
    fs::remove_all(dir);
}

TEST(ModelConfig, Builtins) {
    EXPECT_EQ(builtin_model_names().size(), 3u);
    for (const auto& name : builtin_model_names()) {
        EXPECT_TRUE(builtin_model_config(name).has_value()) << name;
    }
    EXPECT_FALSE(builtin_model_config("facebook/opt-999m").has_value());

    const ModelConfig opt = *builtin_model_config("facebook/opt-125m");
    EXPECT_EQ(opt.architecture, "OPTForCausalLM");
    EXPECT_EQ(opt.hidden_size, 768);
    EXPECT_EQ(opt.head_dim, 64);
    EXPECT_EQ(opt.hidden_act, Activation::relu);
    // facebook/opt-125m has 125,239,296 parameters (HF num_parameters()).
    EXPECT_EQ(opt.parameter_count(), 125239296);
    EXPECT_TRUE(opt.do_layer_norm_before);
    EXPECT_TRUE(opt.attention_bias);
    EXPECT_TRUE(opt.tie_word_embeddings);
    EXPECT_EQ(opt.word_embed_proj_dim, 768);
    EXPECT_EQ(opt.eos_token_ids, std::vector<int64_t>{2});
    EXPECT_EQ(opt.torch_dtype, "float16");

    const ModelConfig q18 = *builtin_model_config("Qwen/Qwen1.5-1.8B-Chat");
    EXPECT_EQ(q18.architecture, "Qwen2ForCausalLM");
    EXPECT_EQ(q18.num_key_value_heads, 16);
    EXPECT_EQ(q18.head_dim, 128);
    EXPECT_TRUE(q18.attention_bias);
    EXPECT_FALSE(q18.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(q18.rope_theta, 1e6);
    EXPECT_EQ(q18.layer_uses_sliding_window.size(), 24u);
    // Qwen1.5-1.8B: 1,836,828,672 parameters.
    EXPECT_EQ(q18.parameter_count(), 1836828672);
    EXPECT_DOUBLE_EQ(q18.norm_eps, 1e-6);
    EXPECT_EQ(q18.layer_uses_sliding_window, std::vector<bool>(24, false));
    EXPECT_EQ(q18.eos_token_ids, std::vector<int64_t>{151645});
    // The text behind each built-in config parses to the same config.
    EXPECT_EQ(parse_model_config(
                  nlohmann::json::parse(*builtin_config_json("Qwen/Qwen1.5-1.8B-Chat")), "x")
                  .parameter_count(),
              q18.parameter_count());
    EXPECT_FALSE(builtin_config_json("facebook/opt-999m").has_value());

    const ModelConfig q4 = *builtin_model_config("Qwen/Qwen1.5-4B-Chat");
    EXPECT_EQ(q4.num_hidden_layers, 40);
    EXPECT_DOUBLE_EQ(q4.rope_theta, 5e6);
    EXPECT_EQ(q4.intermediate_size, 6912);
}

TEST(ModelConfigErrors, MissingConfigNamesFolder) {
    const fs::path dir = fs::temp_directory_path() / "ovllm_test_config_empty";
    fs::create_directories(dir);
    expect_error([&] { load_model_config(dir); }, {dir.string(), "no config.json"});
    fs::remove_all(dir);
}

TEST(ModelConfigErrors, MissingPath) {
    expect_error([] { load_model_config("/nonexistent/ovllm/model"); },
                 {"/nonexistent/ovllm/model", "no such file"});
}

TEST(ModelConfigErrors, InvalidJsonGivesBytePosition) {
    const fs::path dir = write_config("bad_json", R"({"model_type": "llama",, })");
    expect_error([&] { load_model_config(dir); }, {"config.json", "invalid JSON at byte 24"});
    fs::remove_all(dir);
}

// The same parser behaviour as the safetensors header (found by fuzz/fuzz_safetensors).
TEST(ModelConfigErrors, NumberOutOfRangeIsInvalidJson) {
    const fs::path dir = write_config("number_range", R"({"model_type": "llama", "x": 1e999})");
    expect_error([&] { load_model_config(dir); },
                 {"config.json", "invalid JSON (a number out of range)"});
    fs::remove_all(dir);
}

TEST(ModelConfigErrors, WrongType) {
    const fs::path dir = write_config(
        "wrong_type", R"({"model_type":"llama","hidden_size":"64","num_hidden_layers":2})");
    expect_error([&] { load_model_config(dir); },
                 {"config.json: field 'hidden_size' must be an integer, got string"});
    fs::remove_all(dir);
}

TEST(ModelConfigErrors, MissingRequiredField) {
    const fs::path dir = write_config(
        "missing_field", R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":2})");
    expect_error([&] { load_model_config(dir); },
                 {"config.json", "required field 'num_attention_heads' is missing"});
    fs::remove_all(dir);
}

TEST(ModelConfigErrors, NestedFieldNamed) {
    const fs::path dir =
        write_config("nested", R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,
            "max_position_embeddings":32,"rope_parameters":{"rope_theta":"big"}})");
    expect_error([&] { load_model_config(dir); },
                 {"field 'rope_parameters.rope_theta' must be a number, got string"});
    fs::remove_all(dir);
}

// vLLM/HF configs sometimes carry "no limit" as a huge number; token positions are int32 here.
TEST(ModelConfigErrors, HugeMaxPositionEmbeddingsNamesTheField) {
    const std::string head = R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,)";
    const fs::path big =
        write_config("huge_positions", head + R"("max_position_embeddings":1000000000000000})");
    expect_error([&] { load_model_config(big); },
                 {"config.json: field 'max_position_embeddings' is 1000000000000000, more than the "
                  "largest supported 2147483647"});
    fs::remove_all(big);
    // Written as 1e15, JSON holds a floating-point number.
    const fs::path exp =
        write_config("float_positions", head + R"("max_position_embeddings":1e15})");
    expect_error([&] { load_model_config(exp); },
                 {"config.json: field 'max_position_embeddings' must be an integer, got number"});
    fs::remove_all(exp);
    const fs::path zero = write_config("zero_positions", head + R"("max_position_embeddings":0})");
    expect_error([&] { load_model_config(zero); },
                 {"config.json: field 'max_position_embeddings' must be positive, got 0"});
    fs::remove_all(zero);
}

// AWQ / GPTQ checkpoints: what packed_int4.hpp loads, and one-line refusals naming the field.
TEST(ModelConfig, QuantizationConfig) {
    const std::string head = R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,
            "max_position_embeddings":32,"quantization_config":)";
    const auto parse = [&](const std::string& quantization) {
        return parse_model_config(nlohmann::json::parse(head + quantization + "}"), "config.json");
    };
    const ModelConfig awq = parse(
        R"({"quant_method":"awq","bits":4,"group_size":128,"zero_point":true,"version":"GEMM"})");
    ASSERT_TRUE(awq.quantization);
    EXPECT_EQ(awq.quantization->method, PackedQuantization::Method::awq);
    EXPECT_EQ(awq.quantization->group_size, 128);
    EXPECT_FALSE(awq.quantization->zero_points_minus_one);
    const ModelConfig gptq = parse(R"({"quant_method":"gptq","bits":4,"group_size":32})");
    EXPECT_EQ(gptq.quantization->method, PackedQuantization::Method::gptq);
    EXPECT_TRUE(gptq.quantization->zero_points_minus_one);  // v1 unless checkpoint_format says
    EXPECT_FALSE(
        parse(R"({"quant_method":"gptq","bits":4,"group_size":64,"checkpoint_format":"gptq_v2"})")
            .quantization->zero_points_minus_one);

    const auto error = [&](const std::string& quantization, const std::string& expected) {
        expect_error([&] { parse(quantization); }, {expected});
    };
    error(R"({"quant_method":"awq","bits":3,"group_size":128})",
          "config.json: quantization_config.bits 3 is not supported (4)");
    error(R"({"quant_method":"gptq","bits":8,"group_size":128})",
          "config.json: quantization_config.bits 8 is not supported (4)");
    error(R"({"quant_method":"gptq","bits":4,"group_size":128,"desc_act":true})",
          "config.json: quantization_config.desc_act true is not supported (false)");
    error(R"({"quant_method":"gptq","bits":4,"group_size":-1})",
          "config.json: quantization_config.group_size -1 is not supported (32, 64, 128)");
    error(R"({"quant_method":"awq","bits":4,"group_size":128,"version":"gemv"})",
          "config.json: quantization_config.version 'gemv' is not supported (gemm)");
    error(R"({"quant_method":"fp8"})",
          "config.json: quantization_config.quant_method 'fp8' is not supported (awq, gptq)");
    error(R"({"quant_method":"awq","group_size":128})",
          "config.json: required field 'quantization_config.bits' is missing");
}

TEST(ModelConfigErrors, UnknownActivation) {
    const fs::path dir =
        write_config("activation", R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"vocab_size":10,
            "max_position_embeddings":32,"hidden_act":"mish"})");
    expect_error([&] { load_model_config(dir); }, {"field 'hidden_act'", "'mish'"});
    fs::remove_all(dir);
}

}  // namespace
}  // namespace ovllm::model
