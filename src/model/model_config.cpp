#include "model/model_config.hpp"

#include <cmath>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/file.hpp"

namespace ovllm::model {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Typed access to one JSON object of config.json; every error names the file and the field.
class ConfigReader {
  public:
    ConfigReader(std::string file, const json& object, std::string prefix = "")
        : file_(std::move(file)), object_(object), prefix_(std::move(prefix)) {}

    // True when the key exists and is not null.
    bool has(const std::string& key) const {
        const auto it = object_.find(key);
        return it != object_.end() && !it->is_null();
    }

    const std::string& file() const { return file_; }
    std::string field_name(const std::string& key) const { return prefix_ + key; }

    int64_t require_int(const std::string& key) const {
        if (!has(key)) missing(key);
        return as_int(key);
    }
    std::optional<int64_t> optional_int(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        return as_int(key);
    }
    double optional_number(const std::string& key, double fallback) const {
        if (!has(key)) return fallback;
        const json& value = object_.at(key);
        if (!value.is_number()) wrong_type(key, "a number", value);
        return value.get<double>();
    }
    bool optional_bool(const std::string& key, bool fallback) const {
        if (!has(key)) return fallback;
        const json& value = object_.at(key);
        if (!value.is_boolean()) wrong_type(key, "a boolean", value);
        return value.get<bool>();
    }
    std::optional<std::string> optional_string(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        const json& value = object_.at(key);
        if (!value.is_string()) wrong_type(key, "a string", value);
        return value.get<std::string>();
    }
    std::string require_string(const std::string& key) const {
        if (!has(key)) missing(key);
        return *optional_string(key);
    }
    // A nested object; nullopt when absent or null.
    std::optional<ConfigReader> optional_object(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        const json& value = object_.at(key);
        if (!value.is_object()) wrong_type(key, "an object", value);
        return ConfigReader(file_, value, prefix_ + key + ".");
    }
    const json& optional_array(const std::string& key) const {
        static const json empty = json::array();
        if (!has(key)) return empty;
        const json& value = object_.at(key);
        if (!value.is_array()) wrong_type(key, "an array", value);
        return value;
    }

    [[noreturn]] void missing(const std::string& key) const {
        throw_error("{}: required field '{}' is missing", file_, field_name(key));
    }
    [[noreturn]] void wrong_type(const std::string& key, const char* expected,
                                 const json& value) const {
        throw_error("{}: field '{}' must be {}, got {}", file_, field_name(key), expected,
                    value.type_name());
    }
    [[noreturn]] void bad_value(const std::string& key, const std::string& detail) const {
        throw_error("{}: field '{}' {}", file_, field_name(key), detail);
    }

  private:
    int64_t as_int(const std::string& key) const {
        const json& value = object_.at(key);
        if (!value.is_number_integer()) wrong_type(key, "an integer", value);
        return value.get<int64_t>();
    }

    std::string file_;
    const json& object_;
    std::string prefix_;
};

// The first key of `keys` present in the object, or "" when none is.
std::string first_present(const ConfigReader& reader, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (reader.has(key)) return key;
    }
    return "";
}

int64_t require_int_any(const ConfigReader& reader, std::initializer_list<const char*> keys) {
    const std::string key = first_present(reader, keys);
    if (key.empty()) reader.missing(*keys.begin());
    return reader.require_int(key);
}

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
    if (!key.empty()) {
        config.hidden_act = parse_activation(reader, key);
    } else if (config.model_type == "gpt2") {
        config.hidden_act = Activation::gelu_tanh;
    } else if (config.model_type == "opt") {
        config.hidden_act = Activation::relu;
    } else if (config.model_type.starts_with("gemma")) {
        config.hidden_act = Activation::gelu_tanh;
    }
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

void read_gpt2(const ConfigReader& reader, ModelConfig& config) {
    config.hidden_size = require_int_any(reader, {"n_embd", "hidden_size"});
    config.num_hidden_layers = require_int_any(reader, {"n_layer", "num_hidden_layers"});
    config.num_attention_heads = require_int_any(reader, {"n_head", "num_attention_heads"});
    config.intermediate_size = reader.optional_int("n_inner").value_or(4 * config.hidden_size);
    config.max_position_embeddings =
        require_int_any(reader, {"n_positions", "max_position_embeddings"});
    config.norm_eps = reader.optional_number("layer_norm_epsilon", 1e-5);
    config.attention_bias = true;
}

void read_opt(const ConfigReader& reader, ModelConfig& config) {
    config.hidden_size = reader.require_int("hidden_size");
    config.num_hidden_layers = reader.require_int("num_hidden_layers");
    config.num_attention_heads = reader.require_int("num_attention_heads");
    config.intermediate_size = reader.require_int("ffn_dim");
    config.max_position_embeddings = reader.require_int("max_position_embeddings");
    config.norm_eps = 1e-5;  // OPT's LayerNorm uses the torch default
    config.do_layer_norm_before = reader.optional_bool("do_layer_norm_before", true);
    config.word_embed_proj_dim =
        reader.optional_int("word_embed_proj_dim").value_or(config.hidden_size);
    config.attention_bias = reader.optional_bool("enable_bias", true);
}

