#include "model/gguf_weights.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include <openvino/op/constant.hpp>
#include <openvino/runtime/tensor.hpp>

#include "model/gguf_tensors.hpp"
#include "model/registry.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

struct ArchInfo {
    const char* gguf;
    const char* hf_class;
    const char* model_type;
};
constexpr ArchInfo kArchs[] = {
    {"llama", "LlamaForCausalLM", "llama"},
    {"qwen2", "Qwen2ForCausalLM", "qwen2"},
    {"gemma3", "Gemma3ForCausalLM", "gemma3_text"},
};

// HF module path inside a layer -> GGUF block tensor stem.
std::optional<std::string> layer_module(const std::string& arch, const std::string& module) {
    static const std::map<std::string, std::string> common = {
        {"input_layernorm", "attn_norm"},    {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},      {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"}, {"mlp.gate_proj", "ffn_gate"},
        {"mlp.up_proj", "ffn_up"},           {"mlp.down_proj", "ffn_down"},
    };
    if (const auto it = common.find(module); it != common.end()) return it->second;
    const bool gemma = arch == "gemma3";
    if (module == "post_attention_layernorm") return gemma ? "post_attention_norm" : "ffn_norm";
    if (gemma && module == "pre_feedforward_layernorm") return "ffn_norm";
    if (gemma && module == "post_feedforward_layernorm") return "post_ffw_norm";
    return std::nullopt;
}

int64_t required_int(const GgufFile& f, const std::string& key) {
    const auto v = f.get_int(key);
    if (!v) throw_error("{}: GGUF metadata '{}' is missing", f.path().string(), key);
    if (*v <= 0) throw_error("{}: GGUF metadata '{}' must be positive", f.path().string(), key);
    return *v;
}

bool is_norm(const std::string& hf_name) {
    return hf_name.find("norm.weight") != std::string::npos;
}

// llama.cpp's converter reorders each head's Q/K rows from [half, pair] to [pair-interleaved]:
// GGUF row h*D + 2*i + p holds HF row h*D + p*D/2 + i. The stored row of each HF row; rows
// move whole, so quantized rows move without being decoded.
std::vector<int64_t> unpermuted_row_order(int64_t heads, int64_t rows) {
    const int64_t head_dim = rows / heads;
    const int64_t half = head_dim / 2;
    std::vector<int64_t> order(static_cast<size_t>(rows));
    for (int64_t h = 0; h < heads; ++h) {
        for (int64_t r = 0; r < head_dim; ++r) {
            order[static_cast<size_t>(h * head_dim + r)] = h * head_dim + (r % half) * 2 + r / half;
        }
    }
    return order;
}

}  // namespace

std::optional<std::string> gguf_tensor_name(const std::string& arch, const std::string& hf_name) {
    if (hf_name == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf_name == "model.norm.weight") return "output_norm.weight";
    if (hf_name == "lm_head.weight") return "output.weight";
    const std::string prefix = "model.layers.";
    if (!hf_name.starts_with(prefix)) return std::nullopt;
    const size_t dot = hf_name.find('.', prefix.size());
    const size_t last = hf_name.rfind('.');
    if (dot == std::string::npos || last <= dot) return std::nullopt;
    const std::string layer = hf_name.substr(prefix.size(), dot - prefix.size());
    const std::string module = hf_name.substr(dot + 1, last - dot - 1);
    const auto stem = layer_module(arch, module);
    if (!stem) return std::nullopt;
    return "blk." + layer + "." + *stem + hf_name.substr(last);
}

ModelConfig gguf_model_config(const GgufFile& f) {
    const std::string file = f.path().string();
    const auto arch = f.get_string("general.architecture");
    if (!arch) throw_error("{}: GGUF metadata 'general.architecture' is missing", file);
    const auto* info = std::find_if(std::begin(kArchs), std::end(kArchs),
                                    [&](const ArchInfo& a) { return *arch == a.gguf; });
    if (info == std::end(kArchs)) {
        throw_error("{}: GGUF architecture '{}' is not supported (llama, qwen2, gemma3)", file,
                    *arch);
    }
    const std::string k = *arch + ".";
    ModelConfig c;
    c.architecture = info->hf_class;
    c.model_type = info->model_type;
    c.hidden_size = required_int(f, k + "embedding_length");
    c.num_hidden_layers = required_int(f, k + "block_count");
    c.num_attention_heads = required_int(f, k + "attention.head_count");
    c.num_key_value_heads =
        f.get_int(k + "attention.head_count_kv").value_or(c.num_attention_heads);
    c.intermediate_size = required_int(f, k + "feed_forward_length");
    c.max_position_embeddings = f.get_int(k + "context_length").value_or(0);
    c.head_dim =
        f.get_int(k + "attention.key_length").value_or(c.hidden_size / c.num_attention_heads);
    c.norm_eps = f.get_number(k + "attention.layer_norm_rms_epsilon").value_or(1e-6);
    c.rope_theta = f.get_number(k + "rope.freq_base").value_or(10000.0);
    const GgufTensor* embed = f.find("token_embd.weight");
    if (!embed || embed->dims.size() != 2) {
        throw_error("{}: tensor 'token_embd.weight' is missing or not 2-D", file);
    }
    c.vocab_size = static_cast<int64_t>(embed->dims[1]);
    c.tie_word_embeddings = f.find("output.weight") == nullptr;
    c.attention_bias = *arch == "qwen2";
    c.torch_dtype = "float32";
    if (const auto bos = f.get_int("tokenizer.ggml.bos_token_id")) c.bos_token_id = *bos;
    if (const auto eos = f.get_int("tokenizer.ggml.eos_token_id")) c.eos_token_ids = {*eos};
    c.layer_uses_sliding_window.assign(static_cast<size_t>(c.num_hidden_layers), false);
    if (*arch == "gemma3") {
        c.hidden_act = Activation::gelu_tanh;
        c.qk_norm = true;
        // llama.cpp's gemma3: local base 10000, every 6th layer global, scale 1/sqrt(key_length).
        c.rope_local_theta = 10000.0;
        c.query_pre_attn_scalar = static_cast<double>(c.head_dim);
        c.sliding_window = f.get_int(k + "attention.sliding_window");
        for (size_t i = 0; i < c.layer_uses_sliding_window.size(); ++i) {
            c.layer_uses_sliding_window[i] = c.sliding_window && (i + 1) % 6 != 0;
        }
        if (const auto cap = f.get_number(k + "final_logit_softcapping"); cap && *cap > 0.0) {
            c.final_logit_softcapping = *cap;
        }
    }
    return c;
}

