#include "model/model_config.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>

#include <nlohmann/json.hpp>

#include "model/config_reader.hpp"
#include "model/packed_int4.hpp"
#include "model/registry.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace ovllm::model {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Activation parse_activation(const ConfigReader& reader, const std::string& key) {
    const std::string name = *reader.optional_string(key);
    if (name == "silu" || name == "swish") return Activation::silu;
    if (name == "relu") return Activation::relu;
    if (name == "gelu") return Activation::gelu;
    if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") {
        return Activation::gelu_tanh;
    }
    reader.bad_value(key, "'" + name +
                              "' is not a supported activation (silu, relu, gelu, gelu_new, "
                              "gelu_pytorch_tanh)");
}

void read_activation(const ConfigReader& reader, ModelConfig& config) {
    const std::string key =
        first_present(reader, {"hidden_act", "hidden_activation", "activation_function"});
    if (!key.empty()) config.hidden_act = parse_activation(reader, key);
}

// rope_scaling (4.x) or the scaling part of rope_parameters (5.x).
void read_rope_scaling(const ConfigReader& scaling, RopeScaling& out) {
    const std::string type_key = first_present(scaling, {"rope_type", "type"});
    if (!type_key.empty()) out.type = *scaling.optional_string(type_key);
    out.factor = scaling.optional_number("factor", out.factor);
    out.low_freq_factor = scaling.optional_number("low_freq_factor", out.low_freq_factor);
    out.high_freq_factor = scaling.optional_number("high_freq_factor", out.high_freq_factor);
    out.original_max_position_embeddings = scaling.optional_int("original_max_position_embeddings")
                                               .value_or(out.original_max_position_embeddings);
}

void read_rope(const ConfigReader& reader, ModelConfig& config) {
    config.rope_theta = reader.optional_number("rope_theta", config.rope_theta);
    config.rope_local_theta = reader.optional_number("rope_local_base_freq", 0.0);
    if (const auto scaling = reader.optional_object("rope_scaling")) {
        read_rope_scaling(*scaling, config.rope_scaling);
    }
    const auto params = reader.optional_object("rope_parameters");
    if (!params) return;
    // gemma3 (5.x): one set per attention kind.
    const auto full = params->optional_object("full_attention");
    const auto sliding = params->optional_object("sliding_attention");
    if (full || sliding) {
        if (full) {
            config.rope_theta = full->optional_number("rope_theta", config.rope_theta);
            read_rope_scaling(*full, config.rope_scaling);
        }
        if (sliding) {
            config.rope_local_theta = sliding->optional_number("rope_theta", 0.0);
        }
        return;
    }
    config.rope_theta = params->optional_number("rope_theta", config.rope_theta);
    read_rope_scaling(*params, config.rope_scaling);
}

void read_token_ids(const ConfigReader& reader, const json& root, ModelConfig& config) {
    config.bos_token_id = reader.optional_int("bos_token_id");
    if (!reader.has("eos_token_id")) return;
    const json& eos = root.at("eos_token_id");
    if (eos.is_number_integer()) {
        config.eos_token_ids.push_back(eos.get<int64_t>());
        return;
    }
    if (!eos.is_array()) reader.wrong_type("eos_token_id", "an integer or a list", eos);
    for (const json& id : eos) {
        if (!id.is_number_integer()) reader.wrong_type("eos_token_id", "a list of integers", id);
        config.eos_token_ids.push_back(id.get<int64_t>());
    }
}

