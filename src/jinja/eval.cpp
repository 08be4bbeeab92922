// Tree-walking evaluator: statements write into one output string, expressions produce values.
#include <climits>
#include <memory>
#include <optional>
#include <string_view>

#include "jinja/ast.hpp"
#include "jinja/builtins.hpp"
#include "jinja/jinja.hpp"
#include "jinja/lexer.hpp"
#include "jinja/parser.hpp"
#include "util/error.hpp"

namespace ovllm::jinja {
namespace {

using Frame = std::vector<std::pair<std::string, Value>>;

// Positions of the entries of a loop's `loop` dict, updated in place each iteration.
enum LoopField {
    kIndex,
    kIndex0,
    kRevindex,
    kRevindex0,
    kFirst,
    kLast,
    kLength,
    kPrev,
    kNext,
    kDepth,
    kDepth0
};

class Evaluator {
  public:
    Evaluator(const std::string& name, const Variables& variables) : name_(name) {
        scopes_.push_back(builtin_globals());
        Frame& globals = scopes_.back();
        for (const auto& [k, v] : variables) set_in(globals, k, v);
        scopes_.emplace_back();  // template top level
    }

    void render(const Body& body, std::string& out) { exec_body(body, out); }

  private:
    enum class Flow { Normal, Break, Continue };

    [[noreturn]] void fail(const SourcePos& pos, const std::string& message) const {
        throw_error("{}:{}:{}: {}", name_, pos.line, pos.column, message);
    }

    static void set_in(Frame& frame, const std::string& name, Value value) {
        for (auto& [k, v] : frame) {
            if (k == name) {
                v = std::move(value);
                return;
            }
        }
        frame.emplace_back(name, std::move(value));
    }

    const Value* find(const std::string& name) const {
        for (auto frame = scopes_.rbegin(); frame != scopes_.rend(); ++frame) {
            for (const auto& [k, v] : *frame) {
                if (k == name) return &v;
            }
        }
        return nullptr;
    }

    Value lookup(const std::string& name) const {
        const Value* v = find(name);
        return v ? *v : Value::undefined("'" + name + "' is undefined");
    }

    // ---- statements ----

    Flow exec_body(const Body& body, std::string& out) {
        for (const auto& node : body) {
            const Flow flow = exec(*node, out);
            if (flow != Flow::Normal) return flow;
        }
        return Flow::Normal;
    }

    Flow exec(const Node& node, std::string& out) {
        try {
            return exec_node(node, out);
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            fail(node.pos, e.what());
        }
    }

    Flow exec_node(const Node& node, std::string& out) {
        switch (node.kind) {
            case NodeKind::Text:
                out += node.text;
                return Flow::Normal;
            case NodeKind::Output: {
                const Value v = eval(*node.expr);
                v.append_str(out);
                return Flow::Normal;
            }
            case NodeKind::If:
                for (const auto& branch : node.branches) {
                    if (eval(*branch.condition).truthy()) return exec_body(branch.body, out);
                }
                return exec_body(node.else_body, out);
            case NodeKind::For:
                return exec_for(node, out);
            case NodeKind::Set:
                exec_set(node);
                return Flow::Normal;
            case NodeKind::Macro:
                set_in(scopes_.back(), node.text, make_macro(node));
                return Flow::Normal;
            case NodeKind::CallBlock:
                exec_call_block(node, out);
                return Flow::Normal;
            case NodeKind::FilterBlock: {
                std::string inner;
                exec_body(node.body, inner);
                out += apply_filter_chain(*node.filter, Value(std::move(inner))).to_str();
                return Flow::Normal;
            }
            case NodeKind::Break:
                return Flow::Break;
            case NodeKind::Continue:
                return Flow::Continue;
            case NodeKind::Scope:
                return exec_body(node.body, out);
        }
        return Flow::Normal;
    }

    void bind_targets(Frame& frame, const std::vector<std::string>& targets, const Value& item) {
        if (targets.size() == 1) {
            set_in(frame, targets[0], item);
            return;
        }
        if (!item.is_list()) {
            throw EvalError("cannot unpack non-iterable " + item.type_name() + " object");
        }
        const List& parts = item.list();
        if (parts.size() != targets.size()) {
            throw EvalError("expected " + std::to_string(targets.size()) +
                            " values to unpack, got " + std::to_string(parts.size()));
        }
        for (size_t i = 0; i < targets.size(); ++i) set_in(frame, targets[i], parts[i]);
    }

