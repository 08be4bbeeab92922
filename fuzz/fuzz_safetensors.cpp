// libFuzzer target: random bytes as a .safetensors file. Opening it must either succeed or
// throw ovllm::Error; every tensor of a file that opens must lie inside the file, with
// shape x dtype size bytes.
#include <cstdint>
#include <cstdlib>

#include "memory_file.hpp"
#include "model/safetensors.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const MemoryFile file(data, size);
    try {
        const ovllm::model::SafetensorsFile tensors(file.path());
        for (const auto& [name, view] : tensors.tensors()) {
            // shape x dtype size, without wrapping around: a wrapped product would hide a
            // shape far larger than the data.
            size_t bytes = ovllm::model::safetensors_dtype_size(view.dtype);
            for (const size_t dim : view.shape) {
                if (__builtin_mul_overflow(bytes, dim, &bytes)) std::abort();
            }
            if (view.byte_size > size || bytes != view.byte_size) std::abort();
            // Reads the tensor's first and last bytes: ASan or a fault flags any outside the file.
            if (view.byte_size > 0) {
                const auto* bytes = static_cast<const volatile uint8_t*>(view.data);
                (void)bytes[0];
                (void)bytes[view.byte_size - 1];
            }
        }
    } catch (const ovllm::Error&) {
    }
    return 0;
}
