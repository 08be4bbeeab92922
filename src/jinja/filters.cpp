// Jinja2's built-in filters and tests (the subset chat templates use), plus transformers'
// tojson.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "jinja/builtins.hpp"
#include "jinja/strings.hpp"

namespace ovllm::jinja {
namespace {

using FilterFn = Value (*)(const Value&, const Args&);
using TestFn = bool (*)(const Value&, const Args&);

// An optional argument; passing None counts as not passing it.
const Value* arg(const Args& args, size_t index, std::string_view name) {
    const Value* v = args.get(index, name);
    return v && !v->is_none() ? v : nullptr;
}

bool flag(const Args& args, size_t index, std::string_view name, bool fallback = false) {
    const Value* v = arg(args, index, name);
    return v ? v->truthy() : fallback;
}

int64_t length_of(const Value& v) {
    switch (v.kind()) {
        case Kind::Undefined:
            return 0;
        case Kind::String:
            return static_cast<int64_t>(utf8_length(v.str()));
        case Kind::List:
            return static_cast<int64_t>(v.list().size());
        case Kind::Dict:
            return static_cast<int64_t>(v.dict().items.size());
        case Kind::Namespace:
            return static_cast<int64_t>(v.ns().attrs.items.size());
        default:
            throw EvalError("object of type '" + v.type_name() + "' has no len()");
    }
}

// Attribute lookup for map/selectattr/sort: "a.b" walks nested attributes, digits index lists.
Value attribute_of(const Value& item, const std::string& path) {
    Value current = item;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string part =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        // Digits index a list; too many for 64 bits index nothing, as the key they spell.
        int64_t index = 0;
        const char* end = part.data() + part.size();
        const auto [ptr, error] = std::from_chars(part.data(), end, index);
        const bool numeric = !part.empty() && part[0] != '-' && ptr == end && error == std::errc();
        current = numeric ? get_item(current, Value(index)) : get_item(current, Value(part));
        if (dot == std::string::npos) return current;
        start = dot + 1;
    }
}

Args rest_args(const Args& args, size_t from) {
    Args rest;
    for (size_t i = from; i < args.positional.size(); ++i)
        rest.positional.push_back(args.positional[i]);
    rest.keyword = args.keyword;
    return rest;
}

// ---- filters ----

// transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Value f_tojson(const Value& v, const Args& args) {
    JsonFormat format;
    format.ensure_ascii = flag(args, 0, "ensure_ascii");
    const Value* indent = arg(args, 1, "indent");
    if (indent && !indent->is_none()) format.indent = static_cast<int>(indent->number());
    const Value* separators = arg(args, 2, "separators");
    if (separators && separators->is_list() && separators->list().size() == 2) {
        format.item_separator = separators->list()[0].to_str();
        format.key_separator = separators->list()[1].to_str();
    }
    format.sort_keys = flag(args, 3, "sort_keys");
    return Value(v.to_json(format));
}

Value f_trim(const Value& v, const Args& args) {
    const Value* chars = arg(args, 0, "chars");
    return Value(
        py_strip(v.to_str(), chars && !chars->is_none() ? &chars->str() : nullptr, true, true));
}

Value f_length(const Value& v, const Args&) {
    return Value(length_of(v));
}
Value f_upper(const Value& v, const Args&) {
    return Value(case_map(v.to_str(), CaseMode::Upper));
}
Value f_lower(const Value& v, const Args&) {
    return Value(case_map(v.to_str(), CaseMode::Lower));
}
Value f_capitalize(const Value& v, const Args&) {
    return Value(case_map(v.to_str(), CaseMode::Capitalize));
}
Value f_title(const Value& v, const Args&) {
    return Value(case_map(v.to_str(), CaseMode::JinjaTitle));
}
Value f_string(const Value& v, const Args&) {
    return Value(v.to_str());
}
Value f_safe(const Value& v, const Args&) {
    return v;
}

Value f_replace(const Value& v, const Args& args) {
    const Value* old = arg(args, 0, "old");
    const Value* rep = arg(args, 1, "new");
    const Value* count = arg(args, 2, "count");
    if (!old || !rep) throw EvalError("replace filter needs 'old' and 'new'");
    return Value(
        py_replace(v.to_str(), old->to_str(), rep->to_str(),
                   count && !count->is_none() ? checked_int(count->number(), "count") : -1));
}

