// Attribute/item access, str/dict/list methods, operators and global functions.
#include <climits>
#include <cmath>
#include <ctime>
#include <limits>

#include <utf8proc.h>

#include "jinja/builtins.hpp"
#include "jinja/strings.hpp"
#include "util/error.hpp"

namespace ovllm::jinja {

int64_t checked_int(double d, const char* what) {
    // 2^63 is exact in a double; the range test also refuses NaN.
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        throw EvalError(std::string(what) + " " + format_float(d) +
                        " does not fit in a 64-bit integer");
    }
    return static_cast<int64_t>(d);
}

namespace {

std::string object_desc(const Value& obj) {
    if (obj.is_none()) return "'None'";
    std::string desc = obj.type_name();
    desc.insert(desc.begin(), '\'');
    desc.append(" object'");
    return desc;
}

Value missing_attr(const Value& obj, const std::string& name) {
    return Value::undefined(object_desc(obj) + " has no attribute '" + name + "'");
}

Value bound_method(const Value& obj, const std::string& name) {
    return Value(Function([obj, name](const Args& args) { return call_method(obj, name, args); }));
}

// Python index normalisation; returns false when out of range.
bool normalize_index(int64_t& index, size_t size) {
    const auto n = static_cast<int64_t>(size);
    if (index < 0) index += n;
    return index >= 0 && index < n;
}

int64_t int_arg(const Value& v, const char* what) {
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool() ? 1 : 0;
    throw EvalError(std::string(what) + " must be an integer, not " + v.type_name());
}

const std::string& str_arg(const Args& args, size_t index, std::string_view name,
                           std::string_view method) {
    const Value* v = args.get(index, name);
    if (!v || !v->is_string()) {
        throw EvalError(std::string(method) + "() argument '" + std::string(name) +
                        "' must be str");
    }
    return v->str();
}

// str.startswith / str.endswith: the argument is one string or a list of them.
bool has_affix(const std::string& s, std::string_view name, const Args& args) {
    const Value* arg = args.get(0, "prefix");
    if (!arg) throw EvalError(std::string(name) + "() takes at least 1 argument (0 given)");
    const List options = arg->is_list() ? arg->list() : List{*arg};
    for (const Value& option : options) {
        if (!option.is_string()) throw EvalError(std::string(name) + "() argument must be str");
        const std::string& p = option.str();
        const bool hit =
            name == "startswith"
                ? s.compare(0, p.size(), p) == 0 && s.size() >= p.size()
                : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
        if (hit) return true;
    }
    return false;
}

// separator.join(iterable), with Python's error for a non-string item.
std::string py_join(const std::string& separator, const Args& args) {
    const Value* items = args.get(0, "iterable");
    if (!items) throw EvalError("join() takes exactly one argument (0 given)");
    std::string out;
    const List list = iterate(*items);
    for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_string()) {
            throw EvalError("sequence item " + std::to_string(i) + ": expected str instance, " +
                            list[i].type_name() + " found");
        }
        if (i > 0) out += separator;
        out += list[i].str();
    }
    return out;
}

Value string_method(const std::string& s, std::string_view name, const Args& args) {
    auto optional_chars = [&](size_t i) -> const Value* {
        const Value* v = args.get(i, "chars");
        return v && !v->is_none() ? v : nullptr;
    };
    if (name == "startswith" || name == "endswith") return Value(has_affix(s, name, args));
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const Value* chars = optional_chars(0);
        const bool left = name != "rstrip";
        const bool right = name != "lstrip";
        return Value(py_strip(s, chars ? &chars->str() : nullptr, left, right));
    }
    if (name == "split" || name == "rsplit") {
        const Value* sep = args.get(0, "sep");
        const Value* max = args.get(1, "maxsplit");
        const int64_t maxsplit = max ? int_arg(*max, "maxsplit") : -1;
        List parts;
        for (auto& p : py_split(s, sep && !sep->is_none() ? &sep->str() : nullptr, maxsplit,
                                name == "rsplit")) {
            parts.emplace_back(std::move(p));
        }
        return Value(std::move(parts));
    }
    if (name == "splitlines") {
        List parts;
        for (auto& p : py_splitlines(s)) parts.emplace_back(std::move(p));
        return Value(std::move(parts));
    }
    if (name == "upper") return Value(case_map(s, CaseMode::Upper));
    if (name == "lower") return Value(case_map(s, CaseMode::Lower));
    if (name == "title") return Value(case_map(s, CaseMode::PyTitle));
    if (name == "capitalize") return Value(case_map(s, CaseMode::Capitalize));
    if (name == "replace") {
        const Value* count = args.get(2, "count");
        return Value(py_replace(s, str_arg(args, 0, "old", name), str_arg(args, 1, "new", name),
                                count ? int_arg(*count, "count") : -1));
    }
    if (name == "find") {
        const size_t at = s.find(str_arg(args, 0, "sub", name));
        return Value(at == std::string::npos ? int64_t{-1}
                                             : static_cast<int64_t>(utf8_length(s.substr(0, at))));
    }
    if (name == "count") {
        const std::string& sub = str_arg(args, 0, "sub", name);
        if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
        int64_t n = 0;
        for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size()))
            ++n;
        return Value(n);
    }
    if (name == "join") return Value(py_join(s, args));
    if (name == "format") return Value(py_format(s, args));
    if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum" ||
        name == "isupper" || name == "islower") {
        return Value(char_class_test(s, name));
    }
    throw EvalError("'str' object has no attribute '" + std::string(name) + "'");
}

