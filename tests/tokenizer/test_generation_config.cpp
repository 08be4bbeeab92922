// Stop ids and sampling defaults from generation_config.json, config.json, tokenizer_config.json.
#include <fstream>

#include <gtest/gtest.h>

#include "golden_cases.hpp"
#include "tokenizer/generation_config.hpp"
#include "util/error.hpp"

namespace ovllm::tokenizer {
namespace {

class TempDir {
  public:
    TempDir()
        : path_(std::filesystem::temp_directory_path() /
                ("ovllm_gen_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name) << text;
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

TEST(GenerationConfig, ListFromGenerationConfigWins) {
    TempDir dir;
    dir.write(
        "generation_config.json",
        R"({"eos_token_id":[5,7],"temperature":0.6,"top_p":0.9,"top_k":20,"repetition_penalty":1.1,"max_new_tokens":64})");
    dir.write("config.json", R"({"eos_token_id":9})");
    const auto d = load_generation_defaults(dir.path());
    EXPECT_EQ(d.eos_token_ids, (std::set<int64_t>{5, 7}));
    EXPECT_DOUBLE_EQ(*d.temperature, 0.6);
    EXPECT_DOUBLE_EQ(*d.top_p, 0.9);
    EXPECT_EQ(*d.top_k, 20);
    EXPECT_DOUBLE_EQ(*d.repetition_penalty, 1.1);
    EXPECT_EQ(*d.max_new_tokens, 64);
}

TEST(GenerationConfig, FallsBackToConfig) {
    TempDir dir;
    dir.write("generation_config.json", R"({"do_sample":true})");
    dir.write("config.json", R"({"eos_token_id":9})");
    const auto d = load_generation_defaults(dir.path());
    EXPECT_EQ(d.eos_token_ids, (std::set<int64_t>{9}));
    EXPECT_FALSE(d.temperature.has_value());
}

TEST(GenerationConfig, AddsTokenizerEos) {
    const Tokenizer& qwen = test::golden_tokenizer("qwen2.5");
    TempDir dir;
    dir.write("generation_config.json", R"({"eos_token_id":151645})");
    EXPECT_EQ(load_generation_defaults(dir.path(), &qwen).eos_token_ids,
              (std::set<int64_t>{151643, 151645}));
}

TEST(GenerationConfig, RealModelFolders) {
    const auto smol_dir = ovllm::test::models_dir() / "smollm2-135m";
    const Tokenizer smol = Tokenizer::from_folder(smol_dir);
    EXPECT_EQ(load_generation_defaults(smol_dir, &smol).eos_token_ids, (std::set<int64_t>{2}));
    const auto qwen_dir = ovllm::test::models_dir() / "qwen2.5-coder-0.5b";
    const Tokenizer qwen = Tokenizer::from_folder(qwen_dir);
    EXPECT_EQ(load_generation_defaults(qwen_dir, &qwen).eos_token_ids,
              (std::set<int64_t>{151643, 151645}));
}

TEST(GenerationConfig, Errors) {
    TempDir dir;
    dir.write("generation_config.json", R"({"eos_token_id":"two"})");
    try {
        load_generation_defaults(dir.path());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), (dir.path() / "generation_config.json").string() +
                                             ": eos_token_id: expected an integer");
    }
    dir.write("generation_config.json", R"({"eos_token_id":)");
    EXPECT_THROW(load_generation_defaults(dir.path()), Error);
}

}  // namespace
}  // namespace ovllm::tokenizer