// Which layers attend through the sliding window: layer_types when given, else gemma's
// sliding_window_pattern (layer i is global iff (i+1) % pattern == 0), else every layer.
void read_sliding_window(const ConfigReader& reader, ModelConfig& config) {
    const size_t layers = static_cast<size_t>(config.num_hidden_layers);
    config.layer_uses_sliding_window.assign(layers, false);
    const bool qwen_style = reader.has("use_sliding_window");
    if (qwen_style && !reader.optional_bool("use_sliding_window", false)) return;
    config.sliding_window = reader.optional_int("sliding_window");
    if (!config.sliding_window) return;
    if (*config.sliding_window <= 0) reader.bad_value("sliding_window", "must be positive");

    const json& types = reader.optional_array("layer_types");
    if (!types.empty()) {
        if (types.size() != layers) {
            reader.bad_value("layer_types", "has " + std::to_string(types.size()) +
                                                " entries, expected num_hidden_layers = " +
                                                std::to_string(layers));
        }
        for (size_t i = 0; i < layers; ++i) {
            if (!types[i].is_string())
                reader.wrong_type("layer_types", "a list of strings", types[i]);
            config.layer_uses_sliding_window[i] = types[i] == "sliding_attention";
        }
    } else if (const auto pattern = reader.optional_int("sliding_window_pattern")) {
        if (*pattern <= 0) reader.bad_value("sliding_window_pattern", "must be positive");
        for (size_t i = 0; i < layers; ++i) {
            config.layer_uses_sliding_window[i] = (i + 1) % static_cast<size_t>(*pattern) != 0;
        }
    } else if (qwen_style) {
        // Qwen2: layers from max_window_layers on use the window.
        const int64_t first = reader.optional_int("max_window_layers").value_or(0);
        for (size_t i = 0; i < layers; ++i) {
            config.layer_uses_sliding_window[i] = static_cast<int64_t>(i) >= first;
        }
    } else {
        config.layer_uses_sliding_window.assign(layers, true);
    }
    bool any = false;
    for (const bool uses : config.layer_uses_sliding_window) any = any || uses;
    if (!any) config.sliding_window.reset();
}

// Sizes and token counts travel as int32 (paged inputs, max_model_len), so each must fit.
void check_size(const ConfigReader& reader, const char* key, int64_t value) {
    constexpr int64_t kLargest = std::numeric_limits<int32_t>::max();
    if (value <= 0) reader.bad_value(key, "must be positive, got " + std::to_string(value));
    if (value > kLargest) {
        reader.bad_value(key, "is " + std::to_string(value) + ", more than the largest supported " +
                                  std::to_string(kLargest));
    }
}

void check_consistency(const ConfigReader& reader, const ModelConfig& config) {
    check_size(reader, "hidden_size", config.hidden_size);
    check_size(reader, "num_hidden_layers", config.num_hidden_layers);
    check_size(reader, "num_attention_heads", config.num_attention_heads);
    check_size(reader, "num_key_value_heads", config.num_key_value_heads);
    check_size(reader, "head_dim", config.head_dim);
    check_size(reader, "intermediate_size", config.intermediate_size);
    check_size(reader, "vocab_size", config.vocab_size);
    check_size(reader, "max_position_embeddings", config.max_position_embeddings);
    if (config.num_attention_heads % config.num_key_value_heads != 0) {
        reader.bad_value("num_key_value_heads", "(" + std::to_string(config.num_key_value_heads) +
                                                    ") must divide num_attention_heads (" +
                                                    std::to_string(config.num_attention_heads) +
                                                    ")");
    }
}

json parse_json_file(const fs::path& file) {
    const std::string text = util::read_file(file);
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        throw_error("{}: invalid JSON at byte {}", file.string(), e.byte);
    } catch (const json::out_of_range&) {  // how the parser refuses a number like 1e999
        throw_error("{}: invalid JSON (a number out of range)", file.string());
    }
}

}  // namespace

double ModelConfig::attention_scale() const {
    const double scalar =
        query_pre_attn_scalar > 0.0 ? query_pre_attn_scalar : static_cast<double>(head_dim);
    return 1.0 / std::sqrt(scalar);
}

int64_t ModelConfig::parameter_count() const {
    const Family* family = family_for_model_type(model_type);
    if (family && family->parameter_count) return family->parameter_count(*this);
    return decoder_parameter_count(*this, 2);
}

