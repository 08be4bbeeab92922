#pragma once
// The OpenAI-compatible wire format: errors, request parsing and response builders.
#include "server/openai_errors.hpp"
#include "server/openai_requests.hpp"
#include "server/openai_responses.hpp"
