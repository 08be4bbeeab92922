#pragma once
// Checks a JSON Schema before xgrammar compiles it. xgrammar skips the keywords it cannot
// enforce (it only logs them), so a request would silently get weaker output than it asked
// for; this refuses them by name instead, and names the JSON path of every invalid value.
#include <string_view>

namespace ovllm::structured {

// Throws ovllm::Error for text that is not JSON (with line:column), a keyword the grammar
// engine does not enforce, or a keyword with a value of the wrong kind, naming the path,
// e.g. "json schema at $.properties.tags: keyword 'uniqueItems' is not supported".
void check_json_schema(std::string_view schema_text);

}  // namespace ovllm::structured
