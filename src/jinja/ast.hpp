#pragma once
// Syntax tree of a parsed template. Every node keeps the line and column of the token it
// started at, so runtime errors can point into the template.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.hpp"

namespace ovllm::jinja {

struct Expr;
struct Node;
using ExprPtr = std::unique_ptr<Expr>;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct SourcePos {
    int line = 0;
    int column = 0;
};

enum class ExprKind {
    Literal,  // literal
    Name,     // name
    List,     // operands: items
    Dict,     // operands: key0, value0, key1, value1, ...
    GetAttr,  // operands[0] . name
    GetItem,  // operands[0] [ operands[1] ]
    Slice,    // operands[0] [ operands[1] : operands[2] : operands[3] ] (null parts allowed)
    Call,     // operands[0] ( args )
    Filter,   // operands[0] | name ( args )
    Test,     // operands[0] is [not] name ( args )
    Unary,    // op operands[0]: "not", "-", "+"
    Binary,   // operands[0] op operands[1]: + - * / // % ** ~ and or
    Compare,  // operands[0] ops[0] operands[1] ops[1] operands[2] ...
    Cond,     // operands[0] if operands[1] else operands[2] (else may be null)
};

struct CallArgs {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Expr {
    ExprKind kind;
    SourcePos pos;
    Value literal;
    std::string name;              // Name, attribute, filter or test name, operator
    std::vector<std::string> ops;  // Compare operators: == != < <= > >= in notin
    std::vector<ExprPtr> operands;
    CallArgs args;
    bool negated = false;  // Test: `is not`
};

enum class NodeKind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches (cond, body); else_body
    For,          // targets in expr [if filter]: body, else_body
    Set,          // targets (or ns_attr) = expr, or a block set with body and filters
    Macro,        // name(params) body
    CallBlock,    // {% call expr %} body
    FilterBlock,  // {% filter f %} body
    Break,
    Continue,
    Scope,  // a body rendered as is ({% generation %})
};

struct IfBranch {
    ExprPtr condition;
    Body body;
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // may be null
};

struct Node {
    NodeKind kind;
    SourcePos pos;
    std::string text;                  // Text; Macro name; Set namespace attribute
    ExprPtr expr;                      // Output, For iterable, Set value, CallBlock call
    ExprPtr filter;                    // For `if` filter; Set/FilterBlock filter chain
    std::vector<std::string> targets;  // For / Set names
    std::vector<IfBranch> branches;    // If
    std::vector<MacroParam> params;    // Macro, CallBlock caller params
    Body body;
    Body else_body;
};

}  // namespace ovllm::jinja
