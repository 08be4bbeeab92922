#include "jinja/parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "jinja/builtins.hpp"
#include "util/error.hpp"

namespace ovllm::jinja {
namespace {

// Deeply nested input ends in a syntax error instead of exhausting the stack.
constexpr int kMaxNesting = 200;

class Parser {
  public:
    Parser(const std::vector<Token>& tokens, const std::string& name)
        : tokens_(tokens), name_(name) {}

    Body parse_template() {
        Body body = parse_body({});
        return body;
    }

  private:
    // ---- token helpers ----
    const Token& peek(size_t ahead = 0) const {
        return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
    }
    const Token& next() {
        const Token& t = peek();
        if (pos_ < tokens_.size() - 1) ++pos_;
        return t;
    }
    bool is_op(std::string_view op, size_t ahead = 0) const {
        const Token& t = peek(ahead);
        return t.type == TokenType::Op && t.value == op;
    }
    bool is_name(std::string_view name, size_t ahead = 0) const {
        const Token& t = peek(ahead);
        return t.type == TokenType::Name && t.value == name;
    }
    bool accept_op(std::string_view op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool accept_name(std::string_view name) {
        if (!is_name(name)) return false;
        next();
        return true;
    }

    static std::string describe(const Token& t) {
        // What an error calls each token type, in the order of TokenType; empty: the token's
        // own text in quotes (names, numbers, operators).
        static constexpr std::array<std::string_view, 11> kWords = {
            "text", "'{{'", "'}}'", "'{%'", "'%}'", "", "string", "", "", "", "end of template"};
        const auto index = static_cast<size_t>(t.type);
        if (index < kWords.size() && !kWords[index].empty()) return std::string(kWords[index]);
        return "'" + t.value + "'";
    }

    // An Int token's value; one beyond 64 bits is a syntax error here (Python has big ints).
    Value int_literal(const Token& t) const {
        int64_t value = 0;
        const char* end = t.value.data() + t.value.size();
        const auto [ptr, error] = std::from_chars(t.value.data(), end, value);
        if (ptr != end || error != std::errc()) {
            fail_at(t, "integer literal out of range");
        }
        return Value(value);
    }

    [[noreturn]] void fail_at(const Token& t, const std::string& message) const {
        throw_error("{}:{}:{}: {}", name_, t.line, t.column, message);
    }
    [[noreturn]] void fail_unexpected(const Token& t, const std::string& expected) const {
        std::string message = "unexpected " + describe(t);
        if (!expected.empty()) message += ", expected " + expected;
        fail_at(t, message);
    }
    void expect_op(std::string_view op) {
        if (!accept_op(op)) fail_unexpected(peek(), "'" + std::string(op) + "'");
    }
    std::string expect_name() {
        if (peek().type != TokenType::Name) fail_unexpected(peek(), "a name");
        return next().value;
    }
    void expect_block_end() {
        if (peek().type != TokenType::BlockEnd) fail_unexpected(peek(), "'%}'");
        next();
    }

    static SourcePos pos_of(const Token& t) { return SourcePos{t.line, t.column}; }

    ExprPtr make_expr(ExprKind kind, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->pos = pos_of(at);
        return e;
    }
    NodePtr make_node(NodeKind kind, const Token& at) {
        auto n = std::make_unique<Node>();
        n->kind = kind;
        n->pos = pos_of(at);
        return n;
    }

    // ---- statements ----

    // Parses nodes until a block tag whose name is in `stops`; on return the current token is
    // that name (the caller consumes it). With no stops, parses to the end of the template.
    Body parse_body(std::initializer_list<std::string_view> stops) {
        Body body;
        while (true) {
            const Token& t = peek();
            switch (t.type) {
                case TokenType::Text: {
                    auto node = make_node(NodeKind::Text, t);
                    node->text = next().value;
                    body.push_back(std::move(node));
                    break;
                }
                case TokenType::VarBegin: {
                    auto node = make_node(NodeKind::Output, t);
                    next();
                    node->expr = parse_expression();
                    if (peek().type != TokenType::VarEnd) fail_unexpected(peek(), "'}}'");
                    next();
                    body.push_back(std::move(node));
                    break;
                }
                case TokenType::BlockBegin: {
                    const Token& tag = peek(1);
                    if (tag.type == TokenType::Name &&
                        std::find(stops.begin(), stops.end(), tag.value) != stops.end()) {
                        next();
                        return body;
                    }
                    next();
                    body.push_back(parse_statement());
                    break;
                }
                case TokenType::End:
                    if (stops.size() > 0) {
                        std::string expected;
                        for (const auto stop : stops) {
                            if (!expected.empty()) expected += " or ";
                            expected += "'" + std::string(stop) + "'";
                        }
                        fail_at(t, "unexpected end of template, expected " + expected);
                    }
                    return body;
                default:
                    fail_unexpected(t, "");
            }
        }
    }

    NodePtr parse_statement() {
        const NestingGuard guard(*this);
        const Token& tag = peek();
        if (tag.type != TokenType::Name) fail_unexpected(tag, "a statement name");
        const std::string& name = tag.value;
        if (name == "for") return parse_for();
        if (name == "if") return parse_if();
        if (name == "set") return parse_set();
        if (name == "macro") return parse_macro();
        if (name == "call") return parse_call_block();
        if (name == "filter") return parse_filter_block();
        if (name == "generation") return parse_scope("endgeneration");
        if (name == "break" || name == "continue") {
            if (loop_depth_ == 0) fail_at(tag, "'" + name + "' outside of a loop");
            auto node = make_node(name == "break" ? NodeKind::Break : NodeKind::Continue, tag);
            next();
            expect_block_end();
            return node;
        }
        static const std::string_view known_ends[] = {
            "endfor",   "endif",   "else",      "elif",          "endset",
            "endmacro", "endcall", "endfilter", "endgeneration", "endraw"};
        for (const auto end : known_ends) {
            if (name == end) fail_at(tag, "unexpected '" + name + "'");
        }
        fail_at(tag, "unknown tag '" + name + "'");
    }

    void end_tag(std::string_view name) {
        // parse_body stopped on this name.
        next();
        (void)name;
        expect_block_end();
    }

    std::vector<std::string> parse_targets() {
        std::vector<std::string> targets;
        const bool paren = accept_op("(");
        do {
            targets.push_back(expect_name());
        } while (accept_op(","));
        if (paren) expect_op(")");
        return targets;
    }

    NodePtr parse_for() {
        auto node = make_node(NodeKind::For, next());
        node->targets = parse_targets();
        if (!accept_name("in")) fail_unexpected(peek(), "'in'");
        node->expr = parse_expression(false);
        if (accept_name("if")) node->filter = parse_expression();
        if (is_name("recursive")) fail_at(peek(), "recursive loops are not supported");
        expect_block_end();
        ++loop_depth_;
        node->body = parse_body({"endfor", "else"});
        --loop_depth_;
        if (next().value == "else") {
            expect_block_end();
            node->else_body = parse_body({"endfor"});
            next();
        }
        expect_block_end();
        return node;
    }

    NodePtr parse_if() {
        auto node = make_node(NodeKind::If, next());
        while (true) {
            IfBranch branch;
            branch.condition = parse_expression();
            expect_block_end();
            branch.body = parse_body({"elif", "else", "endif"});
            node->branches.push_back(std::move(branch));
            const std::string tag = next().value;
            if (tag == "elif") continue;
            if (tag == "else") {
                expect_block_end();
                node->else_body = parse_body({"endif"});
                next();
            }
            expect_block_end();
            return node;
        }
    }

    NodePtr parse_set() {
        auto node = make_node(NodeKind::Set, next());
        const std::string first = expect_name();
        if (accept_op(".")) {
            node->targets = {first};
            node->text = expect_name();  // namespace attribute
        } else {
            node->targets = {first};
            while (accept_op(",")) node->targets.push_back(expect_name());
        }
        if (accept_op("=")) {
            node->expr = parse_tuple_expression();
            expect_block_end();
            return node;
        }
        if (node->targets.size() != 1) fail_unexpected(peek(), "'='");
        node->filter = parse_filter_chain();
        expect_block_end();
        node->body = parse_body({"endset"});
        end_tag("endset");
        return node;
    }

    // `| f(args) | g` with no subject: the innermost Filter has a null operand.
    ExprPtr parse_filter_chain() {
        ExprPtr chain;
        while (accept_op("|")) chain = parse_filter(std::move(chain));
        return chain;
    }

    std::vector<MacroParam> parse_params() {
        std::vector<MacroParam> params;
        expect_op("(");
        while (!is_op(")")) {
            MacroParam param;
            param.name = expect_name();
            if (accept_op("=")) param.default_value = parse_expression();
            params.push_back(std::move(param));
            if (!accept_op(",")) break;
        }
        expect_op(")");
        return params;
    }

    NodePtr parse_macro() {
        auto node = make_node(NodeKind::Macro, next());
        node->text = expect_name();
        node->params = parse_params();
        expect_block_end();
        const int saved_depth = loop_depth_;
        loop_depth_ = 0;
        node->body = parse_body({"endmacro"});
        loop_depth_ = saved_depth;
        end_tag("endmacro");
        return node;
    }

    NodePtr parse_call_block() {
        auto node = make_node(NodeKind::CallBlock, next());
        if (is_op("(")) node->params = parse_params();
        node->expr = parse_expression();
        if (node->expr->kind != ExprKind::Call) fail_at(peek(), "expected a call after 'call'");
        expect_block_end();
        node->body = parse_body({"endcall"});
        end_tag("endcall");
        return node;
    }

    NodePtr parse_filter_block() {
        auto node = make_node(NodeKind::FilterBlock, next());
        node->filter = parse_filter(nullptr);
        while (accept_op("|")) node->filter = parse_filter(std::move(node->filter));
        expect_block_end();
        node->body = parse_body({"endfilter"});
        end_tag("endfilter");
        return node;
    }

    NodePtr parse_scope(std::string_view end) {
        auto node = make_node(NodeKind::Scope, next());
        expect_block_end();
        node->body = parse_body({end});
        end_tag(end);
        return node;
    }

    // ---- expressions ----

    // `a, b` without brackets is a tuple.
    ExprPtr parse_tuple_expression() {
        const Token& start = peek();
        ExprPtr first = parse_expression();
        if (!is_op(",")) return first;
        auto list = make_expr(ExprKind::List, start);
        list->name = "tuple";
        list->operands.push_back(std::move(first));
        while (accept_op(",")) {
            if (peek().type == TokenType::BlockEnd) break;
            list->operands.push_back(parse_expression());
        }
        return list;
    }

    ExprPtr parse_expression(bool with_condexpr = true) {
        const NestingGuard guard(*this);
        return with_condexpr ? parse_condexpr() : parse_or();
    }

    ExprPtr parse_condexpr() {
        ExprPtr expr = parse_or();
        while (is_name("if")) {
            auto cond = make_expr(ExprKind::Cond, next());
            cond->operands.push_back(std::move(expr));
            cond->operands.push_back(parse_or());
            cond->operands.push_back(accept_name("else") ? parse_condexpr() : nullptr);
            expr = std::move(cond);
        }
        return expr;
    }

    ExprPtr binary(const Token& at, std::string op, ExprPtr left, ExprPtr right) {
        auto e = make_expr(ExprKind::Binary, at);
        e->name = std::move(op);
        e->operands.push_back(std::move(left));
        e->operands.push_back(std::move(right));
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr left = parse_and();
        while (is_name("or")) {
            const Token& at = next();
            left = binary(at, "or", std::move(left), parse_and());
        }
        return left;
    }

    ExprPtr parse_and() {
        ExprPtr left = parse_not();
        while (is_name("and")) {
            const Token& at = next();
            left = binary(at, "and", std::move(left), parse_not());
        }
        return left;
    }

    ExprPtr parse_not() {
        const NestingGuard guard(*this);
        if (is_name("not")) {
            auto e = make_expr(ExprKind::Unary, next());
            e->name = "not";
            e->operands.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const Token& start = peek();
        ExprPtr left = parse_math1();
        ExprPtr cmp;
        while (true) {
            std::string op;
            const Token& t = peek();
            if (t.type == TokenType::Op && (t.value == "==" || t.value == "!=" || t.value == "<" ||
                                            t.value == "<=" || t.value == ">" || t.value == ">=")) {
                op = t.value;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && is_name("in", 1)) {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = make_expr(ExprKind::Compare, start);
                cmp->operands.push_back(std::move(left));
            }
            cmp->ops.push_back(op);
            cmp->operands.push_back(parse_math1());
        }
        return cmp ? std::move(cmp) : std::move(left);
    }

    ExprPtr parse_math1() {
        ExprPtr left = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& at = next();
            left = binary(at, at.value, std::move(left), parse_concat());
        }
        return left;
    }

    ExprPtr parse_concat() {
        ExprPtr left = parse_math2();
        while (is_op("~")) {
            const Token& at = next();
            left = binary(at, "~", std::move(left), parse_math2());
        }
        return left;
    }

    ExprPtr parse_math2() {
        ExprPtr left = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& at = next();
            left = binary(at, at.value, std::move(left), parse_pow());
        }
        return left;
    }

