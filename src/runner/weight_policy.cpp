#include "runner/weight_policy.hpp"

#include <fstream>

#include <fmt/format.h>

namespace ovllm::runner {
namespace {

bool has_flag(std::string_view flags, std::string_view flag) {
    size_t at = 0;
    while ((at = flags.find(flag, at)) != std::string_view::npos) {
        const bool starts = at == 0 || flags[at - 1] == ' ' || flags[at - 1] == '\t';
        const size_t end = at + flag.size();
        const bool ends = end == flags.size() || flags[end] == ' ' || flags[end] == '\n';
        if (starts && ends) return true;
        at = end;
    }
    return false;
}

}  // namespace

CpuFeatures parse_cpu_features(std::string_view cpuinfo_flags, std::string_view isa_cap) {
    CpuFeatures cpu;
    const bool cap_allows_amx = isa_cap.empty() || isa_cap.find("AMX") != std::string_view::npos;
    cpu.amx_bf16 = has_flag(cpuinfo_flags, "amx_bf16") && cap_allows_amx;
    cpu.avx512_bf16 = has_flag(cpuinfo_flags, "avx512_bf16");
    cpu.avx512_vnni = has_flag(cpuinfo_flags, "avx512_vnni");
    return cpu;
}

CpuFeatures detect_cpu_features(const config::EnvLookup& env) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("flags", 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        return parse_cpu_features(std::string_view(line).substr(colon + 1),
                                  config::onednn_max_cpu_isa(env));
    }
    return {};
}

WeightFormatPolicy auto_weight_format(const CpuFeatures& cpu, int64_t num_parameters) {
    const double millions = static_cast<double>(num_parameters) / 1e6;
    if (cpu.amx_bf16 && num_parameters <= kBf16WeightsMaxParameters) {
        return {model::WeightFormat::none,
                fmt::format("--weight-format auto: bf16 weights, not int8 ({:.0f}M parameters, "
                            "AMX: bf16 matrix tiles beat int8 decompression for models up to "
                            "{:.0f}M)",
                            millions, kBf16WeightsMaxParameters / 1e6)};
    }
    const char* why = !cpu.amx_bf16 ? "no AMX: int8 weights read half the bytes, and VNNI "
                                      "multiplies them"
                                    : "large enough to be bound by memory bandwidth";
    return {
        model::WeightFormat::int8,
        fmt::format("--weight-format auto: int8 weights ({:.0f}M parameters; {})", millions, why)};
}

}  // namespace ovllm::runner