Value dict_method(const Value& obj, std::string_view name, const Args& args) {
    const Dict& d = obj.dict();
    if (name == "get") {
        const Value* key = args.get(0, "key");
        if (!key) throw EvalError("get expected at least 1 argument, got 0");
        const Value* found = d.find(*key);
        if (found) return *found;
        const Value* fallback = args.get(1, "default");
        return fallback ? *fallback : Value();
    }
    List out;
    out.reserve(d.items.size());
    for (const auto& [k, v] : d.items) {
        if (name == "items") {
            List pair{k, v};
            pair.tuple = true;
            out.emplace_back(std::move(pair));
        } else if (name == "keys") {
            out.push_back(k);
        } else {
            out.push_back(v);
        }
    }
    return Value(std::move(out));
}

Value list_method(const Value& obj, std::string_view name, const Args& args) {
    List& list = obj.list();
    if (name == "append") {
        if (args.positional.size() != 1) throw EvalError("append() takes exactly one argument");
        if (args.positional[0].holds(obj)) throw EvalError("cannot append a list into itself");
        list.push_back(args.positional[0]);
        return Value();
    }
    if (name == "extend") {
        if (args.positional.size() != 1) throw EvalError("extend() takes exactly one argument");
        const List items = iterate(args.positional[0]);
        for (const Value& item : items) {
            if (item.holds(obj)) throw EvalError("cannot extend a list with itself");
        }
        list.insert(list.end(), items.begin(), items.end());
        return Value();
    }
    if (name == "pop") {
        if (list.empty()) throw EvalError("pop from empty list");
        int64_t index = args.positional.empty() ? -1 : int_arg(args.positional[0], "index");
        if (!normalize_index(index, list.size())) throw EvalError("pop index out of range");
        Value v = list[static_cast<size_t>(index)];
        list.erase(list.begin() + index);
        return v;
    }
    if (name == "index" || name == "count") {
        if (args.positional.size() != 1)
            throw EvalError(std::string(name) + "() takes exactly one argument");
        int64_t n = 0;
        for (size_t i = 0; i < list.size(); ++i) {
            if (!list[i].equals(args.positional[0])) continue;
            if (name == "index") return Value(static_cast<int64_t>(i));
            ++n;
        }
        if (name == "index") throw EvalError("value is not in list");
        return Value(n);
    }
    throw EvalError("'list' object has no attribute '" + std::string(name) + "'");
}

bool is_string_method(std::string_view name) {
    static const std::string_view names[] = {
        "startswith", "endswith",   "strip",   "lstrip",  "rstrip", "split",
        "rsplit",     "splitlines", "upper",   "lower",   "title",  "capitalize",
        "replace",    "find",       "count",   "join",    "format", "isdigit",
        "isspace",    "isalpha",    "isalnum", "isupper", "islower"};
    for (const auto n : names) {
        if (n == name) return true;
    }
    return false;
}

Value py_range(const Args& args) {
    if (args.positional.empty() || args.positional.size() > 3) {
        throw EvalError("range expected 1 to 3 arguments");
    }
    int64_t start = 0;
    int64_t stop = 0;
    int64_t step = 1;
    if (args.positional.size() == 1) {
        stop = int_arg(args.positional[0], "range() argument");
    } else {
        start = int_arg(args.positional[0], "range() argument");
        stop = int_arg(args.positional[1], "range() argument");
        if (args.positional.size() == 3) step = int_arg(args.positional[2], "range() argument");
    }
    if (step == 0) throw EvalError("range() arg 3 must not be zero");
    constexpr int64_t kMaxRange = 100000;  // the sandbox's limit
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<int64_t>(out.size()) >= kMaxRange) {
            throw EvalError("range too big, the sandbox blocks ranges larger than 100000");
        }
        out.emplace_back(i);
    }
    return Value(std::move(out));
}

