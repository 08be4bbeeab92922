// src/hub without a network: hub names, the cache layout, which files a repo needs, and the
// HF_* environment. The downloads themselves are tested against a fake hub by
// tests/hub/test_hub_cli.py.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "hub/cache.hpp"
#include "hub/file_selection.hpp"
#include "hub/hub.hpp"
#include "util/env_config.hpp"
#include "util/error.hpp"
#include "util/progress_bar.hpp"

namespace ovllm::hub {
namespace {
namespace fs = std::filesystem;

TEST(HubName, ParsesOrgNameAndQuantTag) {
    const auto plain = parse_repo_name("Qwen/Qwen2.5-0.5B-Instruct");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->repo_id, "Qwen/Qwen2.5-0.5B-Instruct");
    EXPECT_EQ(plain->quant_tag, "");
    const auto tagged = parse_repo_name("bartowski/Qwen2.5-Coder-1.5B-GGUF:Q4_K_M");
    ASSERT_TRUE(tagged);
    EXPECT_EQ(tagged->repo_id, "bartowski/Qwen2.5-Coder-1.5B-GGUF");
    EXPECT_EQ(tagged->quant_tag, "Q4_K_M");
}

TEST(HubName, RejectsPathsAndInvalidIds) {
    for (const char* name : {"model", "./a/b", "/abs/path", "a/b/c", "a/../b", "../a", "a/b:",
                             "-a/b", "a/.b", "a--x/b", "a/b.git", "a /b", ".models/smollm2"}) {
        EXPECT_FALSE(parse_repo_name(name)) << name;
    }
}

TEST(HubCache, EtagAndCommitForms) {
    EXPECT_EQ(normalize_etag("W/\"abc123\""), "abc123");
    EXPECT_EQ(normalize_etag("\"abc123\""), "abc123");
    EXPECT_EQ(normalize_etag("abc123"), "abc123");
    EXPECT_TRUE(is_commit_hash(std::string(40, 'a')));
    EXPECT_FALSE(is_commit_hash(std::string(40, 'A')));
    EXPECT_FALSE(is_commit_hash(std::string(39, 'a')));
    EXPECT_FALSE(is_commit_hash("main"));
}

class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "ovllm-hub-XXXXXX").string();
        path_ = mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

TEST(HubCache, LayoutMatchesHuggingfaceHub) {
    const TempDir dir;
    const RepoCache cache(dir.path(), "Org/Name");
    const std::string commit(40, 'c');
    EXPECT_EQ(cache.folder(), dir.path() / "models--Org--Name");
    EXPECT_EQ(cache.blob("e1"), dir.path() / "models--Org--Name" / "blobs" / "e1");
    EXPECT_EQ(cache.lock_file("e1"), dir.path() / ".locks" / "models--Org--Name" / "e1.lock");
    EXPECT_FALSE(cache.commit_of("main"));
    cache.write_ref("main", commit);
    EXPECT_EQ(cache.commit_of("main"), commit);
    EXPECT_EQ(cache.commit_of(commit), commit);  // a commit needs no ref

    write_file(cache.blob("e1"), "content");
    cache.link_snapshot_file(commit, "sub/file.json", "e1");
    const fs::path link = cache.snapshot(commit) / "sub" / "file.json";
    ASSERT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::read_symlink(link), fs::path("../../../blobs/e1"));
    std::ifstream in(link);
    std::string text;
    in >> text;
    EXPECT_EQ(text, "content");
    // Listed by their names in the snapshot, not by the blobs they point at.
    EXPECT_EQ(snapshot_files(cache.snapshot(commit)), std::vector<std::string>{"sub/file.json"});
}

Selection select(const std::vector<std::string>& files, const std::string& name,
                 FileSet set = FileSet::model, const std::string& gguf_file = "") {
    const HubRequest request{name, "", gguf_file, set};
    return select_files(files, request, *parse_repo_name(name), name);
}

