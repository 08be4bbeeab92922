#include "util/progress_bar.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <unistd.h>

#include <fmt/format.h>

namespace ovllm::progress {
namespace {

constexpr double kRedrawInterval_s = 0.1;  // terminal: at most 10 redraws a second
constexpr double kPipeInterval_s = 5.0;    // pipe: a line at least this often...
constexpr int kPipeStepPercent = 10;       // ...and at every 10% step

// U+2588 (full) down to U+258F (one eighth); index = eighths filled.
constexpr const char* kEighths[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"};

// Characters on screen of a UTF-8 line (every byte that does not continue a code point).
size_t display_width(const std::string& line) {
    return static_cast<size_t>(std::count_if(line.begin(), line.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string format_rate(double rate) {
    if (!(rate > 0.0)) return "?it/s";
    if (1.0 / rate > 1.0) return fmt::format("{:5.2f}s/it", 1.0 / rate);
    return fmt::format("{:5.2f}it/s", rate);
}

}  // namespace

std::string format_interval(double seconds) {
    const int64_t whole = static_cast<int64_t>(std::max(0.0, seconds));
    const int64_t hours = whole / 3600;
    const int64_t minutes = whole / 60 % 60;
    const int64_t secs = whole % 60;
    if (hours > 0) return fmt::format("{:d}:{:02d}:{:02d}", hours, minutes, secs);
    return fmt::format("{:02d}:{:02d}", minutes, secs);
}

std::string format_bar(double fraction, int width) {
    constexpr int kSteps = 8;
    const double clamped = std::clamp(fraction, 0.0, 1.0);
    const int eighths = static_cast<int>(clamped * width * kSteps);
    const int full = eighths / kSteps;
    std::string bar;
    for (int i = 0; i < full; ++i) bar += kEighths[kSteps];
    if (full < width) {
        bar += kEighths[eighths % kSteps];
        bar.append(static_cast<size_t>(width - full - 1), ' ');
    }
    return bar;
}

std::string format_size(double count) {
    static constexpr const char* kPrefixes[] = {"", "k", "M", "G", "T", "P", "E"};
    for (const char* prefix : kPrefixes) {
        if (std::abs(count) < 999.5) {
            if (std::abs(count) < 99.95) {
                if (std::abs(count) < 9.995) return fmt::format("{:1.2f}{}", count, prefix);
                return fmt::format("{:2.1f}{}", count, prefix);
            }
            return fmt::format("{:3.0f}{}", count, prefix);
        }
        count /= 1024.0;
    }
    return fmt::format("{:3.1f}Z", count);
}

std::string format_progress_line(const ProgressState& state) {
    const double fraction =
        state.total > 0 ? static_cast<double>(state.done) / static_cast<double>(state.total) : 0.0;
    const double rate =
        state.elapsed_s > 0.0 ? static_cast<double>(state.done) / state.elapsed_s : 0.0;
    const std::string remaining =
        rate > 0.0 ? format_interval(static_cast<double>(state.total - state.done) / rate) : "?";
    const auto count = [&](int64_t n) {
        return state.bytes ? format_size(static_cast<double>(n)) : std::to_string(n);
    };
    const std::string speed = !state.bytes ? format_rate(rate)
                              : rate > 0.0 ? format_size(rate) + "B/s"
                                           : "?B/s";
    std::string line =
        fmt::format("{}: {:3.0f}%|{}| {}/{} [{}<{}, {}", state.description, fraction * 100.0,
                    format_bar(fraction), count(state.done), count(state.total),
                    format_interval(state.elapsed_s), remaining, speed);
    if (state.show_token_speed) {
        const double seconds = state.elapsed_s > 0.0 ? state.elapsed_s : 1.0;
        line += fmt::format(", est. speed input: {:.2f} toks/s, output: {:.2f} toks/s",
                            static_cast<double>(state.input_tokens) / seconds,
                            static_cast<double>(state.output_tokens) / seconds);
    }
    line += ']';
    return line;
}

Clock steady_clock_seconds() {
    return [] {
        const auto now = std::chrono::steady_clock::now().time_since_epoch();
        return std::chrono::duration<double>(now).count();
    };
}

ProgressBar::ProgressBar(std::string description, int64_t total, bool show_token_speed)
    : ProgressBar(std::move(description), total, show_token_speed, stderr,
                  isatty(fileno(stderr)) != 0, steady_clock_seconds()) {}

ProgressBar::ProgressBar(std::string description, int64_t total, bool show_token_speed,
                         std::FILE* out, bool is_terminal, Clock clock)
    : out_(out), is_terminal_(is_terminal), clock_(std::move(clock)) {
    state_.description = std::move(description);
    state_.total = total;
    state_.show_token_speed = show_token_speed;
    start_s_ = clock_();
    last_draw_s_ = start_s_;
    if (is_terminal_) draw_in_place(format_progress_line(state_));
}

ProgressBar::~ProgressBar() {
    close();
}

void ProgressBar::update(int64_t finished, int64_t input_tokens, int64_t output_tokens) {
    if (closed_) return;
    state_.done += finished;
    state_.input_tokens += input_tokens;
    state_.output_tokens += output_tokens;
    const double now = clock_();
    state_.elapsed_s = now - start_s_;
    if (is_terminal_) {
        if (now - last_draw_s_ >= kRedrawInterval_s || state_.done >= state_.total) {
            last_draw_s_ = now;
            draw_in_place(format_progress_line(state_));
        }
        return;
    }
    maybe_print_line();
}

void ProgressBar::close() {
    if (closed_) return;
    closed_ = true;
    state_.elapsed_s = clock_() - start_s_;
    if (is_terminal_) {
        draw_in_place(format_progress_line(state_));
        std::fputc('\n', out_);
    } else if (last_printed_done_ != state_.done) {
        std::fprintf(out_, "%s\n", format_progress_line(state_).c_str());
    }
    std::fflush(out_);
}

void ProgressBar::draw_in_place(const std::string& line) {
    const size_t width = display_width(line);
    // Blank what is left of a longer previous line.
    const size_t padding = last_width_ > width ? last_width_ - width : 0;
    std::fprintf(out_, "\r%s%*s", line.c_str(), static_cast<int>(padding), "");
    std::fflush(out_);
    last_width_ = width;
}

void ProgressBar::maybe_print_line() {
    const auto step_of = [this](int64_t done) {
        return state_.total > 0 ? done * 100 / state_.total / kPipeStepPercent : 0;
    };
    const double now = state_.elapsed_s + start_s_;
    const bool new_step = last_printed_done_ < 0
                              ? step_of(state_.done) > 0
                              : step_of(state_.done) > step_of(last_printed_done_);
    if (!new_step && now - last_draw_s_ < kPipeInterval_s) return;
    last_draw_s_ = now;
    last_printed_done_ = state_.done;
    std::fprintf(out_, "%s\n", format_progress_line(state_).c_str());
    std::fflush(out_);
}

}  // namespace ovllm::progress
