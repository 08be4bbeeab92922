#include "model/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/file.hpp"

namespace ovllm::model {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kHeaderLengthBytes = 8;  // little-endian u64 before the JSON header

ov::element::Type element_type(const std::string& dtype) {
    if (dtype == "F32") return ov::element::f32;
    if (dtype == "F16") return ov::element::f16;
    if (dtype == "BF16") return ov::element::bf16;
    return ov::element::dynamic;
}

// A closed file descriptor on every path out.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

uint64_t read_u64_le(const std::byte* bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < kHeaderLengthBytes; ++i) {
        value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    }
    return value;
}

// Validates one header entry and returns its view into the mapped data section.
TensorView parse_entry(const std::string& file, const std::string& name, const json& entry,
                       const std::byte* data, size_t data_size) {
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
        throw_error(
            "{}: tensor '{}' has a malformed header entry (needs dtype, shape, "
            "data_offsets)",
            file, name);
    }
    TensorView view;
    view.file = file;
    view.dtype = entry["dtype"].get<std::string>();
    view.type = element_type(view.dtype);
    const size_t element_size = safetensors_dtype_size(view.dtype);
    if (element_size == 0)
        throw_error("{}: tensor '{}' has unknown dtype {}", file, name, view.dtype);
    // A size that wraps around 64 bits would match small data_offsets while the shape
    // describes far more data.
    size_t expected = element_size;
    bool overflow = false;
    for (const json& dim : entry["shape"]) {
        if (!dim.is_number_unsigned()) {
            throw_error("{}: tensor '{}' has a shape entry that is not a non-negative integer",
                        file, name);
        }
        view.shape.push_back(dim.get<size_t>());
        overflow |= __builtin_mul_overflow(expected, view.shape.back(), &expected);
    }
    if (overflow) {
        throw_error("{}: tensor '{}' has shape {} whose size does not fit in 64 bits", file, name,
                    view.shape.to_string());
    }
    const json& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
        throw_error("{}: tensor '{}' has data_offsets that are not non-negative integers", file,
                    name);
    }
    const uint64_t begin = offsets[0].get<uint64_t>();
    const uint64_t end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
        throw_error(
            "{}: tensor '{}' has data_offsets [{}, {}] outside the {} data bytes of the "
            "file (truncated file?)",
            file, name, begin, end, data_size);
    }
    if (end - begin != expected) {
        throw_error("{}: tensor '{}' holds {} bytes but shape {} of {} needs {}", file, name,
                    end - begin, view.shape.to_string(), view.dtype, expected);
    }
    view.data = data + begin;
    view.byte_size = static_cast<size_t>(end - begin);
    return view;
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
    if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" ||
        dtype == "F8_E5M2") {
        return 1;
    }
    return 0;
}

MappedFile::MappedFile(const fs::path& path) {
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_error("{}: cannot open: {}", path.string(), std::strerror(errno));
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        throw_error("{}: cannot stat: {}", path.string(), std::strerror(errno));
    }
    size_ = static_cast<size_t>(info.st_size);
    if (size_ == 0) return;  // nothing to map; callers see size() == 0
    void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (address == MAP_FAILED) {
        throw_error("{}: cannot mmap {} bytes: {}", path.string(), size_, std::strerror(errno));
    }
    data_ = static_cast<const std::byte*>(address);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

SafetensorsFile::SafetensorsFile(const fs::path& path) : path_(path) {
    const std::string file = path.string();
    if (!fs::exists(path)) throw_error("{}: no such file", file);
    mapping_ = std::make_shared<MappedFile>(path);
    const size_t file_size = mapping_->size();
    if (file_size < kHeaderLengthBytes) {
        throw_error("{}: {} bytes is too small for a safetensors file", file, file_size);
    }
    const uint64_t header_size = read_u64_le(mapping_->data());
    if (header_size > file_size - kHeaderLengthBytes) {
        throw_error("{}: header length {} exceeds the file size {} (not a safetensors file?)", file,
                    header_size, file_size);
    }
    const char* header_begin = reinterpret_cast<const char*>(mapping_->data() + kHeaderLengthBytes);
    json header;
    try {
        header = json::parse(header_begin, header_begin + header_size);
    } catch (const json::parse_error& e) {
        throw_error("{}: header is not valid JSON (at byte {})", file, e.byte);
    } catch (const json::out_of_range&) {  // how the parser refuses a number like 1e999
        throw_error("{}: header is not valid JSON (a number out of range)", file);
    }
    if (!header.is_object()) throw_error("{}: header is not a JSON object", file);

    const std::byte* data = mapping_->data() + kHeaderLengthBytes + header_size;
    const size_t data_size = file_size - kHeaderLengthBytes - header_size;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) continue;
            for (const auto& [key, value] : entry.items()) {
                if (value.is_string()) metadata_[key] = value.get<std::string>();
            }
            continue;
        }
        TensorView view = parse_entry(file, name, entry, data, data_size);
        view.keepalive = mapping_;
        tensors_.emplace(name, std::move(view));
    }
}

