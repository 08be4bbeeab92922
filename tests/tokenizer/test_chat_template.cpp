// Chat templates against transformers' apply_chat_template renderings (golden/chat/*.jsonl).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_paths.hpp"
#include "tokenizer/chat_template.hpp"
#include "util/error.hpp"

namespace ovllm {
namespace {

using json = nlohmann::ordered_json;

std::vector<json> read_cases(const std::string& name) {
    std::ifstream in(test::golden_dir() / "chat" / (name + ".jsonl"));
    EXPECT_TRUE(in.good()) << name;
    std::vector<json> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) cases.push_back(json::parse(line));
    }
    return cases;
}

void check_golden(const std::string& name) {
    const ChatTemplate tmpl = ChatTemplate::load(test::golden_dir() / "tokenizers" / name);
    ASSERT_TRUE(tmpl.has_template());
    const std::vector<json> cases = read_cases(name);
    ASSERT_EQ(cases.size(), 30u);
    int matched = 0;
    for (const json& c : cases) {
        ChatRenderOptions options;
        options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
        options.continue_final_message = c["continue_final_message"].get<bool>();
        if (c.contains("tools")) options.tools = c["tools"];
        std::string rendered;
        try {
            rendered = tmpl.render(c["messages"], options);
        } catch (const Error& e) {
            ADD_FAILURE() << name << " " << c["id"] << ": " << e.what();
            continue;
        }
        EXPECT_EQ(rendered, c["rendered"].get<std::string>()) << name << " case " << c["id"];
        matched += rendered == c["rendered"].get<std::string>();
    }
    EXPECT_EQ(matched, 30);
}

TEST(ChatTemplateGolden, SmolLM2AllCases) {
    check_golden("smollm2");
}
TEST(ChatTemplateGolden, Qwen25AllCases) {
    check_golden("qwen2.5");
}

TEST(ChatTemplateGolden, SpecialTokensFromConfig) {
    const ChatTemplate smol = ChatTemplate::load(test::golden_dir() / "tokenizers" / "smollm2");
    EXPECT_EQ(smol.special_tokens().bos_token.value_or("-"), "<|im_start|>");
    EXPECT_EQ(smol.special_tokens().eos_token.value_or("-"), "<|im_end|>");
    EXPECT_EQ(smol.special_tokens().unk_token.value_or("-"), "<|endoftext|>");
    EXPECT_EQ(smol.special_tokens().pad_token.value_or("-"), "<|im_end|>");
    const ChatTemplate qwen = ChatTemplate::load(test::golden_dir() / "tokenizers" / "qwen2.5");
    EXPECT_FALSE(qwen.special_tokens().bos_token.has_value());
    EXPECT_EQ(qwen.special_tokens().eos_token.value_or("-"), "<|endoftext|>");
}

class TempDir {
  public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("ovllm_chat_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }
    void write(const std::string& file, const std::string& text) const {
        std::ofstream(path_ / file, std::ios::binary) << text;
    }

  private:
    std::filesystem::path path_;
};

const json kMessages = json::parse(R"([{"role": "user", "content": "hi"}])");

TEST(ChatTemplateLoad, ConfigStringTemplateAndTokenObjects) {
    TempDir dir;
    dir.write(
        "tokenizer_config.json",
        R"({"chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}",
                  "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null})");
    const ChatTemplate tmpl = ChatTemplate::load(dir.path());
    ASSERT_TRUE(tmpl.has_template());
    EXPECT_FALSE(tmpl.special_tokens().pad_token.has_value());
    EXPECT_EQ(tmpl.render(kMessages, {}), "<s>hi</s>");
}

TEST(ChatTemplateLoad, NamedTemplatesPickToolUseWhenToolsGiven) {
    TempDir dir;
    dir.write("tokenizer_config.json",
              R"({"chat_template": [{"name": "default", "template": "plain"},
                                    {"name": "tool_use", "template": "tools={{ tools | length }}"}]})");
    const ChatTemplate tmpl = ChatTemplate::load(dir.path());
    EXPECT_EQ(tmpl.render(kMessages, {}), "plain");
    ChatRenderOptions options;
    options.tools = json::parse(R"([{"type": "function"}])");
    EXPECT_EQ(tmpl.render(kMessages, options), "tools=1");
}