Dict kwargs_dict(const Args& args, const char* fn) {
    Dict d;
    for (const Value& p : args.positional) {
        if (!p.is_dict())
            throw EvalError(std::string(fn) + "() positional argument must be a dict");
        for (const auto& [k, v] : p.dict().items) d.set(k, v);
    }
    for (const auto& [k, v] : args.keyword) d.set(Value(k), v);
    return d;
}

Value strftime_now(const Args& args) {
    if (args.positional.size() != 1 || !args.positional[0].is_string()) {
        throw EvalError("strftime_now() takes one format string");
    }
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[512];
    const size_t n = std::strftime(buf, sizeof buf, args.positional[0].str().c_str(), &local);
    return Value(std::string(buf, n));
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
    obj.require_defined();
    switch (obj.kind()) {
        case Kind::Dict: {
            if (const Value* v = obj.dict().find(name)) return *v;
            if (has_method(obj, name)) return bound_method(obj, name);
            return missing_attr(obj, name);
        }
        case Kind::Namespace: {
            if (const Value* v = obj.ns().attrs.find(name)) return *v;
            return missing_attr(obj, name);
        }
        case Kind::String:
        case Kind::List:
            if (has_method(obj, name)) return bound_method(obj, name);
            return missing_attr(obj, name);
        default:
            return missing_attr(obj, name);
    }
}

Value get_item(const Value& obj, const Value& key) {
    obj.require_defined();
    key.require_defined();
    const auto missing_element = [&] {
        if (key.is_string()) return missing_attr(obj, key.str());
        std::string k;
        key.append_repr(k);
        return Value::undefined(object_desc(obj) + " has no element " + k);
    };
    switch (obj.kind()) {
        case Kind::Dict: {
            if (const Value* v = obj.dict().find(key)) return *v;
            if (key.is_string() && has_method(obj, key.str())) return bound_method(obj, key.str());
            return missing_element();
        }
        case Kind::List: {
            if (key.is_string()) return get_attr(obj, key.str());
            if (!key.is_int() && !key.is_bool()) return missing_element();
            int64_t index = int_arg(key, "index");
            if (!normalize_index(index, obj.list().size())) return missing_element();
            return obj.list()[static_cast<size_t>(index)];
        }
        case Kind::String: {
            if (key.is_string()) return get_attr(obj, key.str());
            if (!key.is_int() && !key.is_bool()) return missing_element();
            const std::vector<std::string> chars = utf8_chars(obj.str());
            int64_t index = int_arg(key, "index");
            if (!normalize_index(index, chars.size())) return missing_element();
            return Value(chars[static_cast<size_t>(index)]);
        }
        case Kind::Namespace:
            if (key.is_string()) return get_attr(obj, key.str());
            return missing_element();
        default:
            return missing_element();
    }
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    obj.require_defined();
    const int64_t st = step.is_none() ? 1 : int_arg(step, "slice step");
    if (st == 0) throw EvalError("slice step cannot be zero");
    const auto indices = [&](size_t size) {
        const auto n = static_cast<int64_t>(size);
        auto clamp = [&](const Value& v, int64_t fallback) {
            if (v.is_none()) return fallback;
            int64_t i = int_arg(v, "slice index");
            if (i < 0) i += n;
            if (st > 0) return std::clamp<int64_t>(i, 0, n);
            return std::clamp<int64_t>(i, -1, n - 1);
        };
        const int64_t begin = clamp(start, st > 0 ? 0 : n - 1);
        const int64_t end = clamp(stop, st > 0 ? n : -1);
        std::vector<size_t> out;
        for (int64_t i = begin; st > 0 ? i < end : i > end; i += st)
            out.push_back(static_cast<size_t>(i));
        return out;
    };
    if (obj.is_list()) {
        const List& list = obj.list();
        List out;
        out.tuple = list.tuple;
        for (const size_t i : indices(list.size())) out.push_back(list[i]);
        return Value(std::move(out));
    }
    if (obj.is_string()) {
        const std::vector<std::string> chars = utf8_chars(obj.str());
        std::string out;
        for (const size_t i : indices(chars.size())) out += chars[i];
        return Value(std::move(out));
    }
    throw EvalError("'" + obj.type_name() + "' object is not subscriptable");
}

