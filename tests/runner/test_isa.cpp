// Which instruction set the CPU plugin's matrix kernels run, read from the kernel names that
// profiling reports, and whether ONEDNN_MAX_CPU_ISA really caps it. scripts/test.sh runs the
// lossy-precision suites a second time with ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 on an AMX CPU
// (the AVX-512 BF16 kernels of a CPU without AMX); this test proves the cap took effect.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "golden_util.hpp"
#include "model/loader.hpp"
#include "runner/model_runner.hpp"

namespace ovllm::test {
namespace {

bool cpu_has_flag(const std::string& flag) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("flags", 0) == 0)
            return (line + ' ').find(' ' + flag + ' ') != std::string::npos;
    }
    return false;
}

// oneDNN's cap names: AMX is allowed by AVX512_CORE_AMX, AVX512_CORE_AMX_FP16 and ALL.
bool cap_allows_amx(const char* cap) {
    const std::string value = cap ? cap : "";
    return value.empty() || value == "ALL" || value.find("AMX") != std::string::npos;
}

TEST(InstructionSet, MatrixKernelsFollowTheCpuAndTheCap) {
    const Golden golden("llama");
    const model::LoadedModel loaded = model::load_model(golden.folder.string());
    runner::RunnerOptions options;  // defaults: bf16 inference, u8 KV cache
    options.num_kv_blocks = 4;
    options.profile_ops = true;
    runner::ModelRunner runner(loaded.model, options);
    runner::SequenceInput seq;
    seq.token_ids = golden.prompts.at(2).ids;
    seq.block_table = block_range(0, blocks_for(seq.token_ids.size(), runner.block_size()));
    runner.run({{seq}});

    std::set<std::string> matrix_kernels;
    for (const auto& [type, kernels] : runner.kernels()) {
        if (type.rfind("FullyConnected", 0) == 0)
            matrix_kernels.insert(kernels.begin(), kernels.end());
        // The plugin's own kernels (attention among them) choose their ISA themselves; they
        // are printed for the log, not checked.
        if (type.find("Attention") != std::string::npos)
            for (const std::string& kernel : kernels)
                std::printf("%s kernel: %s\n", type.c_str(), kernel.c_str());
    }
    ASSERT_FALSE(matrix_kernels.empty()) << "no FullyConnected node ran";
    bool amx_kernel = false;
    for (const std::string& kernel : matrix_kernels) {
        std::printf("FullyConnected kernel: %s\n", kernel.c_str());
        amx_kernel |= kernel.find("amx") != std::string::npos;
    }
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    std::printf("ONEDNN_MAX_CPU_ISA=%s, CPU has AMX: %d\n", cap ? cap : "(unset)",
                int(cpu_has_flag("amx_bf16")));
    EXPECT_EQ(amx_kernel, cpu_has_flag("amx_bf16") && cap_allows_amx(cap));
}

}  // namespace
}  // namespace ovllm::test