    List filtered_items(const Node& node, List items) {
        if (!node.filter) return items;
        List kept;
        scopes_.emplace_back();
        for (auto& item : items) {
            scopes_.back().clear();
            bind_targets(scopes_.back(), node.targets, item);
            if (eval(*node.filter).truthy()) kept.push_back(std::move(item));
        }
        scopes_.pop_back();
        return kept;
    }

    static Value make_loop_dict(int64_t length, int64_t depth) {
        Dict d;
        for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last",
                                "length", "previtem", "nextitem", "depth", "depth0"}) {
            d.items.emplace_back(Value(key), Value());
        }
        d.items[kLength].second = Value(length);
        d.items[kDepth].second = Value(depth + 1);
        d.items[kDepth0].second = Value(depth);
        return Value(std::move(d));
    }

    Flow exec_for(const Node& node, std::string& out) {
        const Value iterable = eval(*node.expr);
        List all;
        try {
            all = iterate(iterable);
        } catch (const EvalError& e) {
            fail(node.expr->pos, e.what());
        }
        const List items = filtered_items(node, std::move(all));
        if (items.empty()) return exec_body(node.else_body, out);
        const auto n = static_cast<int64_t>(items.size());
        const Value loop = make_loop_dict(n, loop_depth_);
        auto& fields = loop.dict().items;
        ++loop_depth_;
        scopes_.emplace_back();
        const size_t frame_index = scopes_.size() - 1;
        for (int64_t i = 0; i < n; ++i) {
            fields[kIndex].second = Value(i + 1);
            fields[kIndex0].second = Value(i);
            fields[kRevindex].second = Value(n - i);
            fields[kRevindex0].second = Value(n - i - 1);
            fields[kFirst].second = Value(i == 0);
            fields[kLast].second = Value(i == n - 1);
            fields[kPrev].second = i > 0 ? items[static_cast<size_t>(i - 1)]
                                         : Value::undefined("there is no previous item");
            fields[kNext].second = i + 1 < n ? items[static_cast<size_t>(i + 1)]
                                             : Value::undefined("there is no next item");
            Frame& frame = scopes_[frame_index];
            frame.clear();  // each iteration starts with a fresh scope, as in Jinja2
            frame.emplace_back("loop", loop);
            bind_targets(frame, node.targets, items[static_cast<size_t>(i)]);
            if (exec_body(node.body, out) == Flow::Break) break;
        }
        scopes_.pop_back();
        --loop_depth_;
        return Flow::Normal;
    }

    void exec_set(const Node& node) {
        Value value;
        if (node.expr) {
            value = eval(*node.expr);
        } else {
            std::string inner;
            exec_body(node.body, inner);
            value = Value(std::move(inner));
            if (node.filter) value = apply_filter_chain(*node.filter, value);
        }
        if (!node.text.empty()) {
            const Value* target = find(node.targets[0]);
            if (!target || !target->is_namespace()) {
                throw EvalError("cannot assign attribute on non-namespace object '" +
                                node.targets[0] + "'");
            }
            if (value.holds(*target)) {
                throw EvalError("cannot assign namespace '" + node.targets[0] + "' into itself");
            }
            target->ns().attrs.set(Value(node.text), std::move(value));
            return;
        }
        bind_targets(scopes_.back(), node.targets, value);
    }

    // ---- macros ----

    Value make_macro(const Node& node) {
        const Node* macro = &node;
        return Value(
            Function([this, macro](const Args& args) { return call_macro(*macro, args); }));
    }

    // Counts nested macro and caller() calls; deep recursion ends in an error, not a crash.
    class CallDepth {
      public:
        explicit CallDepth(int& depth) : depth_(depth) {
            if (++depth_ > kMaxCallDepth) {
                --depth_;
                throw EvalError("maximum recursion depth exceeded in macro calls");
            }
        }
        ~CallDepth() { --depth_; }
        CallDepth(const CallDepth&) = delete;
        CallDepth& operator=(const CallDepth&) = delete;

      private:
        int& depth_;
    };
    static constexpr int kMaxCallDepth = 200;