Value f_join(const Value& v, const Args& args) {
    const Value* sep = arg(args, 0, "d");
    const Value* attribute = arg(args, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
        if (!first && sep) sep->append_str(out);
        first = false;
        (attribute ? attribute_of(item, attribute->to_str()) : item).append_str(out);
    }
    return Value(std::move(out));
}

Value f_first(const Value& v, const Args&) {
    const List items = iterate(v);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(const Value& v, const Args&) {
    const List items = iterate(v);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_default(const Value& v, const Args& args) {
    const Value* fallback = args.get(0, "default_value");
    const bool boolean = flag(args, 1, "boolean");
    if (v.is_undefined() || (boolean && !v.truthy())) return fallback ? *fallback : Value("");
    return v;
}

Value f_list(const Value& v, const Args&) {
    return Value(iterate(v));
}

Value f_int(const Value& v, const Args& args) {
    const Value* fallback = args.get(0, "default");
    const Value dflt = fallback ? *fallback : Value(int64_t{0});
    switch (v.kind()) {
        case Kind::Int:
            return v;
        case Kind::Bool:
            return Value(static_cast<int64_t>(v.as_bool()));
        case Kind::Float:
            return Value(checked_int(v.as_float(), "int of"));
        case Kind::String: {
            const std::string s = py_strip(v.str(), nullptr, true, true);
            try {
                size_t used = 0;
                const long long i = std::stoll(s, &used);
                if (used == s.size()) return Value(static_cast<int64_t>(i));
                const double d = std::stod(s, &used);
                if (used == s.size()) return Value(checked_int(d, "int of"));
            } catch (const std::exception&) {
            }
            return dflt;
        }
        default:
            return dflt;
    }
}

Value f_float(const Value& v, const Args& args) {
    const Value* fallback = args.get(0, "default");
    const Value dflt = fallback ? *fallback : Value(0.0);
    if (v.is_number() || v.is_bool()) return Value(v.number());
    if (v.is_string()) {
        const std::string s = py_strip(v.str(), nullptr, true, true);
        try {
            size_t used = 0;
            const double d = std::stod(s, &used);
            if (used == s.size()) return Value(d);
        } catch (const std::exception&) {
        }
    }
    return dflt;
}

Value f_abs(const Value& v, const Args&) {
    if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    throw EvalError("bad operand type for abs(): '" + v.type_name() + "'");
}

Value f_round(const Value& v, const Args& args) {
    const Value* precision = arg(args, 0, "precision");
    const Value* method = arg(args, 1, "method");
    const double scale = std::pow(10.0, precision ? precision->number() : 0.0);
    const std::string how = method ? method->to_str() : "common";
    if (how == "common" && (v.is_int() || v.is_bool())) {
        return Value(static_cast<int64_t>(v.number()));  // Python's round(int, n) is an int
    }
    const int64_t digits = precision ? checked_int(precision->number(), "precision") : 0;
    if (how == "common" && digits >= 0 && digits < 300) {
        // Python rounds the exact binary value half-to-even, as printf does: round(2.675, 2)
        // is 2.67 because 2.675 is stored as 2.67499999...
        char buf[400];
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(digits), v.number());
        return Value(std::strtod(buf, nullptr));
    }
    const double x = v.number() * scale;
    double r = 0;
    if (how == "common")
        r = std::nearbyint(x);
    else if (how == "ceil")
        r = std::ceil(x);
    else if (how == "floor")
        r = std::floor(x);
    else
        throw EvalError("method must be common, ceil or floor");
    return Value(r / scale);
}

Value f_items(const Value& v, const Args&) {
    if (v.is_undefined()) return Value(List{});
    if (!v.is_dict()) throw EvalError("can only get item pairs from a mapping");
    return call_method(v, "items", Args{});
}

Value sort_key(const Value& v, bool case_sensitive) {
    return !case_sensitive && v.is_string() ? Value(case_map(v.str(), CaseMode::Lower)) : v;
}

Value f_dictsort(const Value& v, const Args& args) {
    const bool case_sensitive = flag(args, 0, "case_sensitive");
    const Value* by = arg(args, 1, "by");
    const bool by_value = by && by->to_str() == "value";
    const bool reverse = flag(args, 2, "reverse");
    List items = f_items(v, Args{}).list();
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        const size_t i = by_value ? 1 : 0;
        const Value ka = sort_key(a.list()[i], case_sensitive);
        const Value kb = sort_key(b.list()[i], case_sensitive);
        return reverse ? kb.less(ka) : ka.less(kb);
    });
    return Value(std::move(items));
}