GgufWeights::GgufWeights(std::shared_ptr<const GgufFile> file, const ModelConfig& config,
                         bool dequantize_f32)
    : file_(std::move(file)),
      arch_(*file_->get_string("general.architecture")),
      heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      dequantize_f32_(dequantize_f32) {}

bool GgufWeights::contains(const std::string& name) const {
    const auto gguf = gguf_tensor_name(arch_, name);
    return gguf && file_->find(*gguf) != nullptr;
}

ov::Output<ov::Node> GgufWeights::get(const std::string& name, const ov::Shape& expected_shape,
                                      WeightUse use) {
    const std::string file = describe();
    const auto gguf = gguf_tensor_name(arch_, name);
    const GgufTensor* t = gguf ? file_->find(*gguf) : nullptr;
    if (!t) {
        throw_error("{}: tensor '{}' ({}) is missing", file, name, gguf.value_or("no GGUF name"));
    }
    const std::vector<size_t> dims = t->row_major_shape();
    const ov::Shape stored(dims.begin(), dims.end());
    if (use == WeightUse::matmul_transposed || stored != expected_shape) {
        throw_error("{}: tensor '{}' has shape {}, expected {}", file, *gguf, stored.to_string(),
                    expected_shape.to_string());
    }
    const bool permuted = arch_ == "llama" && (name.ends_with("self_attn.q_proj.weight") ||
                                               name.ends_with("self_attn.k_proj.weight"));
    std::vector<int64_t> order;
    if (permuted) {
        const int64_t heads = name.ends_with("q_proj.weight") ? heads_ : kv_heads_;
        order = unpermuted_row_order(heads, static_cast<int64_t>(stored[0]));
    }
    if (use != WeightUse::other && stored.size() == 2 && !dequantize_f32_) {
        const ov::Output<ov::Node> matrix = gguf_matrix(*t, file, name, order, file_);
        const ov::element::Type storage = gguf_storage_type(t->type);
        if (storage == ov::element::u4 || storage == ov::element::u8) {
            file_->release_pages(*t);  // copied into the compressed constants
        }
        return matrix;
    }
    // Norms, biases (small), and every tensor of the f32 reference.
    ov::Tensor values(ov::element::f32, stored);
    float* out = values.data<float>();
    dequantize(*t, file, out);
    if (!order.empty()) {
        const std::vector<float> stored_rows(out, out + t->elements);
        const size_t cols = stored[1];
        for (size_t r = 0; r < order.size(); ++r) {
            std::copy_n(stored_rows.data() + static_cast<size_t>(order[r]) * cols, cols,
                        out + r * cols);
        }
    }
    if (arch_ == "gemma3" && is_norm(name)) {
        // Stored as 1 + w; the builder applies 1 + w itself.
        for (size_t i = 0; i < t->elements; ++i) out[i] -= 1.0f;
    }
    auto constant = std::make_shared<ov::op::v0::Constant>(values);
    constant->set_friendly_name(name);
    return constant;
}

std::string GgufWeights::describe() const {
    return file_->path().string();
}

uint32_t GgufWeights::main_type() const {
    std::map<uint32_t, uint64_t> counts;
    for (const GgufTensor& t : file_->tensors()) counts[t.type] += t.elements;
    const auto best =
        std::max_element(counts.begin(), counts.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    return best == counts.end() ? 0 : best->first;
}

LoadedModel load_gguf(const std::filesystem::path& path, bool dequantize_f32) {
    const auto file = std::make_shared<const GgufFile>(path);
    for (const GgufTensor& t : file->tensors()) {  // before any work: one clear line
        if (!ggml_type_supported(t.type)) {
            throw_error(
                "{}: tensor '{}' has quantization type {}, which is not supported "
                "(supported: {})",
                path.string(), t.name, ggml_type_name(t.type), ggml_supported_types());
        }
    }
    LoadedModel loaded;
    loaded.config = gguf_model_config(*file);
    GgufWeights weights(file, loaded.config, dequantize_f32);
    loaded.model = build_stateful_model(loaded.config, weights);
    loaded.weight_dtype =
        dequantize_f32 ? ov::element::f32 : gguf_storage_type(weights.main_type());
    loaded.source = "GGUF " + ggml_type_name(weights.main_type()) +
                    (dequantize_f32 ? " (dequantized to f32): " : " (kept compressed): ") +
                    weights.describe();
    return loaded;
}

}  // namespace ovllm::model