    ExprPtr parse_pow() {
        ExprPtr left = parse_unary();
        while (is_op("**")) {
            const Token& at = next();
            left = binary(at, "**", std::move(left), parse_unary());
        }
        return left;
    }

    ExprPtr parse_unary(bool with_filter = true) {
        const NestingGuard guard(*this);
        ExprPtr node;
        if (is_op("-") || is_op("+")) {
            node = make_expr(ExprKind::Unary, peek());
            node->name = next().value;
            node->operands.push_back(parse_unary(false));
        } else {
            node = parse_primary();
        }
        node = parse_postfix(std::move(node));
        if (with_filter) node = parse_filter_expr(std::move(node));
        return node;
    }

    ExprPtr parse_primary() {
        const Token& t = peek();
        switch (t.type) {
            case TokenType::Name: {
                next();
                auto e = make_expr(ExprKind::Literal, t);
                if (t.value == "true" || t.value == "True")
                    e->literal = Value(true);
                else if (t.value == "false" || t.value == "False")
                    e->literal = Value(false);
                else if (t.value == "none" || t.value == "None")
                    e->literal = Value();
                else {
                    e->kind = ExprKind::Name;
                    e->name = t.value;
                }
                return e;
            }
            case TokenType::String: {
                auto e = make_expr(ExprKind::Literal, t);
                std::string s;
                while (peek().type == TokenType::String) s += next().value;
                e->literal = Value(std::move(s));
                return e;
            }
            case TokenType::Int: {
                auto e = make_expr(ExprKind::Literal, next());
                e->literal = int_literal(t);
                return e;
            }
            case TokenType::Float: {
                auto e = make_expr(ExprKind::Literal, next());
                // strtod, not stod: 1e999 is inf as in Python, not an out_of_range exception.
                e->literal = Value(std::strtod(t.value.c_str(), nullptr));
                return e;
            }
            case TokenType::Op:
                if (t.value == "(") return parse_paren();
                if (t.value == "[") return parse_list();
                if (t.value == "{") return parse_dict();
                break;
            default:
                break;
        }
        fail_unexpected(t, "an expression");
    }

