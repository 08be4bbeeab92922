#include "tokenizer/generation_config.hpp"

#include "tokenizer/fast_json.hpp"
#include "tokenizer/json_util.hpp"
#include "util/file.hpp"

namespace ovllm::tokenizer {

namespace {

std::optional<Json> read_json_if_present(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    Json root = parse_json_document(util::read_file(path), path.string());
    if (!root.is_object())
        json_fail({path.string(), ""}, "expected a JSON object at the top level");
    return root;
}

// Adds eos_token_id (int or list of ints) of `root`; false when the field is absent or null.
bool add_eos_ids(const Json& root, const JsonPath& at, std::set<int64_t>& ids) {
    const Json* value = json_find(root, "eos_token_id");
    if (value == nullptr) return false;
    if (value->is_array()) {
        for (size_t i = 0; i < value->size(); ++i)
            ids.insert(json_int((*value)[i], (at / "eos_token_id")[i]));
        return true;
    }
    ids.insert(json_int(*value, at / "eos_token_id"));
    return true;
}

std::optional<double> number_field(const Json& root, const JsonPath& at, std::string_view key) {
    const Json* value = json_find(root, key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) json_fail(at / key, "expected a number");
    return value->get<double>();
}

std::optional<int64_t> int_field(const Json& root, const JsonPath& at, std::string_view key) {
    const Json* value = json_find(root, key);
    if (value == nullptr) return std::nullopt;
    return json_int(*value, at / key);
}

}  // namespace

GenerationDefaults load_generation_defaults(const std::filesystem::path& model_dir,
                                            const Tokenizer* tokenizer) {
    GenerationDefaults out;
    const auto generation_path = model_dir / "generation_config.json";
    const auto generation = read_json_if_present(generation_path);
    bool have_eos = false;
    if (generation) {
        const JsonPath at{generation_path.string(), ""};
        have_eos = add_eos_ids(*generation, at, out.eos_token_ids);
        out.temperature = number_field(*generation, at, "temperature");
        out.top_p = number_field(*generation, at, "top_p");
        out.top_k = int_field(*generation, at, "top_k");
        out.repetition_penalty = number_field(*generation, at, "repetition_penalty");
        out.max_new_tokens = int_field(*generation, at, "max_new_tokens");
    }
    if (!have_eos) {
        const auto config_path = model_dir / "config.json";
        if (const auto config = read_json_if_present(config_path)) {
            add_eos_ids(*config, {config_path.string(), ""}, out.eos_token_ids);
        }
    }
    if (tokenizer != nullptr) {
        if (const auto id = tokenizer->eos_token_id()) out.eos_token_ids.insert(*id);
    }
    return out;
}

}  // namespace ovllm::tokenizer
