#pragma once
// A Python call list as the pythonic tool format writes it, read without Python:
// [name(kw=literal, ...), ...] where a literal is a str, int, float, True/False/None, list,
// tuple or dict of literals.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ovllm::parsers {

struct PythonCall {
    std::string name;
    nlohmann::json arguments;  // object: keyword -> value
};

// nullopt when `text` is not exactly such a list (surrounding whitespace allowed).
std::optional<std::vector<PythonCall>> parse_python_calls(std::string_view text);

}  // namespace ovllm::parsers