    Value call_macro(const Node& macro, const Args& args) {
        const CallDepth depth(call_depth_);
        if (args.positional.size() > macro.params.size()) {
            throw EvalError("macro '" + macro.text + "' takes not more than " +
                            std::to_string(macro.params.size()) + " argument(s)");
        }
        Frame frame;
        for (size_t i = 0; i < macro.params.size(); ++i) {
            const MacroParam& param = macro.params[i];
            const Value* given = args.get(i, param.name);
            if (given) set_in(frame, param.name, *given);
        }
        for (const auto& [key, value] : args.keyword) {
            if (key == "caller") set_in(frame, key, value);
        }
        std::vector<Frame> saved = std::move(scopes_);
        scopes_ = {saved[0], saved[1], std::move(frame)};
        std::string out;
        try {
            for (const MacroParam& param : macro.params) {
                if (find_in_top(param.name)) continue;
                scopes_.back().emplace_back(
                    param.name, param.default_value
                                    ? eval(*param.default_value)
                                    : Value::undefined("'" + param.name + "' is undefined"));
            }
            exec_body(macro.body, out);
        } catch (...) {
            scopes_ = std::move(saved);
            throw;
        }
        scopes_ = std::move(saved);
        return Value(std::move(out));
    }

    bool find_in_top(const std::string& name) const {
        for (const auto& [k, v] : scopes_.back()) {
            if (k == name) return true;
        }
        return false;
    }

    void exec_call_block(const Node& node, std::string& out) {
        const Node* block = &node;
        // The caller's view of the scopes, dropped when the call block ends: a caller kept in
        // a namespace would otherwise hold these scopes and, through them, that namespace (a
        // shared_ptr cycle that never frees).
        using Scopes = std::optional<std::vector<Frame>>;
        const auto captured = std::make_shared<Scopes>(scopes_);
        const struct Release {
            std::shared_ptr<Scopes> scopes;
            ~Release() { scopes->reset(); }
        } release{captured};
        Value caller(Function([this, block, captured](const Args& args) {
            if (!*captured) throw EvalError("caller() called after its call block ended");
            const CallDepth depth(call_depth_);
            std::vector<Frame> saved = std::move(scopes_);
            scopes_ = **captured;
            Frame params;
            for (size_t i = 0; i < block->params.size(); ++i) {
                const Value* given = args.get(i, block->params[i].name);
                params.emplace_back(
                    block->params[i].name,
                    given ? *given
                          : Value::undefined("'" + block->params[i].name + "' is undefined"));
            }
            scopes_.push_back(std::move(params));
            std::string inner;
            try {
                exec_body(block->body, inner);
            } catch (...) {
                scopes_ = std::move(saved);
                throw;
            }
            scopes_ = std::move(saved);
            return Value(std::move(inner));
        }));
        const Expr& call = *node.expr;
        const Value callee = eval(*call.operands[0]);
        if (!callee.is_function()) throw EvalError("'call' needs a macro");
        Args args = eval_args(call.args);
        args.keyword.emplace_back("caller", std::move(caller));
        callee.function()(args).append_str(out);
    }

    // ---- expressions ----

    Value eval(const Expr& e) {
        try {
            return eval_expr(e);
        } catch (const Error&) {
            throw;  // already located, or raise_exception's own message
        } catch (const std::exception& err) {
            fail(e.pos, err.what());
        }
    }

    Args eval_args(const CallArgs& call) {
        Args args;
        args.positional.reserve(call.positional.size());
        for (const auto& a : call.positional) args.positional.push_back(eval(*a));
        for (const auto& [k, a] : call.keyword) args.keyword.emplace_back(k, eval(*a));
        return args;
    }

