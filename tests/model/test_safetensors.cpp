#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openvino/openvino.hpp>

#include "error_pieces.hpp"
#include "model/safetensors.hpp"
#include "model/safetensors_weights.hpp"
#include "test_paths.hpp"
#include "util/error.hpp"

namespace ovllm::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path golden_model(const std::string& name) {
    return test::golden_dir() / "models" / name;
}

using test::expect_error;

// A temp folder removed at the end of the test.
class TempDir {
  public:
    explicit TempDir(const std::string& tag)
        : path_(fs::temp_directory_path() / ("ovllm_test_st_" + tag)) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// Writes a safetensors file: 8-byte length, `header` as given, then `data`.
void write_raw(const fs::path& file, const std::string& header, const std::string& data) {
    std::ofstream out(file, std::ios::binary);
    uint64_t length = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
    out << header << data;
}

// One F32 tensor `name` of `shape` with values 0, 1, 2, ...
void write_f32(const fs::path& file, const std::string& name, const std::vector<size_t>& shape) {
    size_t count = 1;
    for (const size_t d : shape) count *= d;
    std::string data(count * 4, '\0');
    for (size_t i = 0; i < count; ++i) {
        const float v = static_cast<float>(i);
        std::memcpy(data.data() + 4 * i, &v, 4);
    }
    nlohmann::json header;
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {0, data.size()}}};
    write_raw(file, header.dump(), data);
}

// Runs a graph made of weight outputs on CPU in f32 and returns its results.
std::vector<ov::Tensor> evaluate(const ov::OutputVector& outputs) {
    ov::Core core;
    const auto model = std::make_shared<ov::Model>(outputs, ov::ParameterVector{});
    auto request = core.compile_model(model, "CPU", ov::hint::inference_precision(ov::element::f32))
                       .create_infer_request();
    request.infer();
    std::vector<ov::Tensor> results;
    for (size_t i = 0; i < outputs.size(); ++i) results.push_back(request.get_output_tensor(i));
    return results;
}

float bf16_round(float value) {  // round to nearest even, as torch does
    uint32_t bits = std::bit_cast<uint32_t>(value);
    bits += 0x7FFF + ((bits >> 16) & 1);
    return std::bit_cast<float>(bits & 0xFFFF0000u);
}

TEST(Safetensors, GoldenLlamaNamesAndShapes) {
    const SafetensorsModel model(golden_model("llama"));
    EXPECT_THAT(model.describe(), HasSubstr("model.safetensors"));
    EXPECT_EQ(model.names().size(), 29u);  // 3 layers x 9 + embed + norm, no lm_head (tied)
    EXPECT_FALSE(model.contains("lm_head.weight"));
    EXPECT_EQ(model.tensor("model.embed_tokens.weight").shape, (ov::Shape{512, 64}));
    EXPECT_EQ(model.tensor("model.layers.2.self_attn.k_proj.weight").shape, (ov::Shape{32, 64}));
    EXPECT_EQ(model.tensor("model.layers.0.mlp.down_proj.weight").shape, (ov::Shape{64, 128}));
    EXPECT_EQ(model.tensor("model.norm.weight").type, ov::element::f32);
    EXPECT_EQ(model.dominant_type(), ov::element::f32);
    EXPECT_EQ(model.files().front()->metadata().at("format"), "pt");
}

TEST(Safetensors, Bf16CopyEqualsRoundedF32) {
    const SafetensorsModel f32(golden_model("llama"));
    const SafetensorsModel bf16(golden_model("llama-bf16"));
    EXPECT_EQ(bf16.dominant_type(), ov::element::bf16);
    ASSERT_EQ(f32.names(), bf16.names());
    size_t compared = 0;
    for (const auto& name : f32.names()) {
        const TensorView& a = f32.tensor(name);
        const TensorView& b = bf16.tensor(name);
        ASSERT_EQ(a.shape, b.shape) << name;
        ASSERT_EQ(b.type, ov::element::bf16) << name;
        const auto* af = static_cast<const float*>(a.data);
        const auto* bb = static_cast<const uint16_t*>(b.data);
        for (size_t i = 0; i < ov::shape_size(a.shape); ++i, ++compared) {
            const float widened = std::bit_cast<float>(static_cast<uint32_t>(bb[i]) << 16);
            ASSERT_EQ(widened, bf16_round(af[i])) << name << "[" << i << "]";
        }
    }
    EXPECT_EQ(compared, 143808u);  // every parameter
}

TEST(Safetensors, GoldenLogitsConsistent) {
    // README: row 0 of gen_logits.p<i> equals the last row of logits.p<i> up to ~1e-6.
    const SafetensorsModel golden(golden_model("qwen2") / "golden.safetensors");
    const TensorView& logits = golden.tensor("logits.p1");
    const TensorView& gen = golden.tensor("gen_logits.p1");
    EXPECT_EQ(logits.shape, (ov::Shape{7, 512}));
    EXPECT_EQ(gen.shape, (ov::Shape{24, 512}));
    const auto* last = static_cast<const float*>(logits.data) + 6 * 512;
    const auto* first = static_cast<const float*>(gen.data);
    for (size_t i = 0; i < 512; ++i) EXPECT_NEAR(last[i], first[i], 1e-5) << i;
}