Value f_sort(const Value& v, const Args& args) {
    const bool reverse = flag(args, 0, "reverse");
    const bool case_sensitive = flag(args, 1, "case_sensitive");
    const Value* attribute = arg(args, 2, "attribute");
    List items = iterate(v);
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        const Value ka =
            sort_key(attribute ? attribute_of(a, attribute->to_str()) : a, case_sensitive);
        const Value kb =
            sort_key(attribute ? attribute_of(b, attribute->to_str()) : b, case_sensitive);
        return reverse ? kb.less(ka) : ka.less(kb);
    });
    return Value(std::move(items));
}

Value f_reverse(const Value& v, const Args&) {
    if (v.is_string()) {
        std::vector<std::string> chars = utf8_chars(v.str());
        std::string out;
        for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
        return Value(std::move(out));
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
}

Value f_unique(const Value& v, const Args& args) {
    const bool case_sensitive = flag(args, 0, "case_sensitive");
    const Value* attribute = arg(args, 1, "attribute");
    List out;
    List seen;
    for (const Value& item : iterate(v)) {
        const Value key =
            sort_key(attribute ? attribute_of(item, attribute->to_str()) : item, case_sensitive);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return s.equals(key); }))
            continue;
        seen.push_back(key);
        out.push_back(item);
    }
    return Value(std::move(out));
}

Value min_max(const Value& v, const Args& args, bool want_max) {
    const bool case_sensitive = flag(args, 0, "case_sensitive");
    const Value* attribute = arg(args, 1, "attribute");
    const List items = iterate(v);
    if (items.empty())
        return Value::undefined(std::string("No aggregated item, sequence was empty."));
    const Value* best = &items[0];
    for (const Value& item : items) {
        const Value a =
            sort_key(attribute ? attribute_of(item, attribute->to_str()) : item, case_sensitive);
        const Value b =
            sort_key(attribute ? attribute_of(*best, attribute->to_str()) : *best, case_sensitive);
        if (want_max ? b.less(a) : a.less(b)) best = &item;
    }
    return *best;
}
Value f_min(const Value& v, const Args& args) {
    return min_max(v, args, false);
}
Value f_max(const Value& v, const Args& args) {
    return min_max(v, args, true);
}

Value f_sum(const Value& v, const Args& args) {
    const Value* attribute = arg(args, 0, "attribute");
    const Value* start = arg(args, 1, "start");
    Value total = start ? *start : Value(int64_t{0});
    for (const Value& item : iterate(v)) {
        total = binary_op("+", total, attribute ? attribute_of(item, attribute->to_str()) : item);
    }
    return total;
}

Value f_map(const Value& v, const Args& args) {
    List out;
    const Value* attribute = nullptr;
    for (const auto& [k, val] : args.keyword) {
        if (k == "attribute") attribute = &val;
    }
    if (attribute) {
        const Value* dflt = nullptr;
        for (const auto& [k, val] : args.keyword) {
            if (k == "default") dflt = &val;
        }
        for (const Value& item : iterate(v)) {
            Value x = attribute_of(item, attribute->to_str());
            out.push_back(x.is_undefined() && dflt ? *dflt : x);
        }
        return Value(std::move(out));
    }
    if (args.positional.empty()) throw EvalError("map requires a filter name or attribute=");
    const std::string filter = args.positional[0].to_str();
    const Args rest = rest_args(args, 1);
    for (const Value& item : iterate(v)) out.push_back(apply_filter(filter, item, rest));
    return Value(std::move(out));
}

