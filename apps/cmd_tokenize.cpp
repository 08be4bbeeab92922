// `ovllm tokenize` and `ovllm detokenize`: the model folder's tokenizer on the command line.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hub_models.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/cli_flags.hpp"
#include "util/error.hpp"

namespace ovllm::cli {

namespace {

struct TokenizeOptions {
    std::string model;
    std::string revision;                // a hub name's branch, tag or commit
    std::vector<std::string> arguments;  // [MODEL] TEXT
    std::string text;
    std::string jsonl;
    bool add_special_tokens = false;
};

struct DetokenizeOptions {
    std::string model;
    std::string revision;
    std::vector<std::string> arguments;  // [MODEL] IDS
    std::string ids;
    bool skip_special_tokens = false;
};

void print_ids(const std::vector<int64_t>& ids) {
    std::string line = nlohmann::json(ids).dump();
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
}

// `ovllm tokenize M TEXT` or `ovllm tokenize --model M TEXT`: the model comes first when
// --model is absent. Fills `model` and returns the remaining arguments.
std::vector<std::string> take_model(const std::string& command, std::string& model,
                                    std::vector<std::string> arguments, size_t wanted) {
    if (model.empty()) {
        if (arguments.empty()) {
            throw_error("no model: run `ovllm {} MODEL ...` or `ovllm {} --model MODEL ...`",
                        command, command);
        }
        model = arguments.front();
        arguments.erase(arguments.begin());
    }
    if (arguments.size() > wanted) {
        throw_error("{}: unexpected argument '{}'", command, arguments[wanted]);
    }
    return arguments;
}

int run_tokenize(TokenizeOptions& opt) {
    const std::vector<std::string> rest = take_model("tokenize", opt.model, opt.arguments, 1);
    if (!rest.empty()) opt.text = rest.front();
    const auto tok = tokenizer::Tokenizer::from_folder(
        resolve_hub_model(opt.model, opt.revision, "", hub::FileSet::tokenizer));
    if (opt.jsonl.empty()) {
        print_ids(tok.encode(opt.text, opt.add_special_tokens));
        return 0;
    }
    std::ifstream in(opt.jsonl);
    if (!in) throw_error("{}: cannot open file", opt.jsonl);
    std::string line;
    size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        nlohmann::json row;
        try {
            row = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw_error("{}:{}: invalid JSON: {}", opt.jsonl, number, e.what());
        }
        if (!row.is_object() || !row.contains("text") || !row["text"].is_string()) {
            throw_error("{}:{}: expected {{\"text\": \"...\"}}", opt.jsonl, number);
        }
        print_ids(tok.encode(row["text"].get<std::string>(), opt.add_special_tokens));
    }
    return 0;
}

std::vector<int64_t> parse_ids(const std::string& text) {
    std::vector<int64_t> ids;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        size_t used = 0;
        int64_t id = 0;
        try {
            id = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || item.find_first_not_of(" ", used) != std::string::npos) {
            throw_error("detokenize: '{}' is not a token id (expected a list like 1,2,3)", item);
        }
        ids.push_back(id);
        pos = comma + 1;
    }
    return ids;
}

int run_detokenize(DetokenizeOptions& opt) {
    const std::vector<std::string> rest = take_model("detokenize", opt.model, opt.arguments, 1);
    if (rest.empty()) throw_error("detokenize: no token ids given (e.g. 1,2,3)");
    opt.ids = rest.front();
    const auto tok = tokenizer::Tokenizer::from_folder(
        resolve_hub_model(opt.model, opt.revision, "", hub::FileSet::tokenizer));
    const std::vector<int64_t> ids = parse_ids(opt.ids);
    for (const int64_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size() || !tok.id_to_token(id)) {
            throw_error("detokenize: token id {} is not in the vocabulary of {} ({} tokens)", id,
                        opt.model, tok.vocab_size());
        }
    }
    std::string text = tok.decode(ids, opt.skip_special_tokens);
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
    auto opt = std::make_shared<TokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
    cmd->add_option("--model,--tokenizer", opt->model,
                    "Model folder holding tokenizer.json, or a hub name");
    config::add_value_flag(*cmd, "revision", opt->revision, "Branch, tag or commit of a hub name");
    cmd->add_flag("--add-special-tokens", opt->add_special_tokens,
                  "Let the post-processor add BOS/EOS as the model expects");
    cmd->add_option("--jsonl", opt->jsonl,
                    "File with one {\"text\": ...} per line; prints one array per line");
    cmd->add_option("arguments", opt->arguments, "[MODEL] TEXT: the model unless --model");
    return [opt] { return run_tokenize(*opt); };
}

Command add_detokenize_command(CLI::App& app) {
    auto opt = std::make_shared<DetokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("detokenize", "Print the text of comma-separated token ids");
    cmd->add_option("--model,--tokenizer", opt->model,
                    "Model folder holding tokenizer.json, or a hub name");
    config::add_value_flag(*cmd, "revision", opt->revision, "Branch, tag or commit of a hub name");
    cmd->add_flag("--skip-special-tokens", opt->skip_special_tokens, "Leave special tokens out");
    cmd->add_option("arguments", opt->arguments,
                    "[MODEL] IDS (e.g. 1,2,3): the model unless --model");
    return [opt] { return run_detokenize(*opt); };
}

}  // namespace ovllm::cli