namespace {

// The shard files named by model.safetensors.index.json's weight_map, sorted and unique.
std::vector<fs::path> shards_from_index(const fs::path& folder, const fs::path& index) {
    json root;
    try {
        root = json::parse(util::read_file(index));
    } catch (const json::parse_error& e) {
        throw_error("{}: invalid JSON at byte {}", index.string(), e.byte);
    } catch (const json::out_of_range&) {
        throw_error("{}: invalid JSON (a number out of range)", index.string());
    }
    if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object()) {
        throw_error("{}: field 'weight_map' must be an object", index.string());
    }
    std::vector<fs::path> shards;
    for (const auto& [name, shard] : root["weight_map"].items()) {
        if (!shard.is_string()) {
            throw_error("{}: weight_map entry '{}' must be a file name", index.string(), name);
        }
        shards.push_back(folder / shard.get<std::string>());
    }
    std::sort(shards.begin(), shards.end());
    shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
    return shards;
}

std::vector<fs::path> all_safetensors(const fs::path& folder) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.is_regular_file() && entry.path().extension() == ".safetensors") {
            found.push_back(entry.path());
        }
    }
    if (found.empty()) throw_error("{}: no *.safetensors files in this folder", folder.string());
    std::sort(found.begin(), found.end());
    return found;
}

}  // namespace

SafetensorsModel::SafetensorsModel(const fs::path& path) : description_(path.string()) {
    if (!fs::exists(path)) throw_error("{}: no such file or folder", path.string());
    std::vector<fs::path> files;
    if (!fs::is_directory(path)) {
        files = {path};
    } else if (const fs::path index = path / "model.safetensors.index.json"; fs::exists(index)) {
        files = shards_from_index(path, index);
    } else if (fs::exists(path / "model.safetensors")) {
        // A single file wins over stray *.safetensors beside it (golden.safetensors, ...).
        description_ = (path / "model.safetensors").string();
        files = {path / "model.safetensors"};
    } else {
        files = all_safetensors(path);
    }
    for (const auto& file : files) add_file(file);
}

void SafetensorsModel::add_file(const fs::path& file) {
    auto opened = std::make_shared<const SafetensorsFile>(file);
    for (const auto& [name, view] : opened->tensors()) {
        if (!tensors_.emplace(name, view).second) {
            throw_error("{}: tensor '{}' also appears in {}", file.string(), name,
                        tensors_.at(name).file);
        }
    }
    files_.push_back(std::move(opened));
}

const TensorView& SafetensorsModel::raw_tensor(const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw_error("{}: tensor '{}' not found", description_, name);
    return it->second;
}

const TensorView& SafetensorsModel::tensor(const std::string& name) const {
    const TensorView& view = raw_tensor(name);
    if (view.type == ov::element::dynamic) {
        throw_error("{}: tensor '{}' has dtype {}; only F32, F16 and BF16 are supported", view.file,
                    name, view.dtype);
    }
    return view;
}

std::vector<std::string> SafetensorsModel::names() const {
    std::vector<std::string> result;
    result.reserve(tensors_.size());
    for (const auto& [name, view] : tensors_) result.push_back(name);
    std::sort(result.begin(), result.end());
    return result;
}

ov::element::Type SafetensorsModel::dominant_type() const {
    std::map<ov::element::Type_t, size_t> elements_per_type;
    for (const auto& [name, view] : tensors_) {
        if (view.type != ov::element::dynamic) {
            elements_per_type[view.type] += view.byte_size / view.type.size();
        }
    }
    ov::element::Type best = ov::element::f32;
    size_t best_count = 0;
    for (const auto& [type, count] : elements_per_type) {
        if (count > best_count) {
            best = type;
            best_count = count;
        }
    }
    return best;
}

}  // namespace ovllm::model
