#include "util/vllm_log.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "util/speculative_config.hpp"

namespace ovllm::vllm_log {
namespace {

const char* python_bool(bool value) {
    return value ? "True" : "False";
}

std::string torch_dtype(const std::string& dtype) {
    if (dtype == "bf16") return "torch.bfloat16";
    if (dtype == "f16") return "torch.float16";
    if (dtype == "f32") return "torch.float32";
    return dtype;
}

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

std::string quantization(const std::string& weight_format) {
    return weight_format == "auto" || weight_format == "none" ? "None" : weight_format;
}

// One table column: header, cells, and whether it is numeric (right-aligned).
struct Column {
    std::string header;
    std::vector<std::string> cells;
    bool right_aligned = false;

    // Two spaces beyond the header at least, as the table layout NNCF used does.
    size_t width() const {
        size_t widest = header.size() + 2;
        for (const std::string& cell : cells) widest = std::max(widest, cell.size());
        return widest;
    }
};

std::string aligned(const std::string& text, size_t width, bool right) {
    return right ? fmt::format("{:>{}}", text, width) : fmt::format("{:<{}}", text, width);
}

// A rule line: `left` + fill per column joined by `middle` + `right`.
std::string rule(const std::vector<Column>& columns, std::string_view left, std::string_view fill,
                 std::string_view middle, std::string_view right) {
    std::string line(left);
    for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) line += middle;
        for (size_t j = 0; j < columns[i].width() + 2; ++j) line += fill;
    }
    line += right;
    return line + "\n";
}

std::string row(const std::vector<Column>& columns, size_t index) {
    std::string line = "│";
    for (const Column& column : columns) {
        const std::string& text = index == SIZE_MAX ? column.header : column.cells[index];
        line += fmt::format(" {} │", aligned(text, column.width(), column.right_aligned));
    }
    return line + "\n";
}

struct Share {
    int64_t params = 0;
    int layers = 0;
};

std::string share_cell(const Share& part, const Share& whole) {
    const double percent = static_cast<double>(part.params) /
                           static_cast<double>(std::max<int64_t>(whole.params, 1)) * 100.0;
    return fmt::format("{:.0f}% ({} / {})", percent, part.layers, whole.layers);
}

}  // namespace

std::string engine_config_line(const EngineConfig& config, int max_seq_len,
                               std::string_view version) {
    const std::string& tokenizer = config.tokenizer.empty() ? config.model : config.tokenizer;
    return fmt::format(
        "Initializing an LLM engine (v{}) with config: model='{}', speculative_config={}, "
        "tokenizer='{}', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, "
        "dtype={}, max_seq_len={}, load_format=LoadFormat.{}, tensor_parallel_size=1, "
        "pipeline_parallel_size=1, quantization={}, kv_cache_dtype={}, "
        "device_config=cpu, seed={}, served_model_name={}, num_scheduler_steps=1, "
        "chunked_prefill_enabled={}, enable_prefix_caching={}",
        version, config.model, config::describe(config.speculative_config), tokenizer,
        torch_dtype(config.dtype), max_seq_len, upper(config.load_format),
        quantization(config.weight_format), config.kv_cache_dtype, config.seed, config.model,
        python_bool(config.enable_chunked_prefill), python_bool(config.enable_prefix_caching));
}

std::string cpu_blocks_line(int64_t num_blocks) {
    return fmt::format("# CPU blocks: {}", num_blocks);
}

std::string nncf_bitwidth_table(const std::vector<WeightGroup>& groups) {
    std::map<int, std::array<Share, 2>, std::greater<>> by_bits;  // [all, ratio-defining]
    Share all_total;
    Share ratio_total;
    for (const WeightGroup& group : groups) {
        std::array<Share, 2>& shares = by_bits[group.bits];
        shares[0].params += group.num_params;
        shares[0].layers += group.num_layers;
        all_total.params += group.num_params;
        all_total.layers += group.num_layers;
        if (group.ratio_defining) {
            shares[1].params += group.num_params;
            shares[1].layers += group.num_layers;
            ratio_total.params += group.num_params;
            ratio_total.layers += group.num_layers;
        }
    }
    std::vector<Column> columns = {{"Num bits (N)", {}, true},
                                   {"% all parameters (layers)", {}, false},
                                   {"% ratio-defining parameters (layers)", {}, false}};
    for (const auto& [bits, shares] : by_bits) {
        columns[0].cells.push_back(std::to_string(bits));
        columns[1].cells.push_back(share_cell(shares[0], all_total));
        columns[2].cells.push_back(share_cell(shares[1], ratio_total));
    }
    std::string table = "INFO:nncf:Statistics of the bitwidth distribution:\n";
    table += rule(columns, "┍", "━", "┯", "┑");
    table += row(columns, SIZE_MAX);
    table += rule(columns, "┝", "━", "┿", "┥");
    for (size_t i = 0; i < columns[0].cells.size(); ++i) {
        if (i > 0) table += rule(columns, "├", "─", "┼", "┤");
        table += row(columns, i);
    }
    table += rule(columns, "┕", "━", "┷", "┙");
    return table;
}

}  // namespace ovllm::vllm_log
