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

TEST(Registry, EveryFamilyIsFoundByItsOwnNames) {
    EXPECT_EQ(model::supported_gguf_architectures(),
              (std::vector<std::string>{"gemma3", "llama", "qwen2"}));
    for (const model::Family* family : model::model_families()) {
        ASSERT_FALSE(family->hf_classes.empty());
        ASSERT_FALSE(family->model_types.empty());
        ASSERT_NE(family->read_config, nullptr);
        ASSERT_NE(family->build, nullptr);
        for (const std::string_view type : family->model_types) {
            EXPECT_EQ(model::family_for_model_type(std::string(type)), family) << type;
        }
        if (family->gguf) {
            EXPECT_EQ(model::family_for_gguf(family->gguf->architecture), family);
        }
        // A built-in config parses to this family's class and model_type.
        for (const model::BuiltinConfig& builtin : family->builtins) {
            const model::ModelConfig c = *model::builtin_model_config(std::string(builtin.name));
            EXPECT_EQ(model::family_for_model_type(c.model_type), family) << builtin.name;
            EXPECT_EQ(c.architecture, family->hf_classes.front()) << builtin.name;
        }
    }
    EXPECT_EQ(model::family_for_model_type("fancy_new"), nullptr);
    EXPECT_EQ(model::family_for_gguf("fancy_new"), nullptr);
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
