#include "jinja/value.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ovllm::jinja {
namespace {

// Bounds recursion over nested values (deep JSON input, or a list appended into itself) so
// it ends in an error instead of a stack overflow.
constexpr int kMaxNesting = 512;
thread_local int nesting = 0;

class NestingGuard {
  public:
    NestingGuard() {
        if (++nesting > kMaxNesting) {
            --nesting;
            throw EvalError("value nesting deeper than " + std::to_string(kMaxNesting) + " levels");
        }
    }
    ~NestingGuard() { --nesting; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;
};

}  // namespace

namespace {

// The shared object behind a list, dict or namespace value; nullptr for other kinds.
const void* identity(const Value& v) {
    if (v.is_list()) return &v.list();
    if (v.is_dict()) return &v.dict();
    if (v.is_namespace()) return &v.ns();
    return nullptr;
}

// Depth-first search for `target`; `seen` keeps shared sub-values from being walked twice.
bool reaches(const Value& v, const void* target, std::vector<const void*>& seen) {
    const void* self = identity(v);
    if (self == nullptr) return false;
    if (self == target) return true;
    if (std::find(seen.begin(), seen.end(), self) != seen.end()) return false;
    seen.push_back(self);
    if (v.is_list()) {
        return std::any_of(v.list().begin(), v.list().end(),
                           [&](const Value& item) { return reaches(item, target, seen); });
    }
    const Dict& dict = v.is_dict() ? v.dict() : v.ns().attrs;
    return std::any_of(dict.items.begin(), dict.items.end(),
                       [&](const auto& item) { return reaches(item.second, target, seen); });
}

}  // namespace

bool Value::holds(const Value& container) const {
    const void* target = identity(container);
    std::vector<const void*> seen;
    return target != nullptr && reaches(*this, target, seen);
}

const Value* Dict::find(const Value& key) const {
    if (key.is_string()) return find(std::string_view(key.str()));
    for (const auto& [k, v] : items) {
        if (k.equals(key)) return &v;
    }
    return nullptr;
}

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items) {
        if (k.is_string() && k.str() == key) return &v;
    }
    return nullptr;
}

void Dict::set(Value key, Value value) {
    for (auto& [k, v] : items) {
        if (k.equals(key)) {
            v = std::move(value);
            return;
        }
    }
    items.emplace_back(std::move(key), std::move(value));
}

const Value* Args::get(size_t index, std::string_view name) const {
    if (index < positional.size()) return &positional[index];
    for (const auto& [k, v] : keyword) {
        if (k == name) return &v;
    }
    return nullptr;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
    const NestingGuard guard;
    using T = nlohmann::ordered_json::value_t;
    switch (j.type()) {
        case T::null:
            return Value();
        case T::boolean:
            return Value(j.get<bool>());
        case T::number_integer:
            return Value(j.get<int64_t>());
        case T::number_unsigned: {
            const uint64_t u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return Value(static_cast<double>(u));
            }
            return Value(static_cast<int64_t>(u));
        }
        case T::number_float:
            return Value(j.get<double>());
        case T::string:
            return Value(j.get_ref<const std::string&>());
        case T::array: {
            List list;
            list.reserve(j.size());
            for (const auto& item : j) list.push_back(from_json(item));
            return Value(std::move(list));
        }
        case T::object: {
            Dict dict;
            dict.items.reserve(j.size());
            for (const auto& [k, v] : j.items()) dict.items.emplace_back(Value(k), from_json(v));
            return Value(std::move(dict));
        }
        default:
            throw EvalError("unsupported JSON value type (binary or discarded)");
    }
}

double Value::number() const {
    switch (kind()) {
        case Kind::Bool:
            return as_bool() ? 1.0 : 0.0;
        case Kind::Int:
            return static_cast<double>(as_int());
        case Kind::Float:
            return as_float();
        default:
            throw EvalError("expected a number, got " + type_name());
    }
}

bool Value::truthy() const {
    switch (kind()) {
        case Kind::Undefined:
        case Kind::None:
            return false;
        case Kind::Bool:
            return as_bool();
        case Kind::Int:
            return as_int() != 0;
        case Kind::Float:
            return as_float() != 0.0;
        case Kind::String:
            return !str().empty();
        case Kind::List:
            return !list().empty();
        case Kind::Dict:
            return !dict().items.empty();
        default:
            return true;
    }
}

