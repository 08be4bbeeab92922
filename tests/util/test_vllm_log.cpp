#include <gtest/gtest.h>

#include "util/vllm_log.hpp"

namespace ovllm::vllm_log {
namespace {

TEST(VllmLog, EngineConfigLine) {
    EngineConfig config;
    config.model = "facebook/opt-125m";
    config.dtype = "bf16";
    config.kv_cache_dtype = "u8";
    config.weight_format = "int8";
    config.enable_prefix_caching = true;
    EXPECT_EQ(engine_config_line(config, 2048, "0.1.0"),
              "Initializing an LLM engine (v0.1.0) with config: model='facebook/opt-125m', "
              "speculative_config=None, tokenizer='facebook/opt-125m', skip_tokenizer_init=False, "
              "tokenizer_mode=auto, revision=None, dtype=torch.bfloat16, max_seq_len=2048, "
              "load_format=LoadFormat.AUTO, tensor_parallel_size=1, pipeline_parallel_size=1, "
              "quantization=int8, kv_cache_dtype=u8, device_config=cpu, seed=0, "
              "served_model_name=facebook/opt-125m, num_scheduler_steps=1, "
              "chunked_prefill_enabled=True, enable_prefix_caching=True");
}

TEST(VllmLog, EngineConfigLineDummyWeightsNoQuantization) {
    EngineConfig config;
    config.model = "m";
    config.tokenizer = "t";
    config.load_format = "dummy";
    config.dtype = "f32";
    config.weight_format = "none";
    config.seed = 5;
    config.enable_chunked_prefill = false;
    const std::string line = engine_config_line(config, 128, "0.2.0");
    EXPECT_NE(line.find("model='m', speculative_config=None, tokenizer='t',"), std::string::npos);
    EXPECT_NE(line.find("dtype=torch.float32, max_seq_len=128, load_format=LoadFormat.DUMMY,"),
              std::string::npos);
    EXPECT_NE(line.find("quantization=None,"), std::string::npos);
    EXPECT_NE(line.find("seed=5,"), std::string::npos);
    EXPECT_NE(line.find("chunked_prefill_enabled=False, enable_prefix_caching=False"),
              std::string::npos);
}

TEST(VllmLog, CpuBlocksLine) {
    EXPECT_EQ(cpu_blocks_line(7281), "# CPU blocks: 7281");
}

TEST(VllmLog, NncfTableInt8EverythingRatioDefining) {
    EXPECT_EQ(nncf_bitwidth_table({{8, 134515008, 74, true}}),
              "INFO:nncf:Statistics of the bitwidth distribution:\n"
              "┍━━━━━━━━━━━━━━━━┯━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┯━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┑\n"
              "│   Num bits (N) │ % all parameters (layers)   │ % ratio-defining parameters "
              "(layers)   │\n"
              "┝━━━━━━━━━━━━━━━━┿━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┿━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┥\n"
              "│              8 │ 100% (74 / 74)              │ 100% (74 / 74)                     "
              "    │\n"
              "┕━━━━━━━━━━━━━━━━┷━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┷━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┙\n");
}

TEST(VllmLog, NncfTableInt4KeepsEmbeddingAndHeadAt8BitsOutsideTheRatio) {
    // Embedding + lm_head (2 layers, 2 x 49152 x 576) at 8 bits; 72 internal layers at 4.
    EXPECT_EQ(nncf_bitwidth_table({{4, 77070336, 72, true}, {8, 56623104, 2, false}}),
              "INFO:nncf:Statistics of the bitwidth distribution:\n"
              "┍━━━━━━━━━━━━━━━━┯━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┯━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┑\n"
              "│   Num bits (N) │ % all parameters (layers)   │ % ratio-defining parameters "
              "(layers)   │\n"
              "┝━━━━━━━━━━━━━━━━┿━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┿━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┥\n"
              "│              8 │ 42% (2 / 74)                │ 0% (0 / 72)                        "
              "    │\n"
              "├────────────────┼─────────────────────────────┼────────────────────────────────────"
              "────┤\n"
              "│              4 │ 58% (72 / 74)               │ 100% (72 / 72)                     "
              "    │\n"
              "┕━━━━━━━━━━━━━━━━┷━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┷━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
              "━━━━┙\n");
}

TEST(VllmLog, NncfTableMergesGroupsOfTheSameWidth) {
    // A ratio below 1 leaves some ratio-defining layers at 8 bits too.
    const std::string table =
        nncf_bitwidth_table({{8, 3450, 1, false}, {8, 40000, 53, true}, {4, 60000, 75, true}});
    EXPECT_NE(table.find("│              8 │ 42% (54 / 129)              │ 40% (53 / 128)"),
              std::string::npos);
    EXPECT_NE(table.find("│              4 │ 58% (75 / 129)              │ 60% (75 / 128)"),
              std::string::npos);
}

}  // namespace
}  // namespace ovllm::vllm_log