// llama, mistral, qwen2, qwen3, gemma3 and the like.
void read_decoder(const ConfigReader& reader, ModelConfig& config) {
    config.hidden_size = reader.require_int("hidden_size");
    config.num_hidden_layers = reader.require_int("num_hidden_layers");
    config.num_attention_heads = reader.require_int("num_attention_heads");
    config.intermediate_size = reader.require_int("intermediate_size");
    config.max_position_embeddings = reader.require_int("max_position_embeddings");
    const std::string eps_key = first_present(reader, {"rms_norm_eps", "layer_norm_eps"});
    if (!eps_key.empty()) config.norm_eps = reader.optional_number(eps_key, config.norm_eps);
    config.attention_bias = reader.optional_bool("attention_bias", config.model_type == "qwen2");
    config.qk_norm = config.model_type == "qwen3" || config.model_type.starts_with("gemma3");
    if (config.model_type.starts_with("gemma3")) {
        config.query_pre_attn_scalar = reader.optional_number("query_pre_attn_scalar", 0.0);
    }
    if (reader.has("final_logit_softcapping")) {
        config.final_logit_softcapping = reader.optional_number("final_logit_softcapping", 0.0);
    }
}

void check_positive(const ConfigReader& reader, const char* key, int64_t value) {
    if (value <= 0) reader.bad_value(key, "must be positive, got " + std::to_string(value));
}

void check_consistency(const ConfigReader& reader, const ModelConfig& config) {
    check_positive(reader, "hidden_size", config.hidden_size);
    check_positive(reader, "num_hidden_layers", config.num_hidden_layers);
    check_positive(reader, "num_attention_heads", config.num_attention_heads);
    check_positive(reader, "num_key_value_heads", config.num_key_value_heads);
    check_positive(reader, "head_dim", config.head_dim);
    check_positive(reader, "vocab_size", config.vocab_size);
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
    }
}

}  // namespace

double ModelConfig::attention_scale() const {
    const double scalar =
        query_pre_attn_scalar > 0.0 ? query_pre_attn_scalar : static_cast<double>(head_dim);
    return 1.0 / std::sqrt(scalar);
}

int64_t ModelConfig::parameter_count() const {
    const int64_t h = hidden_size;
    const int64_t ffn = intermediate_size;
    if (model_type == "gpt2") {
        const int64_t layer = 4 * h                // ln_1, ln_2 (weight + bias)
                              + h * 3 * h + 3 * h  // c_attn
                              + h * h + h          // attn.c_proj
                              + h * ffn + ffn      // mlp.c_fc
                              + ffn * h + h;       // mlp.c_proj
        return vocab_size * h + max_position_embeddings * h + num_hidden_layers * layer + 2 * h +
               (tie_word_embeddings ? 0 : vocab_size * h);
    }
    if (model_type == "opt") {
        const int64_t bias = attention_bias ? 1 : 0;
        const int64_t layer = 4 * (h * h + bias * h) + h * ffn + bias * ffn + ffn * h + bias * h +
                              4 * h;  // two LayerNorms
        const int64_t proj = word_embed_proj_dim;
        const int64_t project = proj != h ? 2 * proj * h : 0;  // project_in / project_out
        const int64_t final_norm = do_layer_norm_before ? 2 * h : 0;
        return vocab_size * proj + (max_position_embeddings + 2) * h + project +
               num_hidden_layers * layer + final_norm +
               (tie_word_embeddings ? 0 : vocab_size * proj);
    }
    const int64_t q = num_attention_heads * head_dim;
    const int64_t kv = num_key_value_heads * head_dim;
    const bool gemma = model_type.starts_with("gemma");
    int64_t layer = h * q + 2 * h * kv + q * h + 3 * h * ffn + (gemma ? 4 : 2) * h;
    if (attention_bias) layer += q + 2 * kv;
    if (qk_norm) layer += 2 * head_dim;
    return vocab_size * h + num_hidden_layers * layer + h +
           (tie_word_embeddings ? 0 : vocab_size * h);
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
    if (config.model_type == "gpt2") {
        read_gpt2(reader, config);
    } else if (config.model_type == "opt") {
        read_opt(reader, config);
    } else {
        read_decoder(reader, config);
    }
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
    return config;
}

namespace {

// The config.json files these models were published with (the fields ovllm reads).
constexpr std::string_view kOpt125m = R"({
  "architectures": ["OPTForCausalLM"], "model_type": "opt", "activation_function": "relu",
  "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "ffn_dim": 3072,
  "vocab_size": 50272, "max_position_embeddings": 2048, "word_embed_proj_dim": 768,
  "do_layer_norm_before": true, "enable_bias": true, "bos_token_id": 2, "eos_token_id": 2,
  "pad_token_id": 1, "torch_dtype": "float16"
})";
constexpr std::string_view kQwen15Chat18B = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 16,
  "num_key_value_heads": 16, "intermediate_size": 5504, "vocab_size": 151936,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "max_window_layers": 21, "use_sliding_window": false,
  "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645,
  "torch_dtype": "bfloat16"
})";
constexpr std::string_view kQwen15Chat4B = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 2560, "num_hidden_layers": 40, "num_attention_heads": 20,
  "num_key_value_heads": 20, "intermediate_size": 6912, "vocab_size": 151936,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 5000000.0,
  "sliding_window": 32768, "max_window_layers": 21, "use_sliding_window": false,
  "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645,
  "torch_dtype": "bfloat16"
})";

struct BuiltinConfig {
    std::string_view name;
    std::string_view config_json;
};
constexpr BuiltinConfig kBuiltinConfigs[] = {
    {"facebook/opt-125m", kOpt125m},
    {"Qwen/Qwen1.5-1.8B-Chat", kQwen15Chat18B},
    {"Qwen/Qwen1.5-4B-Chat", kQwen15Chat4B},
};

}  // namespace

std::optional<std::string> builtin_config_json(const std::string& name) {
    for (const BuiltinConfig& builtin : kBuiltinConfigs)
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
    for (const BuiltinConfig& builtin : kBuiltinConfigs) names.emplace_back(builtin.name);
    return names;
}

}  // namespace ovllm::model
