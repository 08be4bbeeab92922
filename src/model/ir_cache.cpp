#include "model/ir_cache.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openvino/core/graph_util.hpp>
#include <openvino/core/version.hpp>
#include <openvino/runtime/core.hpp>

#include "ovllm/version.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

namespace ovllm::model {
namespace fs = std::filesystem;
namespace {

constexpr const char* kXml = "openvino_model.xml";
constexpr const char* kBin = "openvino_model.bin";
constexpr const char* kEntry = "entry.json";

// Two independent 64-bit FNV-1a streams over the same bytes: a 128-bit key.
struct Digest {
    uint64_t a = 0xCBF29CE484222325ull;
    uint64_t b = 0x84222325CBF29CE4ull;
    void add(std::string_view bytes) {
        for (const char c : bytes) {
            const auto u = static_cast<unsigned char>(c);
            a = (a ^ u) * 0x100000001B3ull;
            b = (b ^ u) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
        }
        a = (a ^ 0xFF) * 0x100000001B3ull;  // field separator
        b = (b ^ 0xFF) * 0x100000001B3ull;
    }
    std::string hex() const { return fmt::format("{:016x}{:016x}", a, b); }
};

bool is_weight_file(const fs::path& path) {
    const std::string name = path.filename().string();
    return name.ends_with(".safetensors") || name.ends_with(".safetensors.index.json");
}

std::string folder_label(const fs::path& model_folder) {
    std::string name = fs::absolute(model_folder).lexically_normal().filename().string();
    if (name.empty()) name = "model";
    std::replace_if(
        name.begin(), name.end(),
        [](char c) {
            return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-');
        },
        '_');
    return name;
}

std::string unique_suffix() {
    std::random_device device;
    return fmt::format("{:08x}", device());
}

}  // namespace

fs::path default_ir_cache_dir() {
    if (const char* dir = std::getenv("OVLLM_CACHE_DIR"); dir && *dir) return fs::path(dir) / "ir";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
        return fs::path(xdg) / "ovllm" / "ir";
    }
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/tmp") / ".cache" / "ovllm" / "ir";
}

std::string conversion_fingerprint(const fs::path& model_folder, WeightFormat format) {
    Digest digest;
    digest.add(util::read_file(model_folder / "config.json"));
    std::vector<fs::path> weights;
    for (const auto& entry : fs::directory_iterator(model_folder)) {
        if (entry.is_regular_file() && is_weight_file(entry.path()))
            weights.push_back(entry.path());
    }
    std::sort(weights.begin(), weights.end());
    for (const fs::path& file : weights) {
        digest.add(file.filename().string());
        digest.add(std::to_string(fs::file_size(file)));
        digest.add(std::to_string(fs::last_write_time(file).time_since_epoch().count()));
    }
    digest.add(weight_format_name(format));
    digest.add(kVersion);
    digest.add(ov::get_openvino_version().buildNumber);
    return digest.hex();
}

IrCache::IrCache(fs::path root) : root_(std::move(root)) {}

fs::path IrCache::entry_dir(const fs::path& model_folder, const std::string& fingerprint) const {
    return root_ / (folder_label(model_folder) + "-" + fingerprint);
}

std::optional<std::shared_ptr<ov::Model>> IrCache::load_cached(
    const fs::path& model_folder, const std::string& fingerprint) const {
    const fs::path dir = entry_dir(model_folder, fingerprint);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    try {
        const auto entry = nlohmann::json::parse(util::read_file(dir / kEntry));
        if (entry.at("fingerprint").get<std::string>() != fingerprint) {
            throw_error("{}: fingerprint differs", (dir / kEntry).string());
        }
        if (fs::file_size(dir / kBin) != entry.at("bin_bytes").get<uintmax_t>()) {
            throw_error("{}: size differs from the recorded {} bytes", (dir / kBin).string(),
                        entry.at("bin_bytes").get<uintmax_t>());
        }
        std::shared_ptr<ov::Model> model = ov::Core().read_model(dir / kXml);
        if (model->get_variables().empty()) {
            throw_error("{}: the cached model has no KV state", (dir / kXml).string());
        }
        return model;
    } catch (const std::exception& e) {
        OVLLM_WARN("Ignoring the unreadable IR cache entry {} ({}); converting again", dir.string(),
                   e.what());
        fs::remove_all(dir, ec);
        return std::nullopt;
    }
}

std::string IrCache::cached_note(const fs::path& model_folder,
                                 const std::string& fingerprint) const {
    try {
        const auto entry =
            nlohmann::json::parse(util::read_file(entry_dir(model_folder, fingerprint) / kEntry));
        return entry.value("note", "");
    } catch (const std::exception&) {
        return "";
    }
}

bool IrCache::store(const fs::path& model_folder, const std::string& fingerprint,
                    const std::shared_ptr<ov::Model>& model, const std::string& note) const {
    const fs::path dir = entry_dir(model_folder, fingerprint);
    const fs::path temp = root_ / (".tmp-" + dir.filename().string() + "-" + unique_suffix());
    std::error_code ec;
    try {
        fs::create_directories(temp);
        ov::save_model(model, temp / kXml, /*compress_to_fp16=*/false);
        nlohmann::json entry = {{"fingerprint", fingerprint},
                                {"model", fs::absolute(model_folder).string()},
                                {"ovllm_version", kVersion},
                                {"bin_bytes", fs::file_size(temp / kBin)},
                                {"note", note}};
        std::ofstream(temp / kEntry) << entry.dump(2) << "\n";
        fs::rename(temp, dir, ec);
        if (ec) {
            // Another process stored the same entry first; theirs is as good as ours.
            fs::remove_all(temp, ec);
            return fs::is_directory(dir);
        }
        return true;
    } catch (const std::exception& e) {
        OVLLM_WARN("Could not write the IR cache entry {}: {}", dir.string(), e.what());
        fs::remove_all(temp, ec);
        return false;
    }
}

ConvertedModel load_or_convert(const IrCache& cache, const fs::path& model_folder,
                               WeightFormat format, const std::function<Conversion()>& convert) {
    const std::string fingerprint = conversion_fingerprint(model_folder, format);
    if (auto cached = cache.load_cached(model_folder, fingerprint)) {
        OVLLM_INFO("Loaded the converted model from the IR cache {} (conversion skipped)",
                   cache.entry_dir(model_folder, fingerprint).string());
        return {*cached, true, cache.cached_note(model_folder, fingerprint)};
    }
    Conversion converted = convert();
    const auto started = std::chrono::steady_clock::now();
    if (cache.store(model_folder, fingerprint, converted.model, converted.note)) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        OVLLM_INFO("Saved the converted model to the IR cache {} in {:.1f} s",
                   cache.entry_dir(model_folder, fingerprint).string(), took.count());
    }
    return {converted.model, false, converted.note};
}

}  // namespace ovllm::model
