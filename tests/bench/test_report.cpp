#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/report.hpp"
#include "util/error.hpp"

namespace ovllm::bench {
namespace {

// Expected text below was printed by vLLM's own f-strings / json.dump / numpy (2.4) on the
// same numbers.

TEST(ThroughputReport, VllmText) {
    const ThroughputResult result{103.3, 500, 64000, 64052};
    EXPECT_EQ(format_throughput_report(result),
              "Throughput: 4.84 requests/s, 1239.61 total tokens/s, 620.06 output tokens/s\n"
              "Total num prompt tokens:  64000\n"
              "Total num output tokens:  64052\n");
}

TEST(ThroughputReport, VllmJson) {
    const ThroughputResult result{103.3, 500, 64000, 64052};
    EXPECT_EQ(throughput_json(result),
              "{\n"
              "    \"elapsed_time\": 103.3,\n"
              "    \"num_requests\": 500,\n"
              "    \"total_num_tokens\": 128052,\n"
              "    \"requests_per_second\": 4.84027105517909,\n"
              "    \"tokens_per_second\": 1239.6127783155857\n"
              "}");
}

TEST(ThroughputReport, ZeroElapsedIsAnError) {
    EXPECT_THROW(format_throughput_report({0.0, 1, 1, 1}), Error);
}

TEST(LatencyReport, SevenIterations) {
    const LatencyResult result{{0.8123, 0.7931, 0.8512, 0.8034, 0.9977, 0.8201, 0.7899}};
    EXPECT_EQ(format_latency_report(result),
              "Avg latency: 0.8382428571428572 seconds\n"
              "10% percentile latency: 0.7918200000000001 seconds\n"
              "25% percentile latency: 0.79825 seconds\n"
              "50% percentile latency: 0.8123 seconds\n"
              "75% percentile latency: 0.83565 seconds\n"
              "90% percentile latency: 0.9098 seconds\n"
              "99% percentile latency: 0.98891 seconds\n");
    EXPECT_EQ(latency_json(result),
              "{\n"
              "    \"avg_latency\": 0.8382428571428572,\n"
              "    \"latencies\": [\n"
              "        0.8123,\n"
              "        0.7931,\n"
              "        0.8512,\n"
              "        0.8034,\n"
              "        0.9977,\n"
              "        0.8201,\n"
              "        0.7899\n"
              "    ],\n"
              "    \"percentiles\": {\n"
              "        \"10\": 0.7918200000000001,\n"
              "        \"25\": 0.79825,\n"
              "        \"50\": 0.8123,\n"
              "        \"75\": 0.83565,\n"
              "        \"90\": 0.9098,\n"
              "        \"99\": 0.98891\n"
              "    }\n"
              "}");
}

TEST(LatencyReport, ThirtyIterationsMatchNumpyToTheLastDigit) {
    // A plain left-to-right sum gives 0.8529266666666666; numpy's pairwise sum ...667.
    LatencyResult result;
    for (int i = 0; i < 30; ++i) result.latencies_s.push_back(0.7 + ((i * 37) % 29) * 0.0113);
    EXPECT_EQ(format_latency_report(result),
              "Avg latency: 0.8529266666666667 seconds\n"
              "10% percentile latency: 0.72147 seconds\n"
              "25% percentile latency: 0.7706249999999999 seconds\n"
              "50% percentile latency: 0.8525499999999999 seconds\n"
              "75% percentile latency: 0.934475 seconds\n"
              "90% percentile latency: 0.98363 seconds\n"
              "99% percentile latency: 1.013123 seconds\n");
}

TEST(LatencyReport, TwoHundredIterations) {
    LatencyResult result;
    for (int i = 0; i < 200; ++i) result.latencies_s.push_back(0.1 * i + 0.013 * (i % 7));
    const std::string text = format_latency_report(result);
    EXPECT_EQ(text,
              "Avg latency: 9.988610000000001 seconds\n"
              "10% percentile latency: 2.0667 seconds\n"
              "25% percentile latency: 4.98475 seconds\n"
              "50% percentile latency: 9.9695 seconds\n"
              "75% percentile latency: 14.95425 seconds\n"
              "90% percentile latency: 17.9633 seconds\n"
              "99% percentile latency: 19.714130000000004 seconds\n");
}

TEST(LatencyReport, Percentiles) {
    EXPECT_EQ(percentile({3.0, 1.0, 2.0}, 50), 2.0);
    EXPECT_EQ(percentile({1.0, 2.0}, 25), 1.25);
    EXPECT_EQ(percentile({1.0, 2.0}, 100), 2.0);
    EXPECT_EQ(percentile({5.0}, 99), 5.0);
    EXPECT_THROW(percentile({}, 50), Error);
    EXPECT_THROW(format_latency_report({}), Error);
}

TEST(LatencyReport, PythonFloatRepr) {
    EXPECT_EQ(python_float(0.1), "0.1");
    EXPECT_EQ(python_float(2.0), "2.0");
    EXPECT_EQ(python_float(1e-05), "1e-05");
    EXPECT_EQ(python_float(0.0001), "0.0001");
    EXPECT_EQ(python_float(1.5e16), "1.5e+16");
    EXPECT_EQ(python_float(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(python_float(3.0000000000000004), "3.0000000000000004");
}

TEST(Report, WritesOutputJson) {
    const auto path = std::filesystem::temp_directory_path() / "ovllm_test_report.json";
    write_text_file(path, "{}");
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    EXPECT_EQ(text.str(), "{}");
    std::filesystem::remove(path);
    EXPECT_THROW(write_text_file("/nonexistent-dir/x.json", "{}"), Error);
}

TEST(StepTimes, SharesOfEachStage) {
    engine::EngineStats stats;
    stats.num_steps = 4;
    stats.max_step_sequences = 256;
    stats.step_times = {
        .schedule = 0.01, .model = 0.88, .sample = 0.06, .grammar = 0.02, .outputs = 0.03};
    EXPECT_EQ(format_step_times(stats),
              "Step time: 4 steps of up to 256 sequences, 250.00 ms/step: model 88.0%, "
              "scheduler 1.0%, sampler 6.0%, grammar 2.0%, outputs 3.0% (overhead 12.0%)");
}

TEST(OpTimes, LargestFirstThenOther) {
    const std::vector<runner::OpTime> times = {{"FullyConnected", 6.0, 10},
                                               {"PagedAttentionExtension", 3.0, 2},
                                               {"Eltwise", 0.6, 40},
                                               {"Gather", 0.4, 1}};
    EXPECT_EQ(format_op_times(times, 2),
              "Operation time: FullyConnected 60.0%, PagedAttentionExtension 30.0%, other 10.0%");
    EXPECT_EQ(format_op_times({}), "Operation time: not profiled");
}

TEST(StepTimes, NoSteps) {
    EXPECT_EQ(format_step_times(engine::EngineStats{}), "Step time: no steps ran");
}

}  // namespace
}  // namespace ovllm::bench
