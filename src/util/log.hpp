#pragma once
// Logging in vLLM's shape: `INFO 11-26 15:40:00 file.cpp:123] message`, on stderr.
#include <spdlog/spdlog.h>

namespace ovllm::log {

// Installs the stderr logger with vLLM's line format. Level from OVLLM_LOGGING_LEVEL or
// VLLM_LOGGING_LEVEL (DEBUG, INFO, WARNING, ERROR); INFO by default. Safe to call twice.
void setup();

}  // namespace ovllm::log

#define OVLLM_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define OVLLM_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define OVLLM_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define OVLLM_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
