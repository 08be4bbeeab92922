// GGUF reader: a small file written here with known block contents (every value checked
// against the format's definition), header errors, and the real SmolLM2 GGUF's metadata
// against the config.json converted from it.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/gguf.hpp"
#include "model/gguf_weights.hpp"
#include "model/model_config.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

using model::GgufFile;

class Writer {
  public:
    template <typename T>
    void put(T v) {
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        bytes.insert(bytes.end(), p, p + sizeof(T));
    }
    void str(const std::string& s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
    void pad(size_t alignment) {
        while (bytes.size() % alignment != 0) bytes.push_back(0);
    }
    std::vector<uint8_t> bytes;
};

struct TensorSpec {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> data;
};

// Q8_0 block: d = 0.5, q = -16..15.
std::vector<uint8_t> q8_0_block() {
    Writer w;
    w.put<uint16_t>(0x3800);
    for (int j = 0; j < 32; ++j) w.put<int8_t>(static_cast<int8_t>(j - 16));
    return w.bytes;
}
// Q4_0 / Q4_1 blocks: low nibble j, high nibble 15 - j.
std::vector<uint8_t> q4_block(bool with_min) {
    Writer w;
    w.put<uint16_t>(with_min ? 0x3400 : 0x4000);  // d = 0.25 or 2.0
    if (with_min) w.put<uint16_t>(0xBC00);        // m = -1.0
    for (int j = 0; j < 16; ++j) w.put<uint8_t>(static_cast<uint8_t>(j | ((15 - j) << 4)));
    return w.bytes;
}

std::vector<uint8_t> make_gguf(const std::vector<TensorSpec>& tensors) {
    Writer w;
    w.put<uint32_t>(0x46554747);
    w.put<uint32_t>(3);
    w.put<uint64_t>(tensors.size());
    w.put<uint64_t>(3);
    w.str("general.architecture");
    w.put<uint32_t>(8);
    w.str("llama");
    w.str("general.alignment");
    w.put<uint32_t>(4);
    w.put<uint32_t>(64);
    w.str("llama.list");  // array of 3 i32
    w.put<uint32_t>(9);
    w.put<uint32_t>(5);
    w.put<uint64_t>(3);
    for (int32_t v : {7, -8, 9}) w.put<int32_t>(v);
    uint64_t offset = 0;
    for (const TensorSpec& t : tensors) {
        w.str(t.name);
        w.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
        for (uint64_t d : t.dims) w.put<uint64_t>(d);
        w.put<uint32_t>(t.type);
        w.put<uint64_t>(offset);
        offset += (t.data.size() + 63) / 64 * 64;
    }
    for (const TensorSpec& t : tensors) {
        w.pad(64);
        w.bytes.insert(w.bytes.end(), t.data.begin(), t.data.end());
    }
    return w.bytes;
}

std::filesystem::path write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const auto path = std::filesystem::temp_directory_path() / ("ovllm_test_" + name);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
}

std::vector<TensorSpec> sample_tensors() {
    Writer f16;
    f16.put<uint16_t>(0x3E00);  // 1.5
    f16.put<uint16_t>(0xC000);  // -2
    return {
        {"a.q8_0", 8, {32, 1}, q8_0_block()},
        {"b.q4_0", 2, {32}, q4_block(false)},
        {"c.q4_1", 3, {32}, q4_block(true)},
        {"d.f16", 1, {2}, f16.bytes},
        {"e.q2_k", 10, {256}, std::vector<uint8_t>(84, 0)},
    };
}

