#include "util/log.hpp"

#include <cstdlib>
#include <mutex>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace ovllm::log {
namespace {

// vLLM prints the level in upper case and WARNING in full.
class UpperLevelFlag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        static constexpr const char* kNames[] = {"TRACE", "DEBUG",    "INFO", "WARNING",
                                                 "ERROR", "CRITICAL", "OFF"};
        const std::string_view name = kNames[static_cast<int>(msg.level)];
        dest.append(name.data(), name.data() + name.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<UpperLevelFlag>();
    }
};

spdlog::level::level_enum level_from_env() {
    const char* value = std::getenv("OVLLM_LOGGING_LEVEL");
    if (!value) value = std::getenv("VLLM_LOGGING_LEVEL");
    if (!value) return spdlog::level::info;
    const std::string name(value);
    if (name == "DEBUG") return spdlog::level::debug;
    if (name == "WARNING" || name == "WARN") return spdlog::level::warn;
    if (name == "ERROR") return spdlog::level::err;
    return spdlog::level::info;
}

}  // namespace

void setup() {
    static std::once_flag once;
    std::call_once(once, [] {
        auto logger = std::make_shared<spdlog::logger>(
            "ovllm", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<UpperLevelFlag>('*').set_pattern("%* %m-%d %H:%M:%S %s:%#] %v");
        logger->set_formatter(std::move(formatter));
        logger->set_level(level_from_env());
        spdlog::set_default_logger(logger);
    });
}

}  // namespace ovllm::log
