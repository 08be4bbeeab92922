#pragma once
// vLLM's "Processed prompts" bar on stderr, in tqdm's exact format:
// `Processed prompts:  37%|███▋      | 185/500 [00:38<01:05,  4.84it/s, est. speed input:
// 624.89 toks/s, output: 620.05 toks/s]`.
// On a terminal the line is redrawn in place (at most 10 times a second); into a pipe or
// file it is printed as plain lines every 10% (or every 5 s) plus a final line.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace ovllm::progress {

// One moment of the bar; everything format_progress_line needs.
struct ProgressState {
    std::string description = "Processed prompts";
    int64_t done = 0;
    int64_t total = 0;
    double elapsed_s = 0.0;
    int64_t input_tokens = 0;   // prompt tokens of the finished requests
    int64_t output_tokens = 0;  // generated tokens of the finished requests
    bool show_token_speed = true;
    bool bytes = false;  // counts are bytes: tqdm's unit="B", unit_scale, unit_divisor=1024
};

// tqdm's interval: "00:38", "01:05", "1:02:03" (whole seconds, truncated).
std::string format_interval(double seconds);
// tqdm's bar: `width` cells of full blocks, one partial block (1/8 steps) and spaces.
std::string format_bar(double fraction, int width = 10);
// tqdm's format_sizeof with divisor 1024: 999 -> "999", 1536 -> "1.50k", 269060552 -> "257M".
std::string format_size(double count);
// The whole line, without a line ending.
std::string format_progress_line(const ProgressState& state);

// Seconds on a monotonic clock; injectable for tests.
using Clock = std::function<double()>;
Clock steady_clock_seconds();

class ProgressBar {
  public:
    // Draws to stderr, redrawing in place when stderr is a terminal.
    ProgressBar(std::string description, int64_t total, bool show_token_speed = true);
    ProgressBar(std::string description, int64_t total, bool show_token_speed, std::FILE* out,
                bool is_terminal, Clock clock);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // `finished` more requests are done, with these many prompt / generated tokens.
    void update(int64_t finished, int64_t input_tokens = 0, int64_t output_tokens = 0);
    // Counts are bytes from now on (a download's bar: "257M/257M [00:02<00:00, 95.1MB/s]").
    void set_unit_bytes() { state_.bytes = true; }
    // Draws the final state and ends the line; later calls do nothing.
    void close();

  private:
    void draw_in_place(const std::string& line);
    void maybe_print_line();

    ProgressState state_;
    std::FILE* out_;
    bool is_terminal_;
    Clock clock_;
    double start_s_;
    double last_draw_s_;
    size_t last_width_ = 0;           // terminal: characters of the line on screen
    int64_t last_printed_done_ = -1;  // pipe: `done` of the last printed line
    bool closed_ = false;
};

}  // namespace ovllm::progress
