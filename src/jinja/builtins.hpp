#pragma once
// Python- and Jinja2-compatible operations on values: attribute and item access, methods of
// str/dict/list, operators, filters, tests and global functions. Failures throw EvalError;
// the evaluator adds the template position.
#include <string>
#include <string_view>

#include "jinja/value.hpp"

namespace ovllm::jinja {

// obj.name: dict key, method (bound), namespace attribute; missing -> undefined with hint.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: dict key, list/string index (negative from the end); missing -> undefined.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step]; null parts are None.
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

bool has_method(const Value& obj, std::string_view name);
Value call_method(const Value& obj, std::string_view name, const Args& args);

Value binary_op(std::string_view op, const Value& left, const Value& right);
bool compare_op(std::string_view op, const Value& left, const Value& right);
// Python `item in container`.
bool contains(const Value& container, const Value& item);
// A float as a 64-bit integer (truncated), or EvalError naming `what` when it is out of range
// or NaN (a plain cast would be undefined behaviour).
int64_t checked_int(double d, const char* what);
// The items a for loop visits: list items, dict keys, string characters; undefined is empty.
List iterate(const Value& value);

Value apply_filter(std::string_view name, const Value& subject, const Args& args);
bool apply_test(std::string_view name, const Value& subject, const Args& args);
bool has_filter(std::string_view name);
bool has_test(std::string_view name);

// range, namespace, dict, strftime_now, raise_exception.
std::vector<std::pair<std::string, Value>> builtin_globals();

}  // namespace ovllm::jinja