    ExprPtr parse_paren() {
        const Token& start = next();
        if (accept_op(")")) {
            auto empty = make_expr(ExprKind::List, start);
            empty->name = "tuple";
            return empty;
        }
        ExprPtr first = parse_expression();
        if (accept_op(")")) return first;
        auto list = make_expr(ExprKind::List, start);
        list->name = "tuple";
        list->operands.push_back(std::move(first));
        while (accept_op(",")) {
            if (is_op(")")) break;
            list->operands.push_back(parse_expression());
        }
        expect_op(")");
        return list;
    }

    ExprPtr parse_list() {
        auto list = make_expr(ExprKind::List, next());
        while (!is_op("]")) {
            list->operands.push_back(parse_expression());
            if (!accept_op(",")) break;
        }
        expect_op("]");
        return list;
    }

    ExprPtr parse_dict() {
        auto dict = make_expr(ExprKind::Dict, next());
        while (!is_op("}")) {
            dict->operands.push_back(parse_expression());
            expect_op(":");
            dict->operands.push_back(parse_expression());
            if (!accept_op(",")) break;
        }
        expect_op("}");
        return dict;
    }

    ExprPtr parse_postfix(ExprPtr node) {
        while (true) {
            if (is_op(".")) {
                const Token& at = next();
                const Token& attr = peek();
                if (attr.type == TokenType::Name) {
                    auto e = make_expr(ExprKind::GetAttr, at);
                    e->name = next().value;
                    e->operands.push_back(std::move(node));
                    node = std::move(e);
                } else if (attr.type == TokenType::Int) {
                    auto e = make_expr(ExprKind::GetItem, at);
                    e->operands.push_back(std::move(node));
                    auto key = make_expr(ExprKind::Literal, attr);
                    key->literal = int_literal(next());
                    e->operands.push_back(std::move(key));
                    node = std::move(e);
                } else {
                    fail_unexpected(attr, "an attribute name");
                }
            } else if (is_op("[")) {
                node = parse_subscript(std::move(node));
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr node) {
        const Token& at = next();
        ExprPtr parts[3];
        int part = 0;
        bool is_slice = false;
        while (!is_op("]")) {
            if (accept_op(":")) {
                is_slice = true;
                if (++part > 2) fail_unexpected(peek(), "']'");
                continue;
            }
            if (parts[part]) fail_unexpected(peek(), "']'");
            parts[part] = parse_expression();
        }
        next();
        if (!is_slice) {
            if (!parts[0]) fail_at(at, "empty subscript");
            auto e = make_expr(ExprKind::GetItem, at);
            e->operands.push_back(std::move(node));
            e->operands.push_back(std::move(parts[0]));
            return e;
        }
        auto e = make_expr(ExprKind::Slice, at);
        e->operands.push_back(std::move(node));
        for (auto& p : parts) e->operands.push_back(std::move(p));
        return e;
    }

    CallArgs parse_call_args() {
        CallArgs args;
        expect_op("(");
        while (!is_op(")")) {
            if (is_op("*") || is_op("**")) fail_at(peek(), "*args and **kwargs are not supported");
            if (peek().type == TokenType::Name && is_op("=", 1)) {
                std::string key = next().value;
                next();
                args.keyword.emplace_back(std::move(key), parse_expression());
            } else {
                if (!args.keyword.empty()) {
                    fail_at(peek(), "positional argument follows keyword argument");
                }
                args.positional.push_back(parse_expression());
            }
            if (!accept_op(",")) break;
        }
        expect_op(")");
        return args;
    }

    ExprPtr parse_call(ExprPtr node) {
        auto e = make_expr(ExprKind::Call, peek());
        e->pos = node->pos;  // errors point at what is called
        e->args = parse_call_args();
        e->operands.push_back(std::move(node));
        return e;
    }

    ExprPtr parse_filter(ExprPtr subject) {
        const Token& at = peek();
        auto e = make_expr(ExprKind::Filter, at);
        e->name = expect_name();
        if (!has_filter(e->name)) fail_at(at, "no filter named '" + e->name + "'");
        if (is_op("(")) e->args = parse_call_args();
        e->operands.push_back(std::move(subject));
        return e;
    }

    ExprPtr parse_test(ExprPtr subject) {
        const Token& at = next();
        auto e = make_expr(ExprKind::Test, at);
        e->negated = accept_name("not");
        e->name = expect_name();
        if (!has_test(e->name)) fail_at(at, "no test named '" + e->name + "'");
        const Token& t = peek();
        if (is_op("(")) {
            e->args = parse_call_args();
        } else if ((t.type == TokenType::Name || t.type == TokenType::String ||
                    t.type == TokenType::Int || t.type == TokenType::Float || is_op("[") ||
                    is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) fail_at(t, "cannot chain multiple tests with 'is'");
            e->args.positional.push_back(parse_postfix(parse_primary()));
        }
        e->operands.push_back(std::move(subject));
        return e;
    }

    ExprPtr parse_filter_expr(ExprPtr node) {
        while (true) {
            if (accept_op("|")) {
                node = parse_filter(std::move(node));
            } else if (is_name("is")) {
                node = parse_test(std::move(node));
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    class NestingGuard {
      public:
        explicit NestingGuard(Parser& parser) : parser_(parser) {
            if (++parser_.nesting_ > kMaxNesting) {
                parser_.fail_at(parser_.peek(),
                                "nesting deeper than " + std::to_string(kMaxNesting) + " levels");
            }
        }
        ~NestingGuard() { --parser_.nesting_; }
        NestingGuard(const NestingGuard&) = delete;
        NestingGuard& operator=(const NestingGuard&) = delete;

      private:
        Parser& parser_;
    };

    const std::vector<Token>& tokens_;
    const std::string& name_;
    size_t pos_ = 0;
    int nesting_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& name) {
    return Parser(tokens, name).parse_template();
}

}  // namespace ovllm::jinja
