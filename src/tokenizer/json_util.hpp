#pragma once
// Reading tokenizer.json with errors that name the file and the JSON path of the bad value.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace ovllm::tokenizer {

using Json = nlohmann::json;

// A location inside a JSON file: "tokenizer.json: pre_tokenizer.pretokenizers[1]".
struct JsonPath {
    std::string file;
    std::string path;

    JsonPath operator/(std::string_view key) const {
        return {file, path.empty() ? std::string(key) : path + "." + std::string(key)};
    }
    JsonPath operator[](size_t index) const {
        return {file, path + "[" + std::to_string(index) + "]"};
    }
    std::string str() const { return path.empty() ? file : file + ": " + path; }
};

[[noreturn]] inline void json_fail(const JsonPath& at, std::string_view what) {
    throw_error("{}: {}", at.str(), what);
}

// The member `key` of object `node`; throws when `node` is no object or lacks it.
inline const Json& json_member(const Json& node, const JsonPath& at, std::string_view key) {
    if (!node.is_object()) json_fail(at, "expected a JSON object");
    const auto it = node.find(key);
    if (it == node.end()) json_fail(at / key, "missing field");
    return *it;
}

inline const Json* json_find(const Json& node, std::string_view key) {
    if (!node.is_object()) return nullptr;
    const auto it = node.find(key);
    return it == node.end() || it->is_null() ? nullptr : &*it;
}

inline std::string json_string(const Json& node, const JsonPath& at, std::string_view key) {
    const Json& value = json_member(node, at, key);
    if (!value.is_string()) json_fail(at / key, "expected a string");
    return value.get<std::string>();
}

inline std::string json_string_or(const Json& node, const JsonPath& at, std::string_view key,
                                  std::string fallback) {
    const Json* value = json_find(node, key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) json_fail(at / key, "expected a string");
    return value->get<std::string>();
}

inline bool json_bool_or(const Json& node, const JsonPath& at, std::string_view key,
                         bool fallback) {
    const Json* value = json_find(node, key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) json_fail(at / key, "expected true or false");
    return value->get<bool>();
}

inline int64_t json_int(const Json& value, const JsonPath& at) {
    if (!value.is_number_integer()) json_fail(at, "expected an integer");
    return value.get<int64_t>();
}

inline const Json& json_array(const Json& node, const JsonPath& at, std::string_view key) {
    const Json& value = json_member(node, at, key);
    if (!value.is_array()) json_fail(at / key, "expected an array");
    return value;
}

}  // namespace ovllm::tokenizer