std::string error_of(const std::filesystem::path& path) {
    try {
        GgufFile file(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

std::vector<float> dequantized(const GgufFile& file, const std::string& name) {
    const model::GgufTensor* t = file.find(name);
    EXPECT_NE(t, nullptr) << name;
    std::vector<float> out(t->elements);
    model::dequantize(*t, file.path().string(), out.data());
    return out;
}

TEST(Gguf, ReadsMetadataAndTensorInfos) {
    const GgufFile file(write_file("meta.gguf", make_gguf(sample_tensors())));
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.get_string("general.architecture"), "llama");
    EXPECT_EQ(file.get_int("general.alignment"), 64);
    const auto list = file.get_array("llama.list");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->numbers, (std::vector<double>{7, -8, 9}));
    EXPECT_FALSE(file.get_int("missing.key"));
    EXPECT_THROW((void)file.get_int("general.architecture"), Error);
    ASSERT_EQ(file.tensors().size(), 5u);
    EXPECT_EQ(file.find("a.q8_0")->row_major_shape(), (std::vector<size_t>{1, 32}));
}

TEST(Gguf, DequantizesBlocksByTheirDefinition) {
    const GgufFile file(write_file("blocks.gguf", make_gguf(sample_tensors())));
    const auto q8 = dequantized(file, "a.q8_0");
    const auto q40 = dequantized(file, "b.q4_0");
    const auto q41 = dequantized(file, "c.q4_1");
    for (int j = 0; j < 32; ++j) EXPECT_EQ(q8[j], 0.5f * static_cast<float>(j - 16));
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(q40[j], 2.0f * static_cast<float>(j - 8));
        EXPECT_EQ(q40[j + 16], 2.0f * static_cast<float>(15 - j - 8));
        EXPECT_EQ(q41[j], 0.25f * static_cast<float>(j) - 1.0f);
        EXPECT_EQ(q41[j + 16], 0.25f * static_cast<float>(15 - j) - 1.0f);
    }
    EXPECT_EQ(dequantized(file, "d.f16"), (std::vector<float>{1.5f, -2.0f}));
}

TEST(Gguf, UnsupportedTypeNamesTheTypeAndTensor) {
    const GgufFile file(write_file("q2k.gguf", make_gguf(sample_tensors())));
    std::vector<float> out(256);
    try {
        model::dequantize(*file.find("e.q2_k"), "q2k.gguf", out.data());
        FAIL() << "Q2_K dequantized";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'e.q2_k' has quantization type Q2_K"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Gguf, LoadingAnUnknownQuantTypeListsTheSupportedOnes) {
    auto tensors = sample_tensors();
    tensors.push_back({"f.unknown", 99, {32}, std::vector<uint8_t>(32, 0)});
    const auto path = write_file("unknown_type.gguf", make_gguf(tensors));
    try {
        model::load_gguf(path);
        FAIL() << "a GGUF with type 99 loaded";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  path.string() +
                      ": tensor 'e.q2_k' has quantization type Q2_K, which is not supported "
                      "(supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, "
                      "BF16)");
    }
    tensors.erase(tensors.begin() + 4);  // without the Q2_K tensor, type 99 is the first
    const auto only_unknown = write_file("unknown_type2.gguf", make_gguf(tensors));
    try {
        model::load_gguf(only_unknown);
        FAIL() << "a GGUF with type 99 loaded";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("'f.unknown' has quantization type type 99, which is not "
                               "supported (supported: F32, F16, Q4_0"),
                  std::string::npos)
            << message;
        EXPECT_EQ(message.find('\n'), std::string::npos);
    }
}

TEST(Gguf, BadMagicAndTruncatedFilesAreErrors) {
    std::vector<uint8_t> bytes = make_gguf(sample_tensors());
    std::vector<uint8_t> bad = bytes;
    bad[0] = 'X';
    EXPECT_NE(error_of(write_file("bad.gguf", bad)).find("bad magic"), std::string::npos);
    // Cut inside the tensor data, and inside the metadata.
    const std::vector<uint8_t> short_data(bytes.begin(), bytes.end() - 100);
    const std::string data_error = error_of(write_file("short.gguf", short_data));
    EXPECT_NE(data_error.find("truncated GGUF file: tensor 'e.q2_k'"), std::string::npos)
        << data_error;
    const std::vector<uint8_t> short_meta(bytes.begin(), bytes.begin() + 40);
    EXPECT_NE(error_of(write_file("short_meta.gguf", short_meta)).find("truncated GGUF file"),
              std::string::npos);
}