TEST(SafetensorsWeights, Bf16ConvertsToF32) {
    SafetensorsWeights f32(golden_model("llama"));
    SafetensorsWeights bf16(golden_model("llama-bf16"));
    EXPECT_EQ(bf16.dtype(), ov::element::bf16);
    const std::string name = "model.layers.1.mlp.gate_proj.weight";
    const auto a = f32.get(name, {128, 64}, WeightUse::matmul);
    const auto b = bf16.get(name, {128, 64}, WeightUse::matmul);
    EXPECT_EQ(a.get_element_type(), ov::element::f32);
    EXPECT_EQ(b.get_element_type(), ov::element::f32);
    const auto results = evaluate({a, b});
    const float* av = results[0].data<float>();
    const float* bv = results[1].data<float>();
    for (size_t i = 0; i < 128 * 64; ++i) ASSERT_EQ(bv[i], bf16_round(av[i])) << i;
}

TEST(SafetensorsWeights, ZeroCopyConstantPointsIntoMapping) {
    SafetensorsWeights weights(golden_model("llama"));
    const auto constant = weights.constant("model.norm.weight", {64});
    EXPECT_EQ(constant->get_data_ptr(), weights.model().tensor("model.norm.weight").data);
}

TEST(SafetensorsWeights, ConstantOutlivesReader) {
    std::shared_ptr<ov::op::v0::Constant> constant;
    std::vector<float> expected;
    {
        SafetensorsWeights weights(golden_model("llama"));
        const TensorView& view = weights.model().tensor("model.norm.weight");
        const auto* data = static_cast<const float*>(view.data);
        expected.assign(data, data + 64);
        constant = weights.constant("model.norm.weight", {64});
    }
    EXPECT_EQ(constant->cast_vector<float>(), expected);
}

TEST(SafetensorsWeights, Gpt2Conv1DIsTransposed) {
    SafetensorsWeights weights(golden_model("gpt2"));
    const std::string name = "transformer.h.0.attn.c_attn.weight";  // stored [64, 192]
    const auto output = weights.get(name, {192, 64}, WeightUse::matmul_transposed);
    EXPECT_EQ(output.get_shape(), (ov::Shape{192, 64}));
    const auto result = evaluate({output});
    const auto* stored = static_cast<const float*>(weights.model().tensor(name).data);
    const float* got = result[0].data<float>();
    for (size_t out = 0; out < 192; ++out) {
        for (size_t in = 0; in < 64; ++in) ASSERT_EQ(got[out * 64 + in], stored[in * 192 + out]);
    }
}

TEST(SafetensorsWeights, MissingTensor) {
    SafetensorsWeights weights(golden_model("llama"));
    EXPECT_FALSE(weights.contains("lm_head.weight"));
    expect_error([&] { weights.get("model.layers.0.mlp.up_proj.bias", {128}, WeightUse::other); },
                 {"model.safetensors: tensor 'model.layers.0.mlp.up_proj.bias' not found"});
}

TEST(SafetensorsWeights, WrongShapeNamesBoth) {
    SafetensorsWeights weights(golden_model("llama"));
    expect_error(
        [&] {
            weights.get("model.layers.0.mlp.up_proj.weight", {64, 128}, WeightUse::matmul);
        },
        {"model.safetensors", "'model.layers.0.mlp.up_proj.weight'", "[128,64]", "[64,128]"});
}

TEST(SafetensorsErrors, TruncatedFile) {
    TempDir dir("truncated");
    const fs::path source = golden_model("llama") / "model.safetensors";
    const fs::path copy = dir.path() / "model.safetensors";
    fs::copy_file(source, copy);
    fs::resize_file(copy, fs::file_size(source) - 100);
    expect_error([&] { SafetensorsModel model(dir.path()); },
                 {copy.string(), "tensor '", "truncated"});
}

TEST(SafetensorsErrors, HeaderLengthBeyondFile) {
    TempDir dir("bad_length");
    const fs::path file = dir.path() / "model.safetensors";
    std::ofstream(file, std::ios::binary) << "garbage!garbage garbage";
    expect_error([&] { SafetensorsFile opened(file); },
                 {file.string(), "header length", "exceeds the file size 23"});
}

TEST(SafetensorsErrors, HeaderNotJson) {
    TempDir dir("not_json");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(file, "{\"a\": nope}", "");
    expect_error([&] { SafetensorsFile opened(file); },
                 {file.string(), "header is not valid JSON"});
}

