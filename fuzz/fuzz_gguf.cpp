// libFuzzer target: random bytes as a GGUF file. Opening it must either succeed or throw
// ovllm::Error; for a file that opens, the typed metadata look-ups must answer or throw
// ovllm::Error, and dequantize() must read only its (small) tensors' bytes.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "memory_file.hpp"
#include "model/gguf.hpp"
#include "util/error.hpp"

namespace {

using ovllm::model::GgufFile;

// Bigger tensors only repeat the same block code on more data.
constexpr uint64_t kMaxDequantizedElements = 1 << 16;

void read_metadata(const GgufFile& gguf) {
    for (const auto& entry : gguf.metadata()) {
        const std::string& key = entry.first;
        try {
            (void)gguf.get_number(key);
            (void)gguf.get_int(key);
        } catch (const ovllm::Error&) {  // not an integer: named in the message
        }
        try {
            (void)gguf.get_string(key);
        } catch (const ovllm::Error&) {
        }
        try {
            (void)gguf.get_array(key);
        } catch (const ovllm::Error&) {
        }
    }
}

void dequantize_small_tensors(const GgufFile& gguf, size_t file_size) {
    std::vector<float> out;
    for (const ovllm::model::GgufTensor& tensor : gguf.tensors()) {
        if (tensor.byte_size > file_size || gguf.find(tensor.name) == nullptr) std::abort();
        // The element count is the product of the dims, without wrapping around: a wrapped
        // count would hide a shape far larger than the data.
        uint64_t elements = 1;
        for (const uint64_t dim : tensor.dims) {
            if (__builtin_mul_overflow(elements, dim, &elements)) std::abort();
        }
        if (elements != tensor.elements) std::abort();
        (void)tensor.row_major_shape();
        if (tensor.elements > kMaxDequantizedElements ||
            !ovllm::model::ggml_type_supported(tensor.type)) {
            continue;
        }
        out.resize(tensor.elements);
        ovllm::model::dequantize(tensor, "fuzz input", out.data());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const MemoryFile file(data, size);
    try {
        const GgufFile gguf(file.path());
        read_metadata(gguf);
        dequantize_small_tensors(gguf, size);
    } catch (const ovllm::Error&) {
    }
    return 0;
}
