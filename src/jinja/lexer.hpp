#pragma once
// Splits a template into tokens the way Jinja2's lexer does with trim_blocks=True and
// lstrip_blocks=True: whitespace control ({%- -%} {{- -}} {#- -#} and the `+` forms) is applied
// to the text tokens here, comments vanish, and {% raw %} bodies become plain text.
#include <string>
#include <vector>

namespace ovllm::jinja {

enum class TokenType {
    Text,        // literal template text (already whitespace-trimmed)
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,  // value holds the unescaped string
    Int,
    Float,
    Op,  // value holds the operator: "+", "//", "==", "(", ...
    End,
};

struct Token {
    TokenType type;
    std::string value;
    int line = 1;  // 1-based position of the token's first character
    int column = 1;
};

struct LexerOptions {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
};

// `name` prefixes syntax errors: "<name>:<line>:<column>: <message>".
std::vector<Token> tokenize(const std::string& source, const std::string& name,
                            const LexerOptions& options = {});

}  // namespace ovllm::jinja
