// Llama family (LlamaForCausalLM; also SmolLM2): pre-RMSNorm decoder, rotary positions with
// optional Llama 3 frequency scaling, grouped-query attention, SiLU-gated MLP.
#include "model/decoder.hpp"
#include "model/family.hpp"

namespace ovllm::model::arch {
namespace {

std::shared_ptr<ov::Model> build(const ModelConfig& c, WeightSource& w) {
    return build_decoder(c, w, {.name = "llama", .qkv_bias = c.attention_bias});
}

// llama.cpp's converter reorders each head's Q/K rows from [half, pair] to pair-interleaved:
// GGUF row h*D + 2*i + p holds HF row h*D + p*D/2 + i (D = head_dim).
std::optional<std::vector<int64_t>> gguf_row_order(const std::string& hf_name, const ModelConfig& c,
                                                   int64_t rows) {
    const bool q = hf_name.ends_with("self_attn.q_proj.weight");
    if (!q && !hf_name.ends_with("self_attn.k_proj.weight")) return std::nullopt;
    const int64_t heads = q ? c.num_attention_heads : c.num_key_value_heads;
    const int64_t head_dim = rows / heads;
    const int64_t half = head_dim / 2;
    std::vector<int64_t> order(static_cast<size_t>(rows));
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t r = 0; r < head_dim; ++r)
            order[static_cast<size_t>(h * head_dim + r)] = h * head_dim + (r % half) * 2 + r / half;
    return order;
}

constexpr std::string_view kClasses[] = {"LlamaForCausalLM"};
constexpr std::string_view kTypes[] = {"llama"};
constexpr GgufMapping kGguf = {.architecture = "llama", .row_order = gguf_row_order};

}  // namespace

extern const Family llama = {.hf_classes = kClasses,
                             .model_types = kTypes,
                             .read_config = read_decoder_config,
                             .build = build,
                             .gguf = &kGguf};

}  // namespace ovllm::model::arch