std::string format_float(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
    std::string out;
    if (sci.front() == '-') {
        out.push_back('-');
        sci.remove_prefix(1);
    }
    const size_t epos = sci.find('e');
    std::string digits;
    for (const char c : sci.substr(0, epos)) {
        if (c != '.') digits.push_back(c);
    }
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int exp10 = 0;
    std::from_chars(sci.data() + epos + (sci[epos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                    exp10);
    if (exp10 < -4 || exp10 >= 16) {
        out += digits[0];
        if (digits.size() > 1) out += "." + digits.substr(1);
        char exp_buf[16];
        std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
        return out + exp_buf;
    }
    if (exp10 < 0) return out + "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
    const size_t int_len = static_cast<size_t>(exp10) + 1;
    if (digits.size() <= int_len)
        return out + digits + std::string(int_len - digits.size(), '0') + ".0";
    return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(ch);
                }
        }
    }
    out.push_back('"');
}

namespace {

void append_repr_string(std::string& out, std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    out.push_back(quote);
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        char buf[12];
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
            out.push_back('\\');
            out.push_back(s[i]);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
            // C1 control characters U+0080..U+009F are not printable in Python.
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i + 1]) - 0x40);
            out += buf;
            ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    out.push_back(quote);
}

void append_json(std::string& out, const Value& v, const JsonFormat& f, int depth);

void append_newline_indent(std::string& out, int indent, int depth) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * depth), ' ');
}

std::string json_key(const Value& key) {
    switch (key.kind()) {
        case Kind::String:
            return key.str();
        case Kind::Int:
            return std::to_string(key.as_int());
        case Kind::Float:
            return format_float(key.as_float());
        case Kind::Bool:
            return key.as_bool() ? "true" : "false";
        case Kind::None:
            return "null";
        default:
            throw EvalError("keys must be str, int, float, bool or None, not " + key.type_name());
    }
}

void append_json_dict(std::string& out, const Dict& dict, const JsonFormat& f, int depth) {
    const int indent = f.indent;
    if (dict.items.empty()) {
        out += "{}";
        return;
    }
    std::vector<std::pair<std::string, const Value*>> entries;
    entries.reserve(dict.items.size());
    for (const auto& [k, v] : dict.items) entries.emplace_back(json_key(k), &v);
    if (f.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    out.push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += f.item_separator;
        if (indent >= 0) append_newline_indent(out, indent, depth + 1);
        append_json_string(out, entries[i].first);
        out += f.key_separator;
        append_json(out, *entries[i].second, f, depth + 1);
    }
    if (indent >= 0) append_newline_indent(out, indent, depth);
    out.push_back('}');
}

void append_json(std::string& out, const Value& v, const JsonFormat& f, int depth) {
    const NestingGuard guard;
    const int indent = f.indent;
    switch (v.kind()) {
        case Kind::None:
            out += "null";
            return;
        case Kind::Bool:
            out += v.as_bool() ? "true" : "false";
            return;
        case Kind::Int:
            out += std::to_string(v.as_int());
            return;
        case Kind::Float: {
            const double d = v.as_float();
            if (std::isnan(d))
                out += "NaN";
            else if (std::isinf(d))
                out += d < 0 ? "-Infinity" : "Infinity";
            else
                out += format_float(d);
            return;
        }
        case Kind::String:
            append_json_string(out, v.str());
            return;
        case Kind::List: {
            const List& list = v.list();
            if (list.empty()) {
                out += "[]";
                return;
            }
            out.push_back('[');
            for (size_t i = 0; i < list.size(); ++i) {
                if (i > 0) out += f.item_separator;
                if (indent >= 0) append_newline_indent(out, indent, depth + 1);
                append_json(out, list[i], f, depth + 1);
            }
            if (indent >= 0) append_newline_indent(out, indent, depth);
            out.push_back(']');
            return;
        }
        case Kind::Dict:
            append_json_dict(out, v.dict(), f, depth);
            return;
        default:
            throw EvalError("Object of type " + v.type_name() + " is not JSON serializable");
    }
}

// Non-ASCII only occurs inside JSON strings, so escaping the finished text is safe.
std::string escape_non_ascii(const std::string& json) {
    std::string out;
    out.reserve(json.size());
    for (size_t i = 0; i < json.size();) {
        const auto c = static_cast<unsigned char>(json[i]);
        if (c < 0x80) {
            out.push_back(json[i++]);
            continue;
        }
        const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
        for (size_t k = 1; k < len && i + k < json.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(json[i + k]) & 0x3F);
        }
        i += len;
        char buf[16];
        if (cp >= 0x10000) {
            cp -= 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
                          0xDC00 + (cp & 0x3FF));
        } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        }
        out += buf;
    }
    return out;
}

}  // namespace