bool has_method(const Value& obj, std::string_view name) {
    switch (obj.kind()) {
        case Kind::String:
            return is_string_method(name);
        case Kind::Dict:
            return name == "get" || name == "items" || name == "keys" || name == "values";
        case Kind::List:
            return name == "append" || name == "extend" || name == "pop" || name == "index" ||
                   name == "count";
        default:
            return false;
    }
}

Value call_method(const Value& obj, std::string_view name, const Args& args) {
    switch (obj.kind()) {
        case Kind::String:
            return string_method(obj.str(), name, args);
        case Kind::Dict:
            return dict_method(obj, name, args);
        case Kind::List:
            return list_method(obj, name, args);
        default:
            throw EvalError("'" + obj.type_name() + "' object has no attribute '" +
                            std::string(name) + "'");
    }
}

namespace {

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
    if (op == "+" && a.is_string()) {
        throw EvalError("can only concatenate str (not \"" + b.type_name() + "\") to str");
    }
    if (op == "+" && a.is_list()) {
        throw EvalError("can only concatenate list (not \"" + b.type_name() + "\") to list");
    }
    throw EvalError("unsupported operand type(s) for " + std::string(op) + ": '" + a.type_name() +
                    "' and '" + b.type_name() + "'");
}

bool is_numeric(const Value& v) {
    return v.is_number() || v.is_bool();
}

// printf-style `"%s: %d" % (a, b)` with the s, r, d, i, f and % conversions (no widths).
std::string percent_format(const std::string& fmt, const Value& values) {
    const List items = values.is_list() ? values.list() : List{values};
    std::string out;
    size_t next = 0;  // items consumed
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out.push_back(fmt[i]);
            continue;
        }
        if (++i >= fmt.size()) throw EvalError("incomplete format");
        const char conv = fmt[i];
        if (conv == '%') {
            out.push_back('%');
            continue;
        }
        if (next >= items.size()) throw EvalError("not enough arguments for format string");
        const Value& v = items[next++];
        switch (conv) {
            case 's':
                v.append_str(out);
                break;
            case 'r':
                v.append_repr(out);
                break;
            case 'd':
            case 'i':
                out += std::to_string(checked_int(v.number(), "%d of"));
                break;
            case 'f':
                out += fmt::format("{:.6f}", v.number());
                break;
            default:
                throw EvalError(std::string("unsupported format character '") + conv + "'");
        }
    }
    // Python ignores an unused list or dict operand (it has __getitem__, like a mapping).
    const bool ignorable = next == 0 && (values.is_list() || values.is_dict());
    if (next < items.size() && !ignorable) {
        throw EvalError("not all arguments converted during string formatting");
    }
    return out;
}

Value repeat(const Value& seq, int64_t times) {
    if (seq.is_string()) {
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += seq.str();
        return Value(std::move(out));
    }
    List out;
    for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
    return Value(std::move(out));
}

Value arithmetic(std::string_view op, const Value& a, const Value& b) {
    const bool ints = !a.is_float() && !b.is_float();
    if (ints) {
        const int64_t x = int_arg(a, "operand");
        const int64_t y = int_arg(b, "operand");
        // Python's integers are unbounded; ours stop at 64 bits with an error.
        int64_t r = 0;
        const auto check = [](bool overflow) {
            if (overflow) throw EvalError("integer overflow (beyond 64 bits)");
        };
        if (op == "+") return check(__builtin_add_overflow(x, y, &r)), Value(r);
        if (op == "-") return check(__builtin_sub_overflow(x, y, &r)), Value(r);
        if (op == "*") return check(__builtin_mul_overflow(x, y, &r)), Value(r);
        if (op == "/") {
            if (y == 0) throw EvalError("division by zero");
            return Value(static_cast<double>(x) / static_cast<double>(y));
        }
        if (op == "//" || op == "%") {
            if (y == 0) throw EvalError("integer division or modulo by zero");
            check(x == INT64_MIN && y == -1);
            int64_t q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
            return op == "//" ? Value(q) : Value(x - q * y);
        }
        if (op == "**" && y >= 0) {  // by squaring: at most 63 steps
            r = 1;
            int64_t base = x;
            for (int64_t e = y; e > 0; e >>= 1) {
                if (e & 1) check(__builtin_mul_overflow(r, base, &r));
                if (e > 1) check(__builtin_mul_overflow(base, base, &base));
            }
            return Value(r);
        }
    }
    const double x = a.number();
    const double y = b.number();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "**") return Value(std::pow(x, y));
    if (y == 0) throw EvalError("float division by zero");
    if (op == "/") return Value(x / y);
    // CPython's float floor division and modulo, built on fmod (1 // 0.1 == 9.0).
    double mod = std::fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0.0) {
        if ((y < 0) != (mod < 0)) {
            mod += y;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, y);
    }
    double floordiv = 0.0;
    if (div != 0.0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = std::copysign(0.0, x / y);
    }
    return op == "//" ? Value(floordiv) : Value(mod);
}

}  // namespace

