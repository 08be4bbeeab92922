#pragma once
// A disk cache of converted models: the stateful graph (weights compressed or not) saved as
// OpenVINO IR, so a second start reads the IR (mmap'ed) instead of rebuilding and
// re-quantizing. Entries live in <root>/<folder name>-<fingerprint>/ with
// openvino_model.xml/.bin and entry.json; they are written to a temporary folder and renamed
// into place, so a reader never sees half an entry. The paged form is never cached (its
// PagedAttention rt_info does not survive saving).
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <openvino/core/model.hpp>

#include "model/quantize.hpp"

namespace ovllm::model {

// config::model_cache_dir() / "ir" ($OVLLM_CACHE_DIR, else $XDG_CACHE_HOME/ovllm, else
// ~/.cache/ovllm).
std::filesystem::path default_ir_cache_dir();

// Hex digest of what the converted graph depends on: config.json's bytes, every weight
// file's name, size and modification time (*.safetensors and the index), the weight format,
// ovllm's version and OpenVINO's build. Throws ovllm::Error when config.json is missing.
std::string conversion_fingerprint(const std::filesystem::path& model_folder, WeightFormat format);

class IrCache {
  public:
    explicit IrCache(std::filesystem::path root = default_ir_cache_dir());

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path entry_dir(const std::filesystem::path& model_folder,
                                    const std::string& fingerprint) const;

    // The cached stateful model, or nullopt when there is none. An entry that cannot be
    // read (bad XML, truncated weights, no KV state) is removed with a warning.
    std::optional<std::shared_ptr<ov::Model>> load_cached(const std::filesystem::path& model_folder,
                                                          const std::string& fingerprint) const;
    // The text stored beside a cached model (the bit-width table), or "".
    std::string cached_note(const std::filesystem::path& model_folder,
                            const std::string& fingerprint) const;
    // Saves `model` (f32 weights stay f32) with `note`. Returns false, with a warning, when
    // the cache cannot be written (read-only disk, no space): serving goes on uncached.
    bool store(const std::filesystem::path& model_folder, const std::string& fingerprint,
               const std::shared_ptr<ov::Model>& model, const std::string& note) const;

  private:
    std::filesystem::path root_;
};

struct ConvertedModel {
    std::shared_ptr<ov::Model> model;  // stateful
    bool from_cache = false;
    std::string note;  // the bit-width table for compressed models ("" otherwise)
};

// What a conversion returns: the stateful model and the note to keep with it.
struct Conversion {
    std::shared_ptr<ov::Model> model;
    std::string note;
};

// The cached model for (folder, format) when there is one, else `convert()` stored into the
// cache. Logs "Loaded the converted model from the IR cache <dir> (conversion skipped)".
ConvertedModel load_or_convert(const IrCache& cache, const std::filesystem::path& model_folder,
                               WeightFormat format, const std::function<Conversion()>& convert);

}  // namespace ovllm::model
