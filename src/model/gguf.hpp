#pragma once
// Reader for GGUF v2/v3 files (llama.cpp's single-file format): the file is mmap'ed once; the
// header, metadata key/values and tensor infos are parsed and validated at open, tensor data
// stays in the mapping. Quantized blocks are turned into f32 by dequantize().
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/safetensors.hpp"  // MappedFile

namespace ovllm::model {

// ggml tensor types by their on-disk id.
enum class GgmlType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    bf16 = 30,
};
// "Q4_K", "F16", ... or "type <id>" for ids this reader does not know.
std::string ggml_type_name(uint32_t type);
// True when dequantize() handles the type.
bool ggml_type_supported(uint32_t type);
// The supported type names, "F32, F16, BF16, Q4_0, ...", for messages.
std::string ggml_supported_types();

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block, from its 12
// packed scale bytes `q`.
void ggml_k_scale_min(int j, const uint8_t* q, float& scale, float& min);

// A metadata value. Arrays keep their element count and their values: numbers, or strings
// (the vocabulary and merges of tokenizer.ggml.*).
struct GgufArray {
    uint32_t element_type = 0;
    uint64_t count = 0;
    std::vector<double> numbers;
    std::vector<std::string> strings;
};
using GgufValue = std::variant<int64_t, uint64_t, double, bool, std::string, GgufArray>;

struct GgufTensor {
    std::string name;
    uint32_t type = 0;
    std::vector<uint64_t> dims;  // ggml order: dims[0] is the contiguous (fastest) axis
    uint64_t elements = 0;
    const std::byte* data = nullptr;  // inside the mapping
    size_t byte_size = 0;
    // Row-major shape as a nested-array view: dims reversed ([out, in] for a projection).
    std::vector<size_t> row_major_shape() const;
};

class GgufFile {
  public:
    // Throws ovllm::Error naming the file for a missing file, a bad magic, an unsupported
    // version, truncated metadata or tensor infos, and tensor data beyond the end of the file.
    explicit GgufFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return path_; }
    uint32_t version() const { return version_; }
    const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
    const std::vector<GgufTensor>& tensors() const { return tensors_; }
    const GgufTensor* find(const std::string& name) const;

    // Drops the pages of `tensor`'s data from this process's resident memory once they have
    // been copied elsewhere (re-laid out). The mapping is private and never written, so a
    // later read faults them back in from the file.
    void release_pages(const GgufTensor& tensor) const;

    bool has(const std::string& key) const { return metadata_.count(key) != 0; }
    // Typed look-ups: nullopt when absent; ovllm::Error naming the key for a wrong type.
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_number(const std::string& key) const;
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<GgufArray> get_array(const std::string& key) const;

  private:
    std::filesystem::path path_;
    std::shared_ptr<MappedFile> file_;
    uint32_t version_ = 0;
    std::map<std::string, GgufValue> metadata_;
    std::vector<GgufTensor> tensors_;
    std::map<std::string, size_t> index_;
};

// Dequantizes the whole tensor to f32 into `out` (tensor.elements values, row-major).
// Throws ovllm::Error naming the file, tensor and type for an unsupported type.
void dequantize(const GgufTensor& tensor, const std::string& file, float* out);

}  // namespace ovllm::model
