#pragma once
// Where tests find their data. Each location is fixed at configure time and can be
// overridden by an environment variable of the same name (OVLLM_SHARED_DIR, ...).
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ovllm::test {

inline std::filesystem::path env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return std::filesystem::path(value && *value ? value : fallback);
}

// ../shared beside the checkout: golden data and the model kit.
inline std::filesystem::path shared_dir() {
    return env_or("OVLLM_SHARED_DIR", OVLLM_SHARED_DIR);
}
inline std::filesystem::path golden_dir() {
    return shared_dir() / "golden";
}
// HF folders written by shared/models/fetch.sh (scripts/test.sh fills it).
inline std::filesystem::path models_dir() {
    return env_or("OVLLM_MODELS_DIR", OVLLM_MODELS_DIR);
}
inline std::filesystem::path source_dir() {
    return OVLLM_SOURCE_DIR;
}
// The real `ovllm` binary, for end-to-end tests.
inline std::filesystem::path ovllm_binary() {
    return env_or("OVLLM_BINARY", OVLLM_BINARY);
}

}  // namespace ovllm::test