Value select_impl(const Value& v, const Args& args, bool by_attribute, bool keep_when) {
    List out;
    size_t next = 0;
    std::string attribute;
    if (by_attribute) {
        if (args.positional.empty()) throw EvalError("missing attribute for selectattr/rejectattr");
        attribute = args.positional[0].to_str();
        next = 1;
    }
    const bool has_test_name = args.positional.size() > next;
    const std::string test = has_test_name ? args.positional[next].to_str() : "";
    const Args rest = rest_args(args, next + 1);
    for (const Value& item : iterate(v)) {
        const Value subject = by_attribute ? attribute_of(item, attribute) : item;
        const bool passed = has_test_name ? apply_test(test, subject, rest) : subject.truthy();
        if (passed == keep_when) out.push_back(item);
    }
    return Value(std::move(out));
}
Value f_select(const Value& v, const Args& a) {
    return select_impl(v, a, false, true);
}
Value f_reject(const Value& v, const Args& a) {
    return select_impl(v, a, false, false);
}
Value f_selectattr(const Value& v, const Args& a) {
    return select_impl(v, a, true, true);
}
Value f_rejectattr(const Value& v, const Args& a) {
    return select_impl(v, a, true, false);
}

Value f_indent(const Value& v, const Args& args) {
    const Value* width = arg(args, 0, "width");
    const bool first = flag(args, 1, "first");
    const bool blank = flag(args, 2, "blank");
    const std::string pad =
        width && width->is_string()
            ? width->str()
            : std::string(static_cast<size_t>(width ? width->number() : 4), ' ');
    if (!v.is_string()) throw EvalError("indent filter needs a string, got " + v.type_name());
    const std::vector<std::string> lines = py_splitlines(v.str() + "\n");
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            out += "\n";
            if (blank || !lines[i].empty()) out += pad;
        }
        out += lines[i];
    }
    return Value(first ? pad + out : out);
}

Value f_escape(const Value& v, const Args&) {
    std::string out;
    for (const char c : v.to_str()) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return Value(std::move(out));
}

Value f_attr(const Value& v, const Args& args) {
    const Value* name = arg(args, 0, "name");
    if (!name) throw EvalError("attr filter needs a name");
    return get_attr(v, name->to_str());
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
    static const std::unordered_map<std::string_view, FilterFn> table = {
        // strings
        {"tojson", f_tojson},
        {"trim", f_trim},
        {"length", f_length},
        {"count", f_length},
        {"upper", f_upper},
        {"lower", f_lower},
        {"capitalize", f_capitalize},
        {"title", f_title},
        {"string", f_string},
        {"safe", f_safe},
        {"replace", f_replace},
        {"join", f_join},
        // values and sequences
        {"first", f_first},
        {"last", f_last},
        {"default", f_default},
        {"d", f_default},
        {"list", f_list},
        {"int", f_int},
        {"float", f_float},
        {"abs", f_abs},
        {"round", f_round},
        {"items", f_items},
        {"dictsort", f_dictsort},
        {"sort", f_sort},
        {"reverse", f_reverse},
        {"unique", f_unique},
        {"min", f_min},
        {"max", f_max},
        {"sum", f_sum},
        {"map", f_map},
        {"select", f_select},
        {"reject", f_reject},
        {"selectattr", f_selectattr},
        {"rejectattr", f_rejectattr},
        {"indent", f_indent},
        {"escape", f_escape},
        {"e", f_escape},
        {"attr", f_attr}};
    return table;
}

// ---- tests ----

const Value& test_arg(const Args& args) {
    if (args.positional.empty()) throw EvalError("test needs an argument");
    return args.positional[0];
}

