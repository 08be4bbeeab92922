#include "model/gguf.hpp"

#include <cstring>
#include <limits>

#include <sys/mman.h>
#include <unistd.h>

#include <openvino/core/type/bfloat16.hpp>
#include <openvino/core/type/float16.hpp>

#include <fmt/ranges.h>

#include "util/error.hpp"

namespace ovllm::model {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kMaxDims = 4;

// GGUF's metadata value types; the enumerators are its ids 0..12, in order.
enum ValueType : uint32_t {
    u8,
    i8,
    u16,
    i16,
    u32,
    i32,
    f32v,
    boolean,
    string,
    array,
    u64,
    i64,
    f64
};

struct TypeTraits {
    uint32_t type;
    const char* name;
    uint64_t block_elements;
    uint64_t block_bytes;
    bool supported;
};
constexpr TypeTraits kTypes[] = {
    {0, "F32", 1, 4, true},        {1, "F16", 1, 2, true},        {2, "Q4_0", 32, 18, true},
    {3, "Q4_1", 32, 20, true},     {6, "Q5_0", 32, 22, true},     {7, "Q5_1", 32, 24, true},
    {8, "Q8_0", 32, 34, true},     {9, "Q8_1", 32, 36, false},    {10, "Q2_K", 256, 84, false},
    {11, "Q3_K", 256, 110, false}, {12, "Q4_K", 256, 144, true},  {13, "Q5_K", 256, 176, true},
    {14, "Q6_K", 256, 210, true},  {15, "Q8_K", 256, 292, false}, {30, "BF16", 1, 2, true},
};

const TypeTraits* traits(uint32_t type) {
    for (const TypeTraits& t : kTypes) {
        if (t.type == type) return &t;
    }
    return nullptr;
}

// Bounds-checked little-endian cursor over the mapping.
class Cursor {
  public:
    Cursor(const std::byte* data, size_t size, const std::string& file)
        : data_(data), size_(size), file_(file) {}

