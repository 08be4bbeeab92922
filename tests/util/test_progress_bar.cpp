#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "util/progress_bar.hpp"

namespace ovllm::progress {
namespace {

ProgressState state(int64_t done, int64_t total, double elapsed_s, int64_t in = 0,
                    int64_t out = 0) {
    ProgressState s;
    s.done = done;
    s.total = total;
    s.elapsed_s = elapsed_s;
    s.input_tokens = in;
    s.output_tokens = out;
    return s;
}

TEST(ProgressBar, FormatsTheVllmLine) {
    // 185/38.25 = 4.837 it/s, 23902/38.25 = 624.89 toks/s, 23717/38.25 = 620.05 toks/s,
    // 315 left / 4.837 = 65.1 s.
    EXPECT_EQ(format_progress_line(state(185, 500, 38.25, 23902, 23717)),
              "Processed prompts:  37%|███▋      | 185/500 [00:38<01:05,  4.84it/s, est. speed "
              "input: 624.89 toks/s, output: 620.05 toks/s]");
}

TEST(ProgressBar, FormatsStartAndEnd) {
    EXPECT_EQ(format_progress_line(state(0, 500, 0.0)),
              "Processed prompts:   0%|          | 0/500 [00:00<?, ?it/s, est. speed input: 0.00 "
              "toks/s, output: 0.00 toks/s]");
    EXPECT_EQ(format_progress_line(state(500, 500, 103.3, 64000, 64000)),
              "Processed prompts: 100%|██████████| 500/500 [01:43<00:00,  4.84it/s, est. speed "
              "input: 619.55 toks/s, output: 619.55 toks/s]");
}

TEST(ProgressBar, SlowRatesShowSecondsPerItem) {
    ProgressState s = state(1, 10, 3.0);
    s.description = "Warmup";
    s.show_token_speed = false;
    EXPECT_EQ(format_progress_line(s), "Warmup:  10%|█         | 1/10 [00:03<00:27,  3.00s/it]");
}

TEST(ProgressBar, PercentRoundsHalfToEvenLikePython) {
    ProgressState s = state(1, 8, 1.0);
    s.show_token_speed = false;
    EXPECT_EQ(format_progress_line(s),
              "Processed prompts:  12%|█▎        | 1/8 [00:01<00:07,  1.00it/s]");
}

TEST(ProgressBar, BarCells) {
    EXPECT_EQ(format_bar(0.0), "          ");
    EXPECT_EQ(format_bar(0.37), "███▋      ");
    EXPECT_EQ(format_bar(0.99), "█████████▉");
    EXPECT_EQ(format_bar(1.0), "██████████");
    EXPECT_EQ(format_bar(0.5, 4), "██  ");
}

TEST(ProgressBar, Intervals) {
    EXPECT_EQ(format_interval(0.0), "00:00");
    EXPECT_EQ(format_interval(59.99), "00:59");
    EXPECT_EQ(format_interval(65.1), "01:05");
    EXPECT_EQ(format_interval(3723.9), "1:02:03");
}

std::string read_all(std::FILE* file) {
    std::rewind(file);
    std::string text;
    char buffer[4096];
    size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
    return text;
}

// A clock that returns the given times in turn.
Clock scripted(std::vector<double> times) {
    return [times = std::move(times), next = size_t{0}]() mutable { return times.at(next++); };
}

TEST(ProgressBar, TerminalRedrawsInPlaceAtMostTenTimesASecond) {
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    {
        ProgressBar bar("P", 3, false, file, true, scripted({0.0, 0.0625, 0.125, 0.1875, 0.25}));
        bar.update(1);  // 0.0625 s after the last draw: skipped
        bar.update(1);  // 0.125 s: drawn
        bar.update(1);  // done: drawn although only 0.0625 s passed
        bar.close();
    }
    ProgressState s = state(0, 3, 0.0);
    s.description = "P";
    s.show_token_speed = false;
    const std::string first = format_progress_line(s);
    s.done = 2, s.elapsed_s = 0.125;
    const std::string second = format_progress_line(s);
    s.done = 3, s.elapsed_s = 0.1875;
    const std::string third = format_progress_line(s);
    s.elapsed_s = 0.25;
    const std::string last = format_progress_line(s);
    EXPECT_EQ(read_all(file), "\r" + first + "\r" + second + "\r" + third + "\r" + last + "\n");
    std::fclose(file);
}

TEST(ProgressBar, PipePrintsEveryTenPercentAndNoDuplicateFinalLine) {
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    std::vector<double> times;
    for (int i = 0; i <= 101; ++i) times.push_back(i * 0.5);
    {
        ProgressBar bar("P", 100, true, file, false, scripted(times));
        for (int i = 0; i < 100; ++i) bar.update(1, 10, 20);
    }
    const std::string text = read_all(file);
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
        lines.push_back(text.substr(start, end - start));
    }
    ASSERT_EQ(lines.size(), 10u);
    EXPECT_EQ(text.find('\r'), std::string::npos);
    EXPECT_EQ(lines[0],
              "P:  10%|█         | 10/100 [00:05<00:45,  2.00it/s, est. speed input: 20.00 toks/s, "
              "output: 40.00 toks/s]");
    EXPECT_EQ(lines[9],
              "P: 100%|██████████| 100/100 [00:50<00:00,  2.00it/s, est. speed input: 20.00 "
              "toks/s, output: 40.00 toks/s]");
    std::fclose(file);
}

TEST(ProgressBar, PipePrintsAtLeastEveryFiveSeconds) {
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    {
        ProgressBar bar("P", 1000, false, file, false, scripted({0.0, 6.0, 7.0, 12.5, 13.0}));
        bar.update(1);  // 6 s since start: printed
        bar.update(1);  // 1 s later: not printed
        bar.update(1);  // 6.5 s later: printed
    }                   // close: 3/1000 was the last line printed, so nothing more
    const std::string text = read_all(file);
    EXPECT_EQ(text,
              "P:   0%|          | 1/1000 [00:06<1:39:54,  6.00s/it]\n"
              "P:   0%|          | 3/1000 [00:12<1:09:14,  4.17s/it]\n");
    std::fclose(file);
}

}  // namespace
}  // namespace ovllm::progress
