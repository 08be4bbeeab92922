#include "model/gguf_weights.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openvino/op/constant.hpp>
#include <openvino/runtime/tensor.hpp>

#include "model/gguf_tensors.hpp"
#include "model/registry.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

// HF module path inside a layer -> GGUF block tensor stem, as llama.cpp names them for
// llama-like families; a family's layer_module hook overrides single entries.
std::optional<std::string> layer_module(const GgufMapping* mapping, const std::string& module) {
    if (mapping && mapping->layer_module) {
        if (auto own = mapping->layer_module(module)) return own;
    }
    static const std::map<std::string, std::string> common = {
        {"input_layernorm", "attn_norm"},
        {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"},
        {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"},
        {"mlp.gate_proj", "ffn_gate"},
        {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
        {"post_attention_layernorm", "ffn_norm"},
    };
    if (const auto it = common.find(module); it != common.end()) return it->second;
    return std::nullopt;
}

const GgufMapping* mapping_of(const std::string& arch) {
    const Family* family = family_for_gguf(arch);
    return family ? family->gguf : nullptr;
}

int64_t required_int(const GgufFile& f, const std::string& key) {
    const auto v = f.get_int(key);
    if (!v) throw_error("{}: GGUF metadata '{}' is missing", f.path().string(), key);
    if (*v <= 0) throw_error("{}: GGUF metadata '{}' must be positive", f.path().string(), key);
    return *v;
}

// Copies whole rows of `cols` values in `order` (output row r = input row order[r]).
void reorder_rows(const std::vector<float>& in, const std::vector<int64_t>& order, int64_t cols,
                  float* out) {
    for (size_t r = 0; r < order.size(); ++r) {
        std::copy_n(in.data() + order[r] * cols, cols, out + static_cast<int64_t>(r) * cols);
    }
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
    const auto stem = layer_module(mapping_of(arch), module);
    if (!stem) return std::nullopt;
    return "blk." + layer + "." + *stem + hf_name.substr(last);
}

ModelConfig gguf_model_config(const GgufFile& f) {
    const std::string file = f.path().string();
    const auto arch = f.get_string("general.architecture");
    if (!arch) throw_error("{}: GGUF metadata 'general.architecture' is missing", file);
    const Family* family = family_for_gguf(*arch);
    if (!family) {
        throw_error("{}: GGUF architecture '{}' is not supported ({})", file, *arch,
                    fmt::join(supported_gguf_architectures(), ", "));
    }
    const std::string k = *arch + ".";
    ModelConfig c;
    c.architecture = family->hf_classes.front();
    c.model_type = family->model_types.front();
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
    c.torch_dtype = "float32";
    if (const auto bos = f.get_int("tokenizer.ggml.bos_token_id")) c.bos_token_id = *bos;
    if (const auto eos = f.get_int("tokenizer.ggml.eos_token_id")) c.eos_token_ids = {*eos};
    c.layer_uses_sliding_window.assign(static_cast<size_t>(c.num_hidden_layers), false);
    if (family->gguf->read_config) family->gguf->read_config(f, c);
    return c;
}

GgufWeights::GgufWeights(std::shared_ptr<const GgufFile> file, const ModelConfig& config,
                         bool dequantize_f32)
    : file_(std::move(file)),
      arch_(*file_->get_string("general.architecture")),
      mapping_(mapping_of(arch_)),
      config_(config),
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
    const auto order = mapping_ && mapping_->row_order
                           ? mapping_->row_order(name, config_, static_cast<int64_t>(stored[0]))
                           : std::nullopt;
    if (use != WeightUse::other && stored.size() == 2 && !dequantize_f32_) {
        const std::vector<int64_t> rows = order ? *order : std::vector<int64_t>{};
        const ov::Output<ov::Node> matrix = gguf_matrix(*t, file, name, rows, file_);
        const ov::element::Type storage = gguf_storage_type(t->type);
        if (storage == ov::element::u4 || storage == ov::element::u8) {
            file_->release_pages(*t);  // copied into the compressed constants
        }
        return matrix;
    }
    // Norms, biases (small), and every tensor of the f32 reference.
    ov::Tensor values(ov::element::f32, stored);  // owned; the Constant shares it
    float* out = values.data<float>();
    if (order) {
        std::vector<float> raw(t->elements);
        dequantize(*t, file, raw.data());
        reorder_rows(raw, *order, static_cast<int64_t>(t->elements / stored[0]), out);
    } else {
        dequantize(*t, file, out);
    }
    const float offset = mapping_ && mapping_->value_offset ? mapping_->value_offset(name) : 0.0f;
    if (offset != 0.0f) {
        for (size_t i = 0; i < t->elements; ++i) out[i] += offset;
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
