// The architecture table: supported names, and the error for an unknown one.
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/loader.hpp"
#include "model/registry.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::test {
namespace {

TEST(Registry, ListsTheSupportedFamilies) {
    EXPECT_EQ(model::supported_architectures(),
              (std::vector<std::string>{"GPT2LMHeadModel", "Gemma3ForCausalLM", "LlamaForCausalLM",
                                        "MistralForCausalLM", "OPTForCausalLM", "Qwen2ForCausalLM",
                                        "Qwen3ForCausalLM"}));
}

TEST(Registry, UnknownArchitectureListsSupportedOnes) {
    const auto source = golden_dir() / "models" / "llama";
    const auto folder = std::filesystem::temp_directory_path() /
                        ("ovllm_unknown_arch_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(source / "model.safetensors", folder / "model.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    std::ifstream in(source / "config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["architectures"] = {"FancyNewForCausalLM"};
    std::ofstream(folder / "config.json") << config.dump(2);

    try {
        model::load_model(folder.string());
        ADD_FAILURE() << "no error for an unknown architecture";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("FancyNewForCausalLM"), std::string::npos) << message;
        for (const std::string& name : model::supported_architectures()) {
            EXPECT_NE(message.find(name), std::string::npos) << message;
        }
    }
    std::filesystem::remove_all(folder);
}

TEST(Loader, RejectsUnknownLoadFormat) {
    EXPECT_EQ(model::parse_load_format("auto"), model::LoadFormat::auto_detect);
    EXPECT_EQ(model::parse_load_format("dummy"), model::LoadFormat::dummy);
    EXPECT_THROW(model::parse_load_format("pt"), Error);
}

}  // namespace
}  // namespace ovllm::test