TEST(HubFiles, SafetensorsRepoSkipsDuplicatesAndExtras) {
    const std::vector<std::string> files = {".gitattributes",
                                            "README.md",
                                            "config.json",
                                            "generation_config.json",
                                            "model-00001-of-00002.safetensors",
                                            "model-00002-of-00002.safetensors",
                                            "model.safetensors.index.json",
                                            "pytorch_model.bin",
                                            "onnx/model.onnx",
                                            "tokenizer.json",
                                            "tokenizer_config.json",
                                            "merges.txt",
                                            "vocab.json"};
    EXPECT_EQ(
        select(files, "o/m").files,
        (std::vector<std::string>{
            "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "merges.txt", "vocab.json", "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors", "model.safetensors.index.json"}));
    EXPECT_EQ(select(files, "o/m", FileSet::tokenizer).files,
              (std::vector<std::string>{"config.json", "generation_config.json", "tokenizer.json",
                                        "tokenizer_config.json", "merges.txt", "vocab.json"}));
}

TEST(HubFiles, GgufPickedByTagFileOrDefault) {
    const std::vector<std::string> files = {"m-Q4_K_M.gguf", "m-Q8_0.gguf", "mmproj-m-f16.gguf",
                                            "big-Q6_K-00001-of-00002.gguf",
                                            "big-Q6_K-00002-of-00002.gguf"};
    EXPECT_EQ(select(files, "o/m-GGUF:q8_0").gguf_file, "m-Q8_0.gguf");
    EXPECT_EQ(select(files, "o/m-GGUF").gguf_file, "m-Q4_K_M.gguf");
    EXPECT_EQ(select(files, "o/m-GGUF:Q6_K").gguf_file, "big-Q6_K-00001-of-00002.gguf");
    EXPECT_EQ(select(files, "o/m-GGUF", FileSet::model, "m-Q8_0.gguf").files,
              (std::vector<std::string>{"m-Q8_0.gguf"}));
    EXPECT_THROW(select(files, "o/m-GGUF:Q2_K"), Error);
    EXPECT_THROW(select(files, "o/m-GGUF", FileSet::model, "other.gguf"), Error);
}

TEST(HubFiles, IrRepoAndRepoWithoutWeights) {
    const std::vector<std::string> ir = {"config.json", "openvino_model.xml", "openvino_model.bin",
                                         "model.safetensors"};
    EXPECT_EQ(
        select(ir, "o/m").files,
        (std::vector<std::string>{"config.json", "openvino_model.xml", "openvino_model.bin"}));
    try {
        select({"config.json", "pytorch_model.bin"}, "o/m");
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("*.bin"), std::string::npos) << error.what();
    }
}

TEST(HubFiles, SnapshotMissingShardsFromTheIndex) {
    const TempDir dir;
    write_file(dir.path() / "config.json", "{}");
    write_file(dir.path() / "tokenizer.json", "{}");
    write_file(dir.path() / "a.safetensors", "");
    write_file(dir.path() / "model.safetensors.index.json",
               R"({"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})");
    const HubRequest request{"o/m", "", "", FileSet::model};
    const Selection selection =
        select_files(snapshot_files(dir.path()), request, *parse_repo_name("o/m"), "o/m");
    EXPECT_EQ(missing_from_snapshot(dir.path(), selection, request),
              std::vector<std::string>{"b.safetensors"});
}

TEST(HubEnvironment, ReadLikeHuggingfaceHub) {
    using config::environment_from_map;
    const auto bare = config::hub_environment(environment_from_map({{"HOME", "/h"}}));
    EXPECT_EQ(bare.endpoint, "https://huggingface.co");
    EXPECT_EQ(bare.cache_dir, "/h/.cache/huggingface/hub");
    EXPECT_FALSE(bare.offline);
    EXPECT_EQ(bare.token, "");

    const auto home =
        config::hub_environment(environment_from_map({{"HOME", "/h"},
                                                      {"HF_HOME", "/hf"},
                                                      {"HF_ENDPOINT", "http://127.0.0.1:1/"},
                                                      {"HF_HUB_OFFLINE", "yes"},
                                                      {"HF_TOKEN", " hf_x "}}));
    EXPECT_EQ(home.cache_dir, "/hf/hub");
    EXPECT_EQ(home.endpoint, "http://127.0.0.1:1");
    EXPECT_TRUE(home.offline);
    EXPECT_EQ(home.token, "hf_x");

    const auto cache = config::hub_environment(environment_from_map(
        {{"HF_HOME", "/hf"}, {"HF_HUB_CACHE", "/c"}, {"HF_HUB_OFFLINE", "0"}}));
    EXPECT_EQ(cache.cache_dir, "/c");
    EXPECT_FALSE(cache.offline);
    const auto xdg =
        config::hub_environment(environment_from_map({{"HOME", "/h"}, {"XDG_CACHE_HOME", "/x"}}));
    EXPECT_EQ(xdg.cache_dir, "/x/huggingface/hub");
}

TEST(HubProgress, SizesAsTqdmWritesThem) {
    // tqdm.format_sizeof(n, divisor=1024): 3 significant digits, k/M/G by 1024.
    EXPECT_EQ(progress::format_size(999), "999");
    EXPECT_EQ(progress::format_size(1536), "1.50k");
    EXPECT_EQ(progress::format_size(269060552), "257M");
    EXPECT_EQ(progress::format_size(5.5), "5.50");
}

}  // namespace
}  // namespace ovllm::hub
