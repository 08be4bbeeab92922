// Structured output on a real model (Qwen2.5-Coder-0.5B, greedy): every JSON output parses
// and validates against its schema (checked by the Python `jsonschema` package), and regex,
// choice and EBNF outputs match their form. The schemas are tests/structured_output/schemas.json.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command_runner.hpp"
#include "engine/llm_engine.hpp"
#include "engine/output_processor.hpp"
#include "error_pieces.hpp"
#include "ovllm/llm.hpp"
#include "test_paths.hpp"

namespace ovllm::test {
namespace {

std::filesystem::path qwen_dir() {
    return models_dir() / "qwen2.5-coder-0.5b";
}

LLM& qwen() {
    static LLM llm([] {
        EngineConfig config;
        config.model = qwen_dir().string();
        config.kv_cache_space_gb = 0.5;
        config.max_model_len = 1024;
        return config;
    }());
    return llm;
}

std::string chat_prompt(const std::string& request) {
    return qwen().apply_chat_template({{"user", request}});
}

// Runs every (prompt, params) pair concurrently; returns the texts by request id.
std::map<std::string, RequestOutput> run_all(
    const std::vector<std::pair<std::string, SamplingParams>>& requests) {
    engine::LLMEngine& engine = qwen().engine();
    for (size_t i = 0; i < requests.size(); ++i)
        engine.add_request(std::to_string(i), {requests[i].first, {}}, requests[i].second);
    // step() returns what is new each time; fold it into whole outputs.
    std::map<std::string, RequestOutput> done;
    while (engine.has_unfinished_requests()) {
        for (RequestOutput& out : engine.step()) {
            const std::string id = out.request_id;
            engine::accumulate(done[id], std::move(out));
        }
    }
    return done;
}

SamplingParams constrained(StructuredOutputs so, int max_tokens = 200) {
    SamplingParams params;
    params.temperature = 0.0f;
    params.max_tokens = max_tokens;
    params.structured_outputs = std::move(so);
    return params;
}

class StructuredOutputModel : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(qwen_dir() / "config.json"))
            GTEST_SKIP() << "no " << qwen_dir() << " (scripts/test.sh fetches it)";
    }
};

TEST_F(StructuredOutputModel, JsonOutputsValidateAgainstTheirSchemas) {
    const std::filesystem::path python = source_dir() / ".venv-tools/bin/python";
    if (!std::filesystem::exists(python))
        GTEST_SKIP() << "no " << python << " with jsonschema (scripts/test.sh creates it)";
    std::ifstream file(source_dir() / "tests/structured_output/schemas.json");
    // ordered_json: the schema text keeps its property order, which the output follows.
    const nlohmann::ordered_json cases = nlohmann::ordered_json::parse(file);
    std::vector<std::pair<std::string, SamplingParams>> requests;
    for (const nlohmann::ordered_json& c : cases) {
        StructuredOutputs so;
        so.json = c.at("schema").dump();
        requests.emplace_back(
            chat_prompt("Reply with JSON only: " + c.at("task").get<std::string>() + "."),
            constrained(std::move(so)));
    }
    const auto done = run_all(requests);
    ASSERT_EQ(done.size(), cases.size());

    const std::filesystem::path results =
        std::filesystem::temp_directory_path() / "ovllm_structured_outputs.jsonl";
    {
        std::ofstream out(results);
        for (size_t i = 0; i < cases.size(); ++i) {
            const CompletionOutput& c = done.at(std::to_string(i)).outputs.at(0);
            // The grammar ends the output: stop, never the length limit.
            EXPECT_EQ(c.finish_reason, "stop") << cases[i].at("name") << ": " << c.text;
            out << nlohmann::ordered_json{{"name", cases[i].at("name")},
                                          {"schema", cases[i].at("schema")},
                                          {"text", c.text}}
                       .dump()
                << "\n";
        }
    }
    const CommandResult check =
        run_command(python.string() + " " +
                    (source_dir() / "tests/structured_output/validate_json.py").string() + " " +
                    results.string());
    EXPECT_EQ(check.status, 0) << check.out;
    EXPECT_NE(check.out.find(std::to_string(cases.size()) + "/" + std::to_string(cases.size()) +
                             " outputs valid"),
              std::string::npos)
        << check.out;
}

TEST_F(StructuredOutputModel, RegexChoiceAndGrammarOutputsMatch) {
    StructuredOutputs regex, choice, grammar;
    regex.regex = "[0-9]{3}-[0-9]{4}";
    choice.choice = std::vector<std::string>{"Positive", "Negative", "Neutral"};
    grammar.grammar = R"(root ::= "SELECT " column (", " column)* " FROM " table ";"
column ::= "id" | "name" | "price"
table ::= "products" | "users")";
    const auto done = run_all({
        {chat_prompt("Give a phone extension."), constrained(regex)},
        {chat_prompt("Sentiment of 'I love this phone'?"), constrained(choice)},
        {chat_prompt("Write SQL to list product names and prices."), constrained(grammar)},
    });
    const std::string phone = done.at("0").outputs.at(0).text;
    EXPECT_TRUE(std::regex_match(phone, std::regex("[0-9]{3}-[0-9]{4}"))) << phone;
    const std::string sentiment = done.at("1").outputs.at(0).text;
    EXPECT_TRUE(sentiment == "Positive" || sentiment == "Negative" || sentiment == "Neutral")
        << sentiment;
    const std::string sql = done.at("2").outputs.at(0).text;
    EXPECT_TRUE(std::regex_match(
        sql, std::regex("SELECT (id|name|price)(, (id|name|price))* FROM (products|users);")))
        << sql;
    for (const auto& [id, out] : done) EXPECT_EQ(out.outputs.at(0).finish_reason, "stop") << id;
}

TEST_F(StructuredOutputModel, InvalidSchemaIsRefusedAtAddRequest) {
    StructuredOutputs so;
    so.json =
        R"({"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": true}}})";
    expect_error(
        [&] {
            qwen().engine().add_request("bad", {"x", {}}, constrained(std::move(so)));
        },
        {"request bad", "$.properties.tags", "'uniqueItems' is not supported"});
    EXPECT_FALSE(qwen().engine().has_unfinished_requests());
}

}  // namespace
}  // namespace ovllm::test
