#pragma once
// Zero-copy reader for safetensors files: the file is mmap'ed once and every tensor is a
// pointer into the mapping. A tensor's keepalive holds the mapping open, so OpenVINO
// Constants built over the data stay valid after the reader is gone.
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <openvino/core/shape.hpp>
#include <openvino/core/type/element_type.hpp>

namespace ovllm::model {

// One tensor inside a mapped file.
struct TensorView {
    std::string dtype;       // as stored: "F32", "BF16", "I64", ...
    ov::element::Type type;  // f32, f16 or bf16; ov::element::dynamic for other dtypes
    ov::Shape shape;
    const void* data = nullptr;  // little-endian, row-major, inside the mapping
    size_t byte_size = 0;
    std::shared_ptr<void> keepalive;  // the mapping; pass to ov::op::v0::Constant
    std::string file;                 // path of the file holding it, for messages
};

// A read-only memory mapping of a whole file (RAII: unmapped when the last owner goes).
class MappedFile {
  public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return data_; }
    size_t size() const { return size_; }

  private:
    const std::byte* data_ = nullptr;
    size_t size_ = 0;
};

// One .safetensors file: header parsed and validated at open.
class SafetensorsFile {
  public:
    // Throws ovllm::Error naming the file (and the tensor) for a missing file, a header
    // length beyond the file, a header that is not JSON, an unknown dtype, or data offsets
    // out of range or inconsistent with shape x dtype size (truncated file).
    explicit SafetensorsFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return path_; }
    const std::unordered_map<std::string, TensorView>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

  private:
    std::filesystem::path path_;
    std::shared_ptr<MappedFile> mapping_;
    std::unordered_map<std::string, TensorView> tensors_;
    std::map<std::string, std::string> metadata_;
};

// All tensors of a model: a single file, a folder with model.safetensors, a sharded folder
// with model.safetensors.index.json (weight_map), or else every *.safetensors in the folder.
class SafetensorsModel {
  public:
    explicit SafetensorsModel(const std::filesystem::path& path);

    bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
    // Throws "<file>: tensor '<name>' not found" when absent, and names the dtype when it
    // is not F32, F16 or BF16.
    const TensorView& tensor(const std::string& name) const;
    // The same for any dtype (the I32 words of packed int4 checkpoints).
    const TensorView& raw_tensor(const std::string& name) const;
    // Sorted tensor names.
    std::vector<std::string> names() const;
    // The file (single-file models) or the folder, for messages.
    const std::string& describe() const { return description_; }
    // The floating-point type holding most of the parameters (f32, f16 or bf16).
    ov::element::Type dominant_type() const;
    const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }

  private:
    void add_file(const std::filesystem::path& file);

    std::string description_;
    std::vector<std::shared_ptr<const SafetensorsFile>> files_;
    std::unordered_map<std::string, TensorView> tensors_;
};

// The element size of a safetensors dtype name in bytes, 0 when unknown.
size_t safetensors_dtype_size(const std::string& dtype);

}  // namespace ovllm::model
