#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openvino/op/constant.hpp>

#include "error_pieces.hpp"
#include "model/dummy_weights.hpp"
#include "model/model_folder.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

namespace fs = std::filesystem;

using test::expect_error;

// The f32 values behind a dummy weight output (Constant, or Convert over a Constant).
std::vector<float> values_of(const ov::Output<ov::Node>& output) {
    auto node = output.get_node_shared_ptr();
    if (!ov::as_type_ptr<ov::op::v0::Constant>(node)) node = node->get_input_node_shared_ptr(0);
    const auto constant = ov::as_type_ptr<ov::op::v0::Constant>(node);
    EXPECT_NE(constant, nullptr);
    return constant ? constant->cast_vector<float>() : std::vector<float>{};
}

TEST(DummyWeights, ShapeTypeAndRange) {
    DummyWeights weights(7);
    EXPECT_TRUE(weights.contains("anything.at.all"));
    const auto output =
        weights.get("model.layers.0.mlp.up_proj.weight", {300, 70}, WeightUse::matmul);
    EXPECT_EQ(output.get_shape(), (ov::Shape{300, 70}));
    EXPECT_EQ(output.get_element_type(), ov::element::f32);
    const auto values = values_of(output);
    ASSERT_EQ(values.size(), 300u * 70u);
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_GE(*low, -0.0201f);
    EXPECT_LE(*high, 0.0201f);
    EXPECT_LT(*low, -0.019f);  // covers the range, not a constant
    EXPECT_GT(*high, 0.019f);
}

TEST(DummyWeights, NormWeightsNearOne) {
    DummyWeights weights(7, ov::element::f32);
    const auto values = values_of(weights.get("model.norm.weight", {64}, WeightUse::other));
    for (const float v : values) {
        EXPECT_GE(v, 0.98f);
        EXPECT_LE(v, 1.02f);
    }
    const auto bias =
        values_of(weights.get("model.layers.0.self_attn.q_proj.bias", {64}, WeightUse::other));
    for (const float v : bias) EXPECT_LE(std::abs(v), 0.0201f);
}

TEST(DummyWeights, DeterministicPerSeedAndName) {
    DummyWeights first(1, ov::element::f32);
    DummyWeights again(1, ov::element::f32);
    DummyWeights other_seed(2, ov::element::f32);
    const ov::Shape shape{2000, 1000};  // large enough to fill on several threads
    const auto a = values_of(first.get("w", shape, WeightUse::matmul));
    EXPECT_EQ(a, values_of(again.get("w", shape, WeightUse::matmul)));
    EXPECT_NE(a, values_of(other_seed.get("w", shape, WeightUse::matmul)));
    EXPECT_NE(a, values_of(first.get("v", shape, WeightUse::matmul)));
}

TEST(DummyWeights, Bf16StorageMatchesF32Truncated) {
    DummyWeights f32(3, ov::element::f32);
    DummyWeights bf16(3, ov::element::bf16);
    const auto a = values_of(f32.get("w", {4096}, WeightUse::matmul));
    const auto b = values_of(bf16.get("w", {4096}, WeightUse::matmul));
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const uint32_t truncated = std::bit_cast<uint32_t>(a[i]) & 0xFFFF0000u;
        ASSERT_EQ(b[i], std::bit_cast<float>(truncated)) << i;
    }
}

TEST(DummyWeights, RejectsIntegerStorage) {
    expect_error([] { DummyWeights weights(0, ov::element::i8); }, {"i8"});
}

TEST(ModelFolder, HfFolder) {
    const fs::path dir = test::golden_dir() / "models" / "llama";
    const ModelLocation location = locate_model(dir.string());
    EXPECT_EQ(location.format, ModelFormat::hf_safetensors);
    EXPECT_EQ(location.path, dir);
    EXPECT_STREQ(model_format_name(location.format), "safetensors");
}

TEST(ModelFolder, OpenVinoIrFolder) {
    const fs::path dir = test::golden_dir() / "ir" / "llama-fp32";
    EXPECT_EQ(locate_model(dir.string()).format, ModelFormat::openvino_ir);
}

TEST(ModelFolder, GgufFile) {
    const fs::path file = test::models_dir() / "smollm2-135m.gguf";
    if (!fs::exists(file)) GTEST_SKIP() << file << " not fetched";
    EXPECT_EQ(locate_model(file.string()).format, ModelFormat::gguf);
}

TEST(ModelFolder, BuiltinName) {
    const ModelLocation location = locate_model("facebook/opt-125m");
    EXPECT_EQ(location.format, ModelFormat::builtin_dummy);
    EXPECT_EQ(location.name, "facebook/opt-125m");
    EXPECT_TRUE(location.path.empty());
}

TEST(ModelFolder, FolderThatIsNotAModel) {
    const fs::path dir = fs::temp_directory_path() / "ovllm_test_folder_empty";
    fs::create_directories(dir);
    expect_error([&] { locate_model(dir.string()); },
                 {dir.string(), "is not a model folder: no config.json, no openvino_model.xml"});
    std::ofstream(dir / "config.json") << "{}";
    expect_error([&] { locate_model(dir.string()); }, {"no *.safetensors"});
    fs::remove_all(dir);
}

TEST(ModelFolder, FakeGguf) {
    const fs::path file = fs::temp_directory_path() / "ovllm_test_fake.gguf";
    std::ofstream(file) << "not a gguf";
    expect_error([&] { locate_model(file.string()); }, {file.string(), "not a GGUF file"});
    fs::remove(file);
}

TEST(ModelFolder, MissingPath) {
    expect_error([] { locate_model("/nonexistent/ovllm-model"); },
                 {"/nonexistent/ovllm-model: no such file or folder", "facebook/opt-125m"});
}

}  // namespace
}  // namespace ovllm::model