bool t_defined(const Value& v, const Args&) {
    return !v.is_undefined();
}
bool t_undefined(const Value& v, const Args&) {
    return v.is_undefined();
}
bool t_none(const Value& v, const Args&) {
    return v.is_none();
}
bool t_string(const Value& v, const Args&) {
    return v.is_string();
}
bool t_mapping(const Value& v, const Args&) {
    return v.is_dict();
}
bool t_number(const Value& v, const Args&) {
    return v.is_number() || v.is_bool();
}
bool t_integer(const Value& v, const Args&) {
    return v.is_int();
}
bool t_float(const Value& v, const Args&) {
    return v.is_float();
}
bool t_boolean(const Value& v, const Args&) {
    return v.is_bool();
}
bool t_true(const Value& v, const Args&) {
    return v.is_bool() && v.as_bool();
}
bool t_false(const Value& v, const Args&) {
    return v.is_bool() && !v.as_bool();
}
bool t_callable(const Value& v, const Args&) {
    return v.is_function();
}
bool t_iterable(const Value& v, const Args&) {
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(const Value& v, const Args&) {
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
// Python's value % 2: bools and floats count as numbers, other types are an error.
bool t_even(const Value& v, const Args&) {
    if (v.is_int()) return v.as_int() % 2 == 0;
    return std::fmod(v.number(), 2.0) == 0.0;
}
bool t_odd(const Value& v, const Args&) {
    if (v.is_int()) return v.as_int() % 2 != 0;
    return std::fmod(std::fabs(v.number()), 2.0) == 1.0;
}
bool t_divisibleby(const Value& v, const Args& args) {
    const Value& n = test_arg(args);
    return n.number() != 0 && std::fmod(v.number(), n.number()) == 0;
}
bool t_eq(const Value& v, const Args& args) {
    return v.equals(test_arg(args));
}
bool t_ne(const Value& v, const Args& args) {
    return !v.equals(test_arg(args));
}
bool t_lt(const Value& v, const Args& args) {
    return v.less(test_arg(args));
}
bool t_gt(const Value& v, const Args& args) {
    return test_arg(args).less(v);
}
bool t_le(const Value& v, const Args& args) {
    return !test_arg(args).less(v);
}
bool t_ge(const Value& v, const Args& args) {
    return !v.less(test_arg(args));
}
bool t_in(const Value& v, const Args& args) {
    return contains(test_arg(args), v);
}
bool t_sameas(const Value& v, const Args& args) {
    const Value& other = test_arg(args);
    if (v.kind() != other.kind()) return false;
    if (v.is_list() || v.is_dict() || v.is_function() || v.is_namespace()) {
        return v.equals(other) && (v.is_list()   ? &v.list() == &other.list()
                                   : v.is_dict() ? &v.dict() == &other.dict()
                                                 : true);
    }
    return v.equals(other);
}
bool t_lower(const Value& v, const Args&) {
    return v.is_string() && v.str() == case_map(v.str(), CaseMode::Lower);
}
bool t_upper(const Value& v, const Args&) {
    return v.is_string() && v.str() == case_map(v.str(), CaseMode::Upper);
}

const std::unordered_map<std::string_view, TestFn>& tests() {
    static const std::unordered_map<std::string_view, TestFn> table = {
        // definedness and types
        {"defined", t_defined},
        {"undefined", t_undefined},
        {"none", t_none},
        {"string", t_string},
        {"mapping", t_mapping},
        {"number", t_number},
        {"integer", t_integer},
        {"float", t_float},
        {"boolean", t_boolean},
        {"true", t_true},
        {"false", t_false},
        {"callable", t_callable},
        {"iterable", t_iterable},
        {"sequence", t_sequence},
        // numbers
        {"even", t_even},
        {"odd", t_odd},
        {"divisibleby", t_divisibleby},
        // comparisons, by name and by operator
        {"eq", t_eq},
        {"equalto", t_eq},
        {"==", t_eq},
        {"ne", t_ne},
        {"!=", t_ne},
        {"lt", t_lt},
        {"lessthan", t_lt},
        {"<", t_lt},
        {"gt", t_gt},
        {"greaterthan", t_gt},
        {">", t_gt},
        {"le", t_le},
        {"<=", t_le},
        {"ge", t_ge},
        {">=", t_ge},
        {"in", t_in},
        {"sameas", t_sameas},
        {"lower", t_lower},
        {"upper", t_upper}};
    return table;
}

}  // namespace

bool has_filter(std::string_view name) {
    return filters().count(name) > 0;
}
bool has_test(std::string_view name) {
    return tests().count(name) > 0;
}

Value apply_filter(std::string_view name, const Value& subject, const Args& args) {
    const auto it = filters().find(name);
    if (it == filters().end()) throw EvalError("no filter named '" + std::string(name) + "'");
    // Undefined input acts as an empty string or sequence, except where Jinja2's filter does
    // arithmetic or serialisation on it.
    if (subject.is_undefined() &&
        (name == "abs" || name == "round" || name == "tojson" || name == "dictsort" ||
         name == "int" || name == "float" || name == "indent")) {
        subject.require_defined();
    }
    return it->second(subject, args);
}

bool apply_test(std::string_view name, const Value& subject, const Args& args) {
    const auto it = tests().find(name);
    if (it == tests().end()) throw EvalError("no test named '" + std::string(name) + "'");
    return it->second(subject, args);
}

}  // namespace ovllm::jinja
