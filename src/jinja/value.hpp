#pragma once
// Runtime values of the Jinja interpreter. They follow Python's semantics as Jinja2 sees them:
// lists and dicts are shared by reference (a namespace attribute or list.append mutates the one
// object), dicts keep insertion order, and undefined values remember why they are undefined so
// that using one reports the same message Jinja2 would.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace ovllm::jinja {

class Value;

// A Python list, or a tuple when `tuple` is set (tuples print as "(a, b)" and never equal lists).
struct List : std::vector<Value> {
    using std::vector<Value>::vector;
    bool tuple = false;
};

// Insertion-ordered mapping; chat messages have few keys, so a linear scan beats hashing.
struct Dict {
    std::vector<std::pair<Value, Value>> items;

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    const Value* find(const std::string& key) const { return find(std::string_view(key)); }
    const Value* find(const char* key) const { return find(std::string_view(key)); }
    void set(Value key, Value value);
};

// Arguments of a call: positional first, then name=value pairs in source order.
struct Args {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;

    // The argument at `index` or named `name`, or nullptr when neither was given.
    const Value* get(size_t index, std::string_view name) const;
};

using Function = std::function<Value(const Args&)>;

struct Undefined {
    std::string hint;  // "'x' is undefined" or "'dict object' has no attribute 'y'"
};
struct None {};
struct Namespace {
    Dict attrs;
};

// Thrown by interpreter code that has no source position; the evaluator adds the position.
class EvalError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function, Namespace };

class Value {
  public:
    Value() : v_(None{}) {}
    Value(None) : v_(None{}) {}
    Value(Undefined u) : v_(std::move(u)) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(static_cast<int64_t>(i)) {}
    Value(int64_t i) : v_(i) {}
    Value(double d) : v_(d) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(List l) : v_(std::make_shared<List>(std::move(l))) {}
    Value(Dict d) : v_(std::make_shared<Dict>(std::move(d))) {}
    Value(Function f) : v_(std::make_shared<Function>(std::move(f))) {}
    Value(Namespace n) : v_(std::make_shared<Namespace>(std::move(n))) {}

    static Value undefined(std::string hint) { return Value(Undefined{std::move(hint)}); }
    static Value from_json(const nlohmann::ordered_json& j);

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_number() const { return is_int() || is_float(); }  // bool excluded, as Jinja's test
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_function() const { return kind() == Kind::Function; }
    bool is_namespace() const { return kind() == Kind::Namespace; }

    bool as_bool() const { return std::get<bool>(v_); }
    int64_t as_int() const { return std::get<int64_t>(v_); }
    double as_float() const { return std::get<double>(v_); }
    const std::string& str() const { return std::get<std::string>(v_); }
    List& list() const { return *std::get<std::shared_ptr<List>>(v_); }
    Dict& dict() const { return *std::get<std::shared_ptr<Dict>>(v_); }
    const Function& function() const { return *std::get<std::shared_ptr<Function>>(v_); }
    Namespace& ns() const { return *std::get<std::shared_ptr<Namespace>>(v_); }
    const std::string& undefined_hint() const { return std::get<Undefined>(v_).hint; }

    // Numeric value of an int, float or bool (Python treats bool as int).
    double number() const;
    bool truthy() const;
    // Python str(): what {{ value }} prints. Undefined prints nothing.
    std::string to_str() const;
    void append_str(std::string& out) const;
    // Python repr(), used for elements inside printed lists and dicts.
    void append_repr(std::string& out) const;
    // json.dumps(value, ensure_ascii=False, indent=indent (<0: none), sort_keys=sort_keys);
    // default separators as Python's: ", " (or "," when indenting) and ": ".
    std::string to_json(int indent = -1, bool sort_keys = false) const;
    std::string to_json(const struct JsonFormat& format) const;
    nlohmann::ordered_json to_nlohmann() const;

    // Python type name for messages: "str", "dict", "NoneType", ...
    std::string type_name() const;

    // Python ==. Undefined equals undefined; 1 == 1.0 == True.
    bool equals(const Value& other) const;
    // Python <; throws EvalError for unorderable types.
    bool less(const Value& other) const;

    // Throws EvalError with the undefined hint when this is undefined.
    void require_defined() const;

    // True when this value is the list, dict or namespace `container` (the same object) or
    // holds it at any depth. Lists and namespaces are shared and mutable, so putting one into
    // itself would make a reference cycle that shared ownership never frees.
    bool holds(const Value& container) const;

  private:
    std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<List>,
                 std::shared_ptr<Dict>, std::shared_ptr<Function>, std::shared_ptr<Namespace>>
        v_;
};

struct JsonFormat {
    int indent = -1;  // < 0: single line
    bool sort_keys = false;
    bool ensure_ascii = false;   // escape non-ASCII as \uXXXX
    std::string item_separator;  // empty: Python's default for the indent
    std::string key_separator = ": ";
};

// Python float repr: shortest text that reads back the same, "1.0", "1e+20", "inf".
std::string format_float(double value);
// A JSON string literal as Python's json.dumps(ensure_ascii=False) writes it.
void append_json_string(std::string& out, std::string_view text);

}  // namespace ovllm::jinja
