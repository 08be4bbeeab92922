#pragma once
// Python str operations on UTF-8 text: Python counts and slices code points, and its
// whitespace and case rules are Unicode-aware.
#include <string>
#include <string_view>
#include <vector>

#include "jinja/value.hpp"

namespace ovllm::jinja {

size_t utf8_length(std::string_view s);
// One string per code point (invalid bytes become one-byte strings).
std::vector<std::string> utf8_chars(std::string_view s);

// str.strip/lstrip/rstrip; chars == nullptr strips Unicode whitespace.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split/rsplit; sep == nullptr splits on whitespace runs and drops empty parts.
std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t maxsplit,
                                  bool from_right);
std::vector<std::string> py_splitlines(std::string_view s);
std::string py_replace(std::string_view s, std::string_view old, std::string_view replacement,
                       int64_t count);
// str.format with {} / {0} / {name} fields and {{ }} escapes (no format specs).
std::string py_format(std::string_view fmt, const Args& args);

enum class CaseMode {
    Upper,
    Lower,
    Capitalize,  // first character upper, the rest lower
    PyTitle,     // str.title(): upper after any uncased character
    JinjaTitle,  // the title filter: upper after whitespace, '-', and opening brackets
};
std::string case_map(std::string_view s, CaseMode mode);

// isdigit/isspace/isalpha/isalnum/isupper/islower.
bool char_class_test(std::string_view s, std::string_view test);

}  // namespace ovllm::jinja