// Found by fuzz/fuzz_safetensors: the JSON parser refuses a number beyond a double's range
// with out_of_range, not parse_error; it escaped as a raw nlohmann exception.
TEST(SafetensorsErrors, HeaderNumberOutOfRange) {
    TempDir dir("number_range");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(file, R"({"w": {"dtype": 1e999}})", "");
    expect_error([&] { SafetensorsFile opened(file); },
                 {file.string(), "header is not valid JSON (a number out of range)"});
}

// A shape whose byte size wraps around 64 bits (2^32 x 2^32 x 4 bytes wraps to 0) matched
// empty data_offsets, so the file opened with a tensor far larger than its data.
TEST(SafetensorsErrors, ShapeSizeOverflow) {
    TempDir dir("shape_overflow");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(
        file,
        R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})",
        "");
    expect_error([&] { SafetensorsFile opened(file); },
                 {file.string(), "tensor 'w' has shape [4294967296,4294967296] whose size"});
}

TEST(SafetensorsErrors, TooSmall) {
    TempDir dir("small");
    const fs::path file = dir.path() / "model.safetensors";
    std::ofstream(file, std::ios::binary) << "abc";
    expect_error([&] { SafetensorsFile opened(file); }, {file.string(), "too small"});
}

TEST(SafetensorsErrors, SizeInconsistentWithShape) {
    TempDir dir("inconsistent");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(file, R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
              std::string(12, '\0'));
    expect_error([&] { SafetensorsFile opened(file); },
                 {file.string(), "tensor 'w' holds 12 bytes", "needs 16"});
}

TEST(SafetensorsErrors, UnsupportedDtypeNamedOnUse) {
    TempDir dir("dtype");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(file, R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})",
              std::string(16, '\0'));
    SafetensorsWeights weights(dir.path());
    EXPECT_TRUE(weights.contains("ids"));
    expect_error([&] { weights.get("ids", {2}, WeightUse::other); },
                 {"tensor 'ids' has dtype I64", "F32, F16 and BF16"});
}

TEST(SafetensorsErrors, UnknownDtypeAtOpen) {
    TempDir dir("unknown_dtype");
    const fs::path file = dir.path() / "model.safetensors";
    write_raw(file, R"({"q":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})", "x");
    expect_error([&] { SafetensorsFile opened(file); }, {"tensor 'q' has unknown dtype Q4"});
}

TEST(SafetensorsErrors, FolderWithoutWeights) {
    TempDir dir("empty");
    expect_error([&] { SafetensorsModel model(dir.path()); },
                 {dir.path().string(), "no *.safetensors"});
}

TEST(SafetensorsSharded, IndexWeightMap) {
    TempDir dir("sharded");
    write_f32(dir.path() / "model-00001-of-00002.safetensors", "a.weight", {2, 3});
    write_f32(dir.path() / "model-00002-of-00002.safetensors", "b.weight", {4});
    write_f32(dir.path() / "unrelated.safetensors", "c.weight", {1});  // not in the index
    std::ofstream(dir.path() / "model.safetensors.index.json")
        << R"({"metadata":{},"weight_map":{"a.weight":"model-00001-of-00002.safetensors",
             "b.weight":"model-00002-of-00002.safetensors"}})";
    const SafetensorsModel model(dir.path());
    EXPECT_EQ(model.names(), (std::vector<std::string>{"a.weight", "b.weight"}));
    EXPECT_EQ(model.files().size(), 2u);
    EXPECT_EQ(model.tensor("a.weight").shape, (ov::Shape{2, 3}));
    EXPECT_EQ(static_cast<const float*>(model.tensor("a.weight").data)[5], 5.0f);
    EXPECT_EQ(static_cast<const float*>(model.tensor("b.weight").data)[3], 3.0f);
}

TEST(SafetensorsSharded, AllFilesWithoutIndex) {
    TempDir dir("globbed");
    write_f32(dir.path() / "part1.safetensors", "a.weight", {2});
    write_f32(dir.path() / "part2.safetensors", "b.weight", {3});
    const SafetensorsModel model(dir.path());
    EXPECT_EQ(model.names(), (std::vector<std::string>{"a.weight", "b.weight"}));
}

TEST(SafetensorsSharded, DuplicateTensorAcrossFiles) {
    TempDir dir("duplicate");
    write_f32(dir.path() / "part1.safetensors", "a.weight", {2});
    write_f32(dir.path() / "part2.safetensors", "a.weight", {2});
    expect_error([&] { SafetensorsModel model(dir.path()); }, {"tensor 'a.weight' also appears"});
}

TEST(SafetensorsReal, SmolLM2ParameterCountMatchesConfig) {
    const fs::path dir = test::models_dir() / "smollm2-135m";
    if (!fs::exists(dir)) GTEST_SKIP() << dir << " not fetched";
    const SafetensorsModel model(dir);
    size_t total = 0;
    for (const auto& name : model.names()) total += ov::shape_size(model.tensor(name).shape);
    EXPECT_EQ(total, 134515008u);
    EXPECT_EQ(model.dominant_type(), ov::element::bf16);
}

}  // namespace
}  // namespace ovllm::model
