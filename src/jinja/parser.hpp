#pragma once
// Recursive-descent parser from tokens to the syntax tree, with Jinja2's operator precedence.
#include <string>
#include <vector>

#include "jinja/ast.hpp"
#include "jinja/lexer.hpp"

namespace ovllm::jinja {

// Throws ovllm::Error "<name>:<line>:<column>: <message>" on a syntax error.
Body parse(const std::vector<Token>& tokens, const std::string& name);

}  // namespace ovllm::jinja