void Value::append_str(std::string& out) const {
    switch (kind()) {
        case Kind::Undefined:
            return;
        case Kind::String:
            out += str();
            return;
        case Kind::None:
            out += "None";
            return;
        case Kind::Bool:
            out += as_bool() ? "True" : "False";
            return;
        case Kind::Int:
            out += std::to_string(as_int());
            return;
        case Kind::Float:
            out += format_float(as_float());
            return;
        case Kind::Function:
            out += "<function>";
            return;
        case Kind::Namespace:
            out += "<Namespace ";
            Value(Dict(ns().attrs)).append_repr(out);
            out += ">";
            return;
        default:
            append_repr(out);
            return;
    }
}

std::string Value::to_str() const {
    if (is_string()) return str();
    std::string out;
    append_str(out);
    return out;
}

void Value::append_repr(std::string& out) const {
    const NestingGuard guard;
    switch (kind()) {
        case Kind::String:
            append_repr_string(out, str());
            return;
        case Kind::List: {
            const List& items = list();
            out.push_back(items.tuple ? '(' : '[');
            for (size_t i = 0; i < items.size(); ++i) {
                if (i > 0) out += ", ";
                items[i].append_repr(out);
            }
            if (items.tuple && items.size() == 1) out.push_back(',');
            out.push_back(items.tuple ? ')' : ']');
            return;
        }
        case Kind::Dict: {
            out.push_back('{');
            const Dict& d = dict();
            for (size_t i = 0; i < d.items.size(); ++i) {
                if (i > 0) out += ", ";
                d.items[i].first.append_repr(out);
                out += ": ";
                d.items[i].second.append_repr(out);
            }
            out.push_back('}');
            return;
        }
        case Kind::Undefined:
            return;
        default:
            append_str(out);
            return;
    }
}

std::string Value::to_json(int indent, bool sort_keys) const {
    JsonFormat format;
    format.indent = indent;
    format.sort_keys = sort_keys;
    return to_json(format);
}

std::string Value::to_json(const JsonFormat& format) const {
    JsonFormat f = format;
    if (f.item_separator.empty()) f.item_separator = f.indent >= 0 ? "," : ", ";
    std::string out;
    append_json(out, *this, f, 0);
    return f.ensure_ascii ? escape_non_ascii(out) : out;
}

nlohmann::ordered_json Value::to_nlohmann() const {
    return nlohmann::ordered_json::parse(to_json());
}

std::string Value::type_name() const {
    // Python's type names, in the order of Kind.
    static constexpr std::array<const char*, 10> kNames = {"Undefined", "NoneType", "bool", "int",
                                                           "float",     "str",      "list", "dict",
                                                           "function",  "Namespace"};
    const auto index = static_cast<size_t>(kind());
    return index < kNames.size() ? kNames[index] : "object";
}

bool Value::equals(const Value& other) const {
    const NestingGuard guard;
    const bool numeric = kind() == Kind::Bool || is_number();
    const bool other_numeric = other.kind() == Kind::Bool || other.is_number();
    if (numeric && other_numeric) {
        if (is_int() && other.is_int()) return as_int() == other.as_int();
        return number() == other.number();
    }
    if (kind() != other.kind()) return false;
    switch (kind()) {
        case Kind::Undefined:
        case Kind::None:
            return true;
        case Kind::String:
            return str() == other.str();
        case Kind::List: {
            const List& a = list();
            const List& b = other.list();
            if (a.size() != b.size() || a.tuple != b.tuple) return false;
            for (size_t i = 0; i < a.size(); ++i) {
                if (!a[i].equals(b[i])) return false;
            }
            return true;
        }
        case Kind::Dict: {
            const Dict& a = dict();
            const Dict& b = other.dict();
            if (a.items.size() != b.items.size()) return false;
            for (const auto& [k, v] : a.items) {
                const Value* found = b.find(k);
                if (!found || !found->equals(v)) return false;
            }
            return true;
        }
        case Kind::Function:
            return &function() == &other.function();
        case Kind::Namespace:
            return &ns() == &other.ns();
        default:
            return false;
    }
}

bool Value::less(const Value& other) const {
    const NestingGuard guard;
    require_defined();
    other.require_defined();
    const bool numeric = kind() == Kind::Bool || is_number();
    const bool other_numeric = other.kind() == Kind::Bool || other.is_number();
    if (numeric && other_numeric) {
        if (is_int() && other.is_int()) return as_int() < other.as_int();
        return number() < other.number();
    }
    if (is_string() && other.is_string()) return str() < other.str();
    if (is_list() && other.is_list()) {
        const List& a = list();
        const List& b = other.list();
        for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
            if (a[i].less(b[i])) return true;
            if (b[i].less(a[i])) return false;
        }
        return a.size() < b.size();
    }
    throw EvalError("'<' not supported between instances of '" + type_name() + "' and '" +
                    other.type_name() + "'");
}

void Value::require_defined() const {
    if (is_undefined()) throw EvalError(undefined_hint());
}

}  // namespace ovllm::jinja
