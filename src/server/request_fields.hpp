#pragma once
// Every field of vLLM's OpenAI request protocol (CompletionRequest, ChatCompletionRequest,
// ResponsesRequest) is either honoured or refused with a 400 naming it; none is silently
// ignored. Fields outside vLLM's protocol are ignored with a warning in the log, as vLLM does.
#include <string>
#include <vector>

#include "server/openai_errors.hpp"

namespace ovllm::server {

enum class Endpoint { completions, chat, responses };

// Throws a 400 naming the first field of `body` that this server does not honour with the
// value given (a field at its default value, e.g. `use_beam_search: false`, is accepted).
// Returns the names of fields that are not in vLLM's protocol at all.
std::vector<std::string> check_request_fields(const json& body, Endpoint endpoint);

// The names check_request_fields accepts for `endpoint`, honoured ones and refused ones
// together (for the documentation and the tests).
std::vector<std::string> known_request_fields(Endpoint endpoint);

}  // namespace ovllm::server
