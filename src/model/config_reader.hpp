#pragma once
// Typed reading of config.json, shared by the common parser (model_config.cpp) and the family
// hooks in arch/<family>.cpp. Every error names the file and the dotted field.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace ovllm::model {

// Typed access to one JSON object of config.json; every error names the file and the field.
class ConfigReader {
  public:
    ConfigReader(std::string file, const nlohmann::json& object, std::string prefix = "")
        : file_(std::move(file)), object_(object), prefix_(std::move(prefix)) {}

    // True when the key exists and is not null.
    bool has(const std::string& key) const {
        const auto it = object_.find(key);
        return it != object_.end() && !it->is_null();
    }

    const std::string& file() const { return file_; }
    std::string field_name(const std::string& key) const { return prefix_ + key; }

    int64_t require_int(const std::string& key) const {
        if (!has(key)) missing(key);
        return as_int(key);
    }
    std::optional<int64_t> optional_int(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        return as_int(key);
    }
    double optional_number(const std::string& key, double fallback) const {
        if (!has(key)) return fallback;
        const nlohmann::json& value = object_.at(key);
        if (!value.is_number()) wrong_type(key, "a number", value);
        return value.get<double>();
    }
    bool optional_bool(const std::string& key, bool fallback) const {
        if (!has(key)) return fallback;
        const nlohmann::json& value = object_.at(key);
        if (!value.is_boolean()) wrong_type(key, "a boolean", value);
        return value.get<bool>();
    }
    std::optional<std::string> optional_string(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        const nlohmann::json& value = object_.at(key);
        if (!value.is_string()) wrong_type(key, "a string", value);
        return value.get<std::string>();
    }
    std::string require_string(const std::string& key) const {
        if (!has(key)) missing(key);
        return *optional_string(key);
    }
    // A nested object; nullopt when absent or null.
    std::optional<ConfigReader> optional_object(const std::string& key) const {
        if (!has(key)) return std::nullopt;
        const nlohmann::json& value = object_.at(key);
        if (!value.is_object()) wrong_type(key, "an object", value);
        return ConfigReader(file_, value, prefix_ + key + ".");
    }
    const nlohmann::json& optional_array(const std::string& key) const {
        static const nlohmann::json empty = nlohmann::json::array();
        if (!has(key)) return empty;
        const nlohmann::json& value = object_.at(key);
        if (!value.is_array()) wrong_type(key, "an array", value);
        return value;
    }

    [[noreturn]] void missing(const std::string& key) const {
        throw_error("{}: required field '{}' is missing", file_, field_name(key));
    }
    [[noreturn]] void wrong_type(const std::string& key, const char* expected,
                                 const nlohmann::json& value) const {
        throw_error("{}: field '{}' must be {}, got {}", file_, field_name(key), expected,
                    value.type_name());
    }
    [[noreturn]] void bad_value(const std::string& key, const std::string& detail) const {
        throw_error("{}: field '{}' {}", file_, field_name(key), detail);
    }

  private:
    int64_t as_int(const std::string& key) const {
        const nlohmann::json& value = object_.at(key);
        if (!value.is_number_integer()) wrong_type(key, "an integer", value);
        return value.get<int64_t>();
    }

    std::string file_;
    const nlohmann::json& object_;
    std::string prefix_;
};

// The first key of `keys` present in the object, or "" when none is.
inline std::string first_present(const ConfigReader& reader,
                                 std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (reader.has(key)) return key;
    }
    return "";
}

inline int64_t require_int_any(const ConfigReader& reader,
                               std::initializer_list<const char*> keys) {
    const std::string key = first_present(reader, keys);
    if (key.empty()) reader.missing(*keys.begin());
    return reader.require_int(key);
}

}  // namespace ovllm::model