// Found by fuzz/fuzz_gguf: dims whose product wraps around 64 bits gave a tiny element
// count and byte size, so the file opened with a tensor describing far more data than it has.
TEST(Gguf, DimsWhoseSizeOverflowsAreErrors) {
    const uint64_t two_32 = uint64_t{1} << 32;  // 2^32 x 2^32 wraps to 0 elements
    const std::string wrapped =
        error_of(write_file("wrap.gguf", make_gguf({{"w.f32", 0, {two_32, two_32}, {}}})));
    EXPECT_NE(wrapped.find("tensor 'w.f32' has dims [4294967296, 4294967296] whose size does "
                           "not fit in 64 bits"),
              std::string::npos)
        << wrapped;
    // 2^62 f32 elements fit, their 2^64 bytes do not (the byte size wrapped to 0).
    const std::string bytes =
        error_of(write_file("wrap_bytes.gguf", make_gguf({{"b.f32", 0, {uint64_t{1} << 62}, {}}})));
    EXPECT_NE(bytes.find("tensor 'b.f32' has dims [4611686018427387904] whose size"),
              std::string::npos)
        << bytes;
}

// Found by fuzz/fuzz_gguf: a zero dim made an empty tensor, and dequantize() then passed a
// null buffer to memcpy (undefined behaviour even for 0 bytes; UBSan stops on it).
TEST(Gguf, ZeroDimensionIsAnError) {
    const std::string error =
        error_of(write_file("zero.gguf", make_gguf({{"z.f32", 0, {4, 0}, {}}})));
    EXPECT_NE(error.find("tensor 'z.f32' has a zero dimension (dim 1)"), std::string::npos)
        << error;
}

TEST(Gguf, MapsHfNamesToGgufNames) {
    EXPECT_EQ(model::gguf_tensor_name("llama", "model.layers.3.self_attn.q_proj.weight"),
              "blk.3.attn_q.weight");
    EXPECT_EQ(model::gguf_tensor_name("qwen2", "model.layers.0.self_attn.k_proj.bias"),
              "blk.0.attn_k.bias");
    EXPECT_EQ(model::gguf_tensor_name("llama", "model.layers.12.post_attention_layernorm.weight"),
              "blk.12.ffn_norm.weight");
    EXPECT_EQ(model::gguf_tensor_name("gemma3", "model.layers.1.post_attention_layernorm.weight"),
              "blk.1.post_attention_norm.weight");
    EXPECT_EQ(model::gguf_tensor_name("gemma3", "model.layers.1.pre_feedforward_layernorm.weight"),
              "blk.1.ffn_norm.weight");
    EXPECT_EQ(model::gguf_tensor_name("llama", "model.embed_tokens.weight"), "token_embd.weight");
    EXPECT_EQ(model::gguf_tensor_name("llama", "model.norm.weight"), "output_norm.weight");
    EXPECT_FALSE(model::gguf_tensor_name("llama", "model.layers.0.unknown.weight"));
}

TEST(Gguf, SmolLM2ConfigMatchesConvertedConfigJson) {
    const auto gguf = models_dir() / "smollm2-135m.gguf";
    const auto folder = models_dir() / "smollm2-135m";
    if (!std::filesystem::exists(gguf) || !std::filesystem::exists(folder)) {
        GTEST_SKIP() << gguf << " not present";
    }
    const GgufFile file(gguf);
    const model::ModelConfig got = model::gguf_model_config(file);
    const model::ModelConfig want = model::load_model_config(folder);
    EXPECT_EQ(got.architecture, want.architecture);
    EXPECT_EQ(got.hidden_size, want.hidden_size);
    EXPECT_EQ(got.num_hidden_layers, want.num_hidden_layers);
    EXPECT_EQ(got.num_attention_heads, want.num_attention_heads);
    EXPECT_EQ(got.num_key_value_heads, want.num_key_value_heads);
    EXPECT_EQ(got.head_dim, want.head_dim);
    EXPECT_EQ(got.intermediate_size, want.intermediate_size);
    EXPECT_EQ(got.vocab_size, want.vocab_size);
    EXPECT_EQ(got.max_position_embeddings, want.max_position_embeddings);
    EXPECT_EQ(got.tie_word_embeddings, want.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(got.rope_theta, want.rope_theta);
    EXPECT_NEAR(got.norm_eps, want.norm_eps, 1e-12);
    EXPECT_EQ(file.find("token_embd.weight")->type, 8u);    // Q8_0
    EXPECT_EQ(file.find("blk.0.attn_q.weight")->type, 3u);  // Q4_1
}

}  // namespace
}  // namespace ovllm::test