Value binary_op(std::string_view op, const Value& a, const Value& b) {
    if (op == "~") {
        std::string out = a.to_str();
        b.append_str(out);
        return Value(std::move(out));
    }
    a.require_defined();
    b.require_defined();
    if (is_numeric(a) && is_numeric(b)) return arithmetic(op, a, b);
    if (op == "+") {
        if (a.is_string() && b.is_string()) return Value(a.str() + b.str());
        if (a.is_list() && b.is_list()) {
            List out = a.list();
            out.insert(out.end(), b.list().begin(), b.list().end());
            return Value(std::move(out));
        }
    }
    if (op == "%" && a.is_string()) return Value(percent_format(a.str(), b));
    if (op == "*") {
        if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool()))
            return repeat(a, int_arg(b, "count"));
        if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool()))
            return repeat(b, int_arg(a, "count"));
    }
    unsupported(op, a, b);
}

bool compare_op(std::string_view op, const Value& a, const Value& b) {
    if (op == "==") return a.equals(b);
    if (op == "!=") return !a.equals(b);
    if (op == "<") return a.less(b);
    if (op == ">") return b.less(a);
    if (op == "<=") return a.less(b) || a.equals(b);
    if (op == ">=") return b.less(a) || a.equals(b);
    if (op == "in") return contains(b, a);
    if (op == "notin") return !contains(b, a);
    throw EvalError("unknown comparison " + std::string(op));
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Kind::Undefined:
            return false;
        case Kind::String:
            if (!item.is_string()) {
                throw EvalError("'in <string>' requires string as left operand, not " +
                                item.type_name());
            }
            return container.str().find(item.str()) != std::string::npos;
        case Kind::List:
            for (const Value& v : container.list()) {
                if (v.equals(item)) return true;
            }
            return false;
        case Kind::Dict:
            return container.dict().find(item) != nullptr;
        case Kind::Namespace:
            return container.ns().attrs.find(item) != nullptr;
        default:
            throw EvalError("argument of type '" + container.type_name() + "' is not iterable");
    }
}

List iterate(const Value& value) {
    switch (value.kind()) {
        case Kind::Undefined:
            return {};
        case Kind::List: {
            List items = value.list();
            items.tuple = false;  // what a loop or list() sees is a plain list
            return items;
        }
        case Kind::Dict: {
            List keys;
            keys.reserve(value.dict().items.size());
            for (const auto& [k, v] : value.dict().items) keys.push_back(k);
            return keys;
        }
        case Kind::String: {
            List chars;
            for (auto& c : utf8_chars(value.str())) chars.emplace_back(std::move(c));
            return chars;
        }
        default:
            throw EvalError("'" + value.type_name() + "' object is not iterable");
    }
}

namespace {

std::vector<std::pair<std::string, Value>> make_globals() {
    std::vector<std::pair<std::string, Value>> globals;
    globals.emplace_back("range", Value(Function(py_range)));
    globals.emplace_back("namespace", Value(Function([](const Args& args) {
                             return Value(Namespace{kwargs_dict(args, "namespace")});
                         })));
    globals.emplace_back(
        "dict", Value(Function([](const Args& args) { return Value(kwargs_dict(args, "dict")); })));
    globals.emplace_back("strftime_now", Value(Function(strftime_now)));
    globals.emplace_back(
        "raise_exception", Value(Function([](const Args& args) -> Value {
            const Value* msg = args.get(0, "message");
            throw Error(msg ? msg->to_str() : std::string("raise_exception called"));
        })));
    return globals;
}

}  // namespace

// The functions are stateless, so one set is shared by every render (copies share them).
std::vector<std::pair<std::string, Value>> builtin_globals() {
    static const std::vector<std::pair<std::string, Value>> globals = make_globals();
    return globals;
}

}  // namespace ovllm::jinja