TEST(ChatTemplateLoad, JinjaFileWinsOverConfig) {
    TempDir dir;
    dir.write("tokenizer_config.json", R"({"chat_template": "from config"})");
    dir.write("chat_template.jinja", "from file\n");
    EXPECT_EQ(ChatTemplate::load(dir.path()).render(kMessages, {}), "from file");
}

TEST(ChatTemplateLoad, FolderWithoutTemplate) {
    TempDir dir;
    dir.write("tokenizer_config.json", R"({"eos_token": "</s>"})");
    const ChatTemplate tmpl = ChatTemplate::load(dir.path());
    EXPECT_FALSE(tmpl.has_template());
    try {
        tmpl.render(kMessages, {});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir.path().string() + " has no chat template");
    }
}

TEST(ChatTemplateLoad, SyntaxErrorNamesTheFile) {
    TempDir dir;
    dir.write("chat_template.jinja", "line one\n{% for m in messages %}\n  {% endif %}");
    try {
        ChatTemplate::load(dir.path());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  (dir.path() / "chat_template.jinja").string() + ":3:6: unexpected 'endif'");
    }
}

TEST(ChatTemplateRender, KwargsAndDocumentsReachTheTemplate) {
    const ChatTemplate tmpl = ChatTemplate::from_string(
        "{{ enable_thinking }}|{{ documents[0].title }}|{{ eos_token }}|{{ tools }}",
        ChatSpecialTokens{std::nullopt, "</s>", std::nullopt, std::nullopt, {}});
    ChatRenderOptions options;
    options.documents = json::parse(R"([{"title": "doc"}])");
    options.chat_template_kwargs = json::parse(R"({"enable_thinking": false, "eos_token": "E"})");
    EXPECT_EQ(tmpl.render(kMessages, options), "False|doc|E|None");
}

TEST(ChatTemplateRender, ContinueFinalMessageWithTrimmingTemplate) {
    const ChatTemplate tmpl =
        ChatTemplate::from_string("{% for m in messages %}[{{ m.content | trim }}]{% endfor %}");
    ChatRenderOptions options;
    options.continue_final_message = true;
    const json messages = json::parse(
        R"([{"role": "user", "content": "q"}, {"role": "assistant", "content": "ans  "}])");
    EXPECT_EQ(tmpl.render(messages, options), "[q][ans");
}

TEST(ChatTemplateRender, ContinueFinalMessageWithContentBlocks) {
    const ChatTemplate tmpl = ChatTemplate::from_string(
        "{% for m in messages %}{% for b in m.content %}<{{ b.text }}>{% endfor %}{% endfor %}");
    ChatRenderOptions options;
    options.continue_final_message = true;
    const json messages = json::parse(
        R"([{"role": "assistant", "content": [{"type": "text", "text": "a "}, {"type": "image"}]}])");
    EXPECT_EQ(tmpl.render(messages, options), "<a ");
}

TEST(ChatTemplateRender, ContinueFinalMessageAndGenerationPromptConflict) {
    const ChatTemplate tmpl = ChatTemplate::from_string("x");
    ChatRenderOptions options;
    options.continue_final_message = true;
    options.add_generation_prompt = true;
    EXPECT_THROW(tmpl.render(kMessages, options), Error);
}

TEST(ChatTemplateRender, RaiseExceptionMessageIsKept) {
    const ChatTemplate tmpl = ChatTemplate::from_string(
        "{% if messages[0].role != 'system' %}{{ raise_exception('System message required') }}{% "
        "endif %}");
    try {
        tmpl.render(kMessages, {});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "System message required");
    }
}

}  // namespace
}  // namespace ovllm