    template <typename T>
    T read(const char* what) {
        need(sizeof(T), what);
        T value;
        std::memcpy(&value, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    std::string read_string(const char* what) {
        const auto length = read<uint64_t>(what);
        need(length, what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), length);
        pos_ += length;
        return s;
    }
    size_t position() const { return pos_; }

  private:
    void need(uint64_t bytes, const char* what) const {
        if (bytes > size_ - pos_) {
            throw_error("{}: truncated GGUF file: {} needs {} bytes at offset {}, file has {}",
                        file_, what, bytes, pos_, size_);
        }
    }
    const std::byte* data_;
    size_t size_;
    size_t pos_ = 0;
    const std::string& file_;
};

double read_number(Cursor& in, uint32_t type, const std::string& file, const std::string& key) {
    switch (type) {
        case u8:
            return in.read<uint8_t>("metadata value");
        case i8:
            return in.read<int8_t>("metadata value");
        case u16:
            return in.read<uint16_t>("metadata value");
        case i16:
            return in.read<int16_t>("metadata value");
        case u32:
            return in.read<uint32_t>("metadata value");
        case i32:
            return in.read<int32_t>("metadata value");
        case f32v:
            return in.read<float>("metadata value");
        case boolean:
            return in.read<uint8_t>("metadata value") != 0;
        case u64:
            return static_cast<double>(in.read<uint64_t>("metadata value"));
        case i64:
            return static_cast<double>(in.read<int64_t>("metadata value"));
        case f64:
            return in.read<double>("metadata value");
        default:
            break;
    }
    throw_error("{}: metadata '{}' has unknown value type {}", file, key, type);
}

GgufValue read_value(Cursor& in, uint32_t type, const std::string& file, const std::string& key) {
    switch (type) {
        case u8:
        case u16:
        case u32:
            return static_cast<uint64_t>(read_number(in, type, file, key));
        case u64:
            return in.read<uint64_t>("metadata value");
        case i8:
        case i16:
        case i32:
            return static_cast<int64_t>(read_number(in, type, file, key));
        case i64:
            return in.read<int64_t>("metadata value");
        case f32v:
        case f64:
            return read_number(in, type, file, key);
        case boolean:
            return in.read<uint8_t>("metadata value") != 0;
        case string:
            return in.read_string("metadata string");
        case array: {
            GgufArray a;
            a.element_type = in.read<uint32_t>("array type");
            a.count = in.read<uint64_t>("array length");
            for (uint64_t i = 0; i < a.count; ++i) {
                if (a.element_type == string) {
                    a.strings.push_back(in.read_string("array string"));
                } else if (a.element_type == array) {
                    throw_error("{}: metadata '{}' nests arrays", file, key);
                } else {
                    a.numbers.push_back(read_number(in, a.element_type, file, key));
                }
            }
            return a;
        }
        default:
            break;
    }
    throw_error("{}: metadata '{}' has unknown value type {}", file, key, type);
}

float half(const std::byte* p) {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return static_cast<float>(ov::float16::from_bits(bits));
}

// Blocks of 32 with an f16 scale (and min), 4-bit low parts and optional 5th bits.
void dequant_q4_q5(const std::byte* b, size_t blocks, bool with_min, bool five_bit, float* y) {
    const size_t header = with_min ? 4 : 2;
    const size_t block_bytes = header + (five_bit ? 4 : 0) + 16;
    for (size_t n = 0; n < blocks; ++n, b += block_bytes, y += 32) {
        const float d = half(b);
        const float m = with_min ? half(b + 2) : 0.0f;
        uint32_t high = 0;
        if (five_bit) std::memcpy(&high, b + header, 4);
        const auto* qs = reinterpret_cast<const uint8_t*>(b + header + (five_bit ? 4 : 0));
        const int offset = with_min ? 0 : (five_bit ? 16 : 8);
        for (int j = 0; j < 16; ++j) {
            int lo = qs[j] & 0x0F;
            int hi = qs[j] >> 4;
            if (five_bit) {
                lo |= static_cast<int>((high >> j) & 1u) << 4;
                hi |= static_cast<int>((high >> (j + 16)) & 1u) << 4;
            }
            y[j] = static_cast<float>(lo - offset) * d + m;
            y[j + 16] = static_cast<float>(hi - offset) * d + m;
        }
    }
}

void dequant_q8_0(const std::byte* b, size_t blocks, float* y) {
    for (size_t n = 0; n < blocks; ++n, b += 34, y += 32) {
        const float d = half(b);
        const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
        for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
    }
}

// Q4_K / Q5_K: 256 values in 8 sub-blocks of 32, each with its own 6-bit scale and min.
void dequant_q45_k(const std::byte* b, size_t blocks, bool five_bit, float* y) {
    const size_t block_bytes = five_bit ? 176 : 144;
    for (size_t n = 0; n < blocks; ++n, b += block_bytes) {
        const float d = half(b);
        const float dmin = half(b + 2);
        const auto* scales = reinterpret_cast<const uint8_t*>(b + 4);
        const auto* qh = reinterpret_cast<const uint8_t*>(b + 16);
        const auto* qs = reinterpret_cast<const uint8_t*>(b + (five_bit ? 48 : 16));
        for (int chunk = 0; chunk < 4; ++chunk, qs += 32) {
            float sc1, m1, sc2, m2;
            ggml_k_scale_min(2 * chunk, scales, sc1, m1);
            ggml_k_scale_min(2 * chunk + 1, scales, sc2, m2);
            for (int l = 0; l < 32; ++l) {
                int lo = qs[l] & 0x0F;
                int hi = qs[l] >> 4;
                if (five_bit) {
                    lo += ((qh[l] >> (2 * chunk)) & 1) << 4;
                    hi += ((qh[l] >> (2 * chunk + 1)) & 1) << 4;
                }
                y[l] = d * sc1 * static_cast<float>(lo) - dmin * m1;
                y[l + 32] = d * sc2 * static_cast<float>(hi) - dmin * m2;
            }
            y += 64;
        }
    }
}

// Q6_K: 256 values as 4 low bits (ql) + 2 high bits (qh), 16 int8 scales, one f16 scale.
void dequant_q6_k(const std::byte* b, size_t blocks, float* y) {
    for (size_t n = 0; n < blocks; ++n, b += 210) {
        const auto* ql = reinterpret_cast<const uint8_t*>(b);
        const auto* qh = reinterpret_cast<const uint8_t*>(b + 128);
        const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
        const float d = half(b + 208);
        for (int half_block = 0; half_block < 2; ++half_block) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * static_cast<float>(q1);
                y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
                y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
                y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

}  // namespace

void ggml_k_scale_min(int j, const uint8_t* q, float& scale, float& min) {
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = static_cast<float>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        min = static_cast<float>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

std::string ggml_type_name(uint32_t type) {
    const TypeTraits* t = traits(type);
    return t ? t->name : "type " + std::to_string(type);
}

bool ggml_type_supported(uint32_t type) {
    const TypeTraits* t = traits(type);
    return t && t->supported;
}

std::string ggml_supported_types() {
    std::string names;
    for (const TypeTraits& t : kTypes) {
        if (!t.supported) continue;
        if (!names.empty()) names += ", ";
        names += t.name;
    }
    return names;
}

std::vector<size_t> GgufTensor::row_major_shape() const {
    return {dims.rbegin(), dims.rend()};
}

GgufFile::GgufFile(const std::filesystem::path& path)
    : path_(path), file_(std::make_shared<MappedFile>(path)) {
    const std::string name = path.string();
    Cursor in(file_->data(), file_->size(), name);
    if (file_->size() < 4 || in.read<uint32_t>("magic") != kMagic) {
        throw_error("{}: not a GGUF file (bad magic)", name);
    }
    version_ = in.read<uint32_t>("version");
    if (version_ != 2 && version_ != 3) {
        throw_error("{}: GGUF version {} is not supported (2 and 3 are)", name, version_);
    }
    const auto tensor_count = in.read<uint64_t>("tensor count");
    const auto kv_count = in.read<uint64_t>("metadata count");
    for (uint64_t i = 0; i < kv_count; ++i) {
        std::string key = in.read_string("metadata key");
        const auto type = in.read<uint32_t>("metadata type");
        metadata_[key] = read_value(in, type, name, key);
    }
    for (uint64_t i = 0; i < tensor_count; ++i) {
        GgufTensor t;
        t.name = in.read_string("tensor name");
        const auto n_dims = in.read<uint32_t>("tensor dims");
        if (n_dims == 0 || n_dims > kMaxDims) {
            throw_error("{}: tensor '{}' has {} dimensions", name, t.name, n_dims);
        }
        // A product that wraps around 64 bits would pass the size checks below with a small
        // byte size while the dims describe far more data.
        bool overflow = false;
        t.elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            t.dims.push_back(in.read<uint64_t>("tensor dim"));
            // A weight without elements is no weight; refusing it here spares every reader
            // of the tensor (dequantize's copies, divisions by a dim) from the empty case.
            if (t.dims.back() == 0) {
                throw_error("{}: tensor '{}' has a zero dimension (dim {})", name, t.name, d);
            }
            overflow |= __builtin_mul_overflow(t.elements, t.dims.back(), &t.elements);
        }
        t.type = in.read<uint32_t>("tensor type");
        const uint64_t offset = in.read<uint64_t>("tensor offset");
        const TypeTraits* tr = traits(t.type);
        if (tr) {
            if (t.dims[0] % tr->block_elements != 0) {
                throw_error("{}: tensor '{}' row of {} is not a whole number of {} blocks", name,
                            t.name, t.dims[0], tr->name);
            }
            overflow |= __builtin_mul_overflow(t.elements / tr->block_elements, tr->block_bytes,
                                               &t.byte_size);
        }
        if (overflow) {
            throw_error("{}: tensor '{}' has dims [{}] whose size does not fit in 64 bits", name,
                        t.name, fmt::join(t.dims, ", "));
        }
        t.data = reinterpret_cast<const std::byte*>(offset);  // fixed up below
        index_[t.name] = tensors_.size();
        tensors_.push_back(std::move(t));
    }
    const uint64_t alignment = get_int("general.alignment").value_or(32);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        throw_error("{}: general.alignment {} is not a power of two", name, alignment);
    }
    const uint64_t data_start = (in.position() + alignment - 1) / alignment * alignment;
    for (GgufTensor& t : tensors_) {
        const auto offset = reinterpret_cast<uint64_t>(t.data);
        if (data_start + offset < data_start || data_start + offset > file_->size() ||
            t.byte_size > file_->size() - data_start - offset) {
            throw_error(
                "{}: truncated GGUF file: tensor '{}' ({} bytes at {}) ends past the "
                "file's {} bytes",
                name, t.name, t.byte_size, data_start + offset, file_->size());
        }
        t.data = file_->data() + data_start + offset;
    }
}

void GgufFile::release_pages(const GgufTensor& t) const {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto start = reinterpret_cast<uintptr_t>(t.data);
    const auto map_start = reinterpret_cast<uintptr_t>(file_->data());
    if (start < map_start || start + t.byte_size > map_start + file_->size()) return;
    const uintptr_t begin = (start + page - 1) / page * page;  // whole pages inside the tensor
    const uintptr_t end = (start + t.byte_size) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

const GgufTensor* GgufFile::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    if (const auto* v = std::get_if<int64_t>(&it->second)) return *v;
    if (const auto* v = std::get_if<uint64_t>(&it->second)) return static_cast<int64_t>(*v);
    throw_error("{}: metadata '{}' is not an integer", path_.string(), key);
}

std::optional<double> GgufFile::get_number(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    if (const auto* v = std::get_if<double>(&it->second)) return *v;
    if (const auto i = get_int(key)) return static_cast<double>(*i);
    return std::nullopt;
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
    throw_error("{}: metadata '{}' is not a string", path_.string(), key);
}

std::optional<GgufArray> GgufFile::get_array(const std::string& key) const {
    const auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    if (const auto* v = std::get_if<GgufArray>(&it->second)) return *v;
    throw_error("{}: metadata '{}' is not an array", path_.string(), key);
}

void dequantize(const GgufTensor& t, const std::string& file, float* out) {
    if (!ggml_type_supported(t.type)) {
        throw_error(
            "{}: tensor '{}' has quantization type {}, which is not supported "
            "(supported: {})",
            file, t.name, ggml_type_name(t.type), ggml_supported_types());
    }
    const TypeTraits& tr = *traits(t.type);
    const size_t blocks = t.elements / tr.block_elements;
    const std::byte* b = t.data;
    switch (static_cast<GgmlType>(t.type)) {
        case GgmlType::f32:
            std::memcpy(out, b, t.elements * 4);
            return;
        case GgmlType::f16:
            for (size_t i = 0; i < t.elements; ++i) out[i] = half(b + 2 * i);
            return;
        case GgmlType::bf16:
            for (size_t i = 0; i < t.elements; ++i) {
                uint16_t bits;
                std::memcpy(&bits, b + 2 * i, 2);
                out[i] = static_cast<float>(ov::bfloat16::from_bits(bits));
            }
            return;
        case GgmlType::q4_0:
            dequant_q4_q5(b, blocks, false, false, out);
            return;
        case GgmlType::q4_1:
            dequant_q4_q5(b, blocks, true, false, out);
            return;
        case GgmlType::q5_0:
            dequant_q4_q5(b, blocks, false, true, out);
            return;
        case GgmlType::q5_1:
            dequant_q4_q5(b, blocks, true, true, out);
            return;
        case GgmlType::q8_0:
            dequant_q8_0(b, blocks, out);
            return;
        case GgmlType::q4_k:
            dequant_q45_k(b, blocks, false, out);
            return;
        case GgmlType::q5_k:
            dequant_q45_k(b, blocks, true, out);
            return;
        case GgmlType::q6_k:
            dequant_q6_k(b, blocks, out);
            return;
        default:
            break;
    }
    throw_error("{}: tensor '{}': no dequantizer for {}", file, t.name, ggml_type_name(t.type));
}

}  // namespace ovllm::model