    Value eval_expr(const Expr& e) {
        switch (e.kind) {
            case ExprKind::Literal:
                return e.literal;
            case ExprKind::Name:
                return lookup(e.name);
            case ExprKind::List: {
                List items;
                items.reserve(e.operands.size());
                for (const auto& op : e.operands) items.push_back(eval(*op));
                items.tuple = e.name == "tuple";
                return Value(std::move(items));
            }
            case ExprKind::Dict: {
                Dict d;
                for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
                    d.set(eval(*e.operands[i]), eval(*e.operands[i + 1]));
                }
                return Value(std::move(d));
            }
            case ExprKind::GetAttr:
                return get_attr(eval(*e.operands[0]), e.name);
            case ExprKind::GetItem:
                return get_item(eval(*e.operands[0]), eval(*e.operands[1]));
            case ExprKind::Slice: {
                const Value obj = eval(*e.operands[0]);
                Value parts[3];
                for (size_t i = 0; i < 3; ++i) {
                    if (e.operands[i + 1]) parts[i] = eval(*e.operands[i + 1]);
                }
                return get_slice(obj, parts[0], parts[1], parts[2]);
            }
            case ExprKind::Call:
                return eval_call(e);
            case ExprKind::Filter:
                return eval_filter(e, eval(*e.operands[0]));
            case ExprKind::Test: {
                const Value subject = eval(*e.operands[0]);
                const Args args = eval_args(e.args);
                return Value(apply_test(e.name, subject, args) != e.negated);
            }
            case ExprKind::Unary: {
                const Value v = eval(*e.operands[0]);
                if (e.name == "not") return Value(!v.truthy());
                v.require_defined();
                if (!v.is_number() && !v.is_bool()) {
                    throw EvalError("bad operand type for unary " + e.name + ": '" + v.type_name() +
                                    "'");
                }
                if (e.name == "+")
                    return v.is_bool() ? Value(static_cast<int64_t>(v.as_bool())) : v;
                if (v.is_float()) return Value(-v.as_float());
                const int64_t i = v.is_int() ? v.as_int() : static_cast<int64_t>(v.as_bool());
                if (i == INT64_MIN) throw EvalError("integer overflow (beyond 64 bits)");
                return Value(-i);
            }
            case ExprKind::Binary:
                return eval_binary(e);
            case ExprKind::Compare: {
                Value left = eval(*e.operands[0]);
                for (size_t i = 0; i < e.ops.size(); ++i) {
                    Value right = eval(*e.operands[i + 1]);
                    if (!compare_op(e.ops[i], left, right)) return Value(false);
                    left = std::move(right);
                }
                return Value(true);
            }
            case ExprKind::Cond:
                if (eval(*e.operands[1]).truthy()) return eval(*e.operands[0]);
                if (e.operands[2]) return eval(*e.operands[2]);
                return Value::undefined(
                    "the inline if-expression evaluated to false and no else section was defined");
        }
        return Value();
    }

    Value eval_binary(const Expr& e) {
        if (e.name == "and") {
            Value left = eval(*e.operands[0]);
            return left.truthy() ? eval(*e.operands[1]) : left;
        }
        if (e.name == "or") {
            Value left = eval(*e.operands[0]);
            return left.truthy() ? left : eval(*e.operands[1]);
        }
        return binary_op(e.name, eval(*e.operands[0]), eval(*e.operands[1]));
    }

    Value eval_filter(const Expr& e, const Value& subject) {
        const Args args = eval_args(e.args);
        if (!has_filter(e.name)) throw EvalError("no filter named '" + e.name + "'");
        return apply_filter(e.name, subject, args);
    }

    // A filter chain parsed without subject: the innermost filter receives `subject`.
    Value apply_filter_chain(const Expr& chain, const Value& subject) {
        const Value inner =
            chain.operands[0] ? apply_filter_chain(*chain.operands[0], subject) : subject;
        return eval_filter(chain, inner);
    }

    Value eval_call(const Expr& e) {
        const Expr& callee = *e.operands[0];
        if (callee.kind == ExprKind::GetAttr) {
            const Value obj = eval(*callee.operands[0]);
            obj.require_defined();
            if (callee.name == "cycle" && obj.is_dict() && obj.dict().find("revindex0")) {
                const Args args = eval_args(e.args);
                if (args.positional.empty()) throw EvalError("no items for cycling given");
                const auto index = static_cast<size_t>(obj.dict().find("index0")->as_int());
                return args.positional[index % args.positional.size()];
            }
            if (has_method(obj, callee.name))
                return call_method(obj, callee.name, eval_args(e.args));
            return call_value(get_attr(obj, callee.name), eval_args(e.args));
        }
        return call_value(eval(callee), eval_args(e.args));
    }

    static Value call_value(const Value& f, const Args& args) {
        f.require_defined();
        if (!f.is_function()) throw EvalError("'" + f.type_name() + "' object is not callable");
        return f.function()(args);
    }

    const std::string& name_;
    std::vector<Frame> scopes_;
    int64_t loop_depth_ = 0;
    int call_depth_ = 0;
};

}  // namespace

Template::Template(std::shared_ptr<const std::vector<std::unique_ptr<Node>>> body, std::string name)
    : body_(std::move(body)), name_(std::move(name)) {}

Template Template::parse(const std::string& source, std::string name) {
    const std::vector<Token> tokens = tokenize(source, name);
    auto body = std::make_shared<const Body>(jinja::parse(tokens, name));
    return Template(std::move(body), std::move(name));
}

std::string Template::render(const Variables& variables) const {
    try {
        Evaluator evaluator(name_, variables);
        std::string out;
        evaluator.render(*body_, out);
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw_error("{}: {}", name_, e.what());
    }
}

}  // namespace ovllm::jinja
