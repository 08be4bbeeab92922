#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include <unistd.h>

#include "util/log.hpp"

namespace {

// Runs `emit` with file descriptor 2 pointed at a temporary file; returns what was written.
template <typename Emit>
std::string capture_stderr(Emit emit) {
    std::FILE* file = std::tmpfile();
    if (!file) return "tmpfile failed";
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(fileno(file), STDERR_FILENO);
    emit();
    spdlog::default_logger()->flush();
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::rewind(file);
    std::string text;
    char buffer[1024];
    size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
    std::fclose(file);
    return text;
}

TEST(Log, LinesHaveVllmShape) {
    ovllm::log::setup();
    const int line = __LINE__ + 2;
    const std::string text = capture_stderr([] {
        OVLLM_INFO("# CPU blocks: {}", 7281);
        OVLLM_WARN("careful");
    });
    const std::regex info(
        R"(INFO \d\d-\d\d \d\d:\d\d:\d\d test_log\.cpp:(\d+)\] # CPU blocks: 7281)");
    const std::regex warn(R"(WARNING \d\d-\d\d \d\d:\d\d:\d\d test_log\.cpp:\d+\] careful)");
    const auto newline = text.find('\n');
    ASSERT_NE(newline, std::string::npos) << text;
    const std::string first = text.substr(0, newline);
    std::smatch match;
    ASSERT_TRUE(std::regex_match(first, match, info)) << first;
    EXPECT_EQ(std::stoi(match[1].str()), line);
    const std::string second = text.substr(newline + 1, text.find('\n', newline + 1) - newline - 1);
    EXPECT_TRUE(std::regex_match(second, warn)) << second;
}

}  // namespace