void read_decoder_config(const ConfigReader& reader, ModelConfig& config) {
    config.hidden_size = reader.require_int("hidden_size");
    config.num_hidden_layers = reader.require_int("num_hidden_layers");
    config.num_attention_heads = reader.require_int("num_attention_heads");
    config.intermediate_size = reader.require_int("intermediate_size");
    config.max_position_embeddings = reader.require_int("max_position_embeddings");
    const std::string eps_key = first_present(reader, {"rms_norm_eps", "layer_norm_eps"});
    if (!eps_key.empty()) config.norm_eps = reader.optional_number(eps_key, config.norm_eps);
    config.attention_bias = reader.optional_bool("attention_bias", config.attention_bias);
    if (reader.has("final_logit_softcapping")) {
        config.final_logit_softcapping = reader.optional_number("final_logit_softcapping", 0.0);
    }
}

int64_t decoder_parameter_count(const ModelConfig& c, int64_t norms_per_layer) {
    const int64_t h = c.hidden_size;
    const int64_t q = c.num_attention_heads * c.head_dim;
    const int64_t kv = c.num_key_value_heads * c.head_dim;
    int64_t layer = h * q + 2 * h * kv + q * h + 3 * h * c.intermediate_size + norms_per_layer * h;
    if (c.attention_bias) layer += q + 2 * kv;
    if (c.qk_norm) layer += 2 * c.head_dim;
    return c.vocab_size * h + c.num_hidden_layers * layer + h +
           (c.tie_word_embeddings ? 0 : c.vocab_size * h);
}

ModelConfig load_model_config(const std::filesystem::path& path) {
    if (!fs::exists(path)) throw_error("{}: no such file or folder", path.string());
    fs::path file = path;
    if (fs::is_directory(path)) {
        file = path / "config.json";
        if (!fs::exists(file)) {
            throw_error("{}: no config.json in this folder", path.string());
        }
    }
    return parse_model_config(parse_json_file(file), file.string());
}

ModelConfig parse_model_config(const nlohmann::json& root, const std::string& name) {
    if (!root.is_object()) throw_error("{}: expected a JSON object at the top level", name);
    const ConfigReader reader(name, root);

    ModelConfig config;
    config.model_type = reader.require_string("model_type");
    const json& architectures = reader.optional_array("architectures");
    if (!architectures.empty()) {
        if (!architectures[0].is_string()) {
            reader.wrong_type("architectures", "a list of strings", architectures[0]);
        }
        config.architecture = architectures[0].get<std::string>();
    }
    // Unknown model types read as llama-like; the builder then names the architecture.
    const Family* family = family_for_model_type(config.model_type);
    (family ? family->read_config : read_decoder_config)(reader, config);
    config.vocab_size = reader.require_int("vocab_size");
    config.num_key_value_heads =
        reader.optional_int("num_key_value_heads").value_or(config.num_attention_heads);
    if (config.num_attention_heads > 0) {
        config.head_dim = reader.optional_int("head_dim")
                              .value_or(config.hidden_size / config.num_attention_heads);
    }
    config.tie_word_embeddings = reader.optional_bool("tie_word_embeddings", true);
    const std::string dtype_key = first_present(reader, {"dtype", "torch_dtype"});
    if (!dtype_key.empty()) config.torch_dtype = *reader.optional_string(dtype_key);
    read_activation(reader, config);
    read_rope(reader, config);
    check_consistency(reader, config);
    read_sliding_window(reader, config);
    read_token_ids(reader, root, config);
    read_quantization_config(reader, config);
    return config;
}

std::optional<std::string> builtin_config_json(const std::string& name) {
    for (const Family* family : model_families())
        for (const BuiltinConfig& builtin : family->builtins)
            if (builtin.name == name) return std::string(builtin.config_json);
    return std::nullopt;
}

std::optional<ModelConfig> builtin_model_config(const std::string& name) {
    const std::optional<std::string> text = builtin_config_json(name);
    if (!text) return std::nullopt;
    return parse_model_config(json::parse(*text), "built-in config of " + name);
}

std::vector<std::string> builtin_model_names() {
    std::vector<std::string> names;
    for (const Family* family : model_families())
        for (const BuiltinConfig& builtin : family->builtins) names.emplace_back(builtin.name);
    return names;
}

}  // namespace ovllm::model
