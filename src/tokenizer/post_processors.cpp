#include "tokenizer/post_processors.hpp"

#include <string>

namespace ovllm::tokenizer {

namespace {

// The ids to emit before and after the sequence.
class Wrap final : public PostProcessor {
  public:
    Wrap(std::vector<int64_t> before, std::vector<int64_t> after)
        : before_(std::move(before)), after_(std::move(after)) {}
    void process(std::vector<int64_t>& ids) const override {
        ids.insert(ids.begin(), before_.begin(), before_.end());
        ids.insert(ids.end(), after_.begin(), after_.end());
    }

  private:
    std::vector<int64_t> before_;
    std::vector<int64_t> after_;
};

class Identity final : public PostProcessor {
  public:
    void process(std::vector<int64_t>& /*ids*/) const override {}
};

class Sequence final : public PostProcessor {
  public:
    explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps)
        : steps_(std::move(steps)) {}
    void process(std::vector<int64_t>& ids) const override {
        for (const auto& step : steps_) step->process(ids);
    }

  private:
    std::vector<std::unique_ptr<PostProcessor>> steps_;
};

std::vector<int64_t> special_ids(const Json& specials, const JsonPath& at,
                                 const std::string& name) {
    const Json* entry = json_find(specials, name);
    if (entry == nullptr) json_fail(at, "special token '" + name + "' is not in special_tokens");
    const JsonPath where = at / name;
    const Json& ids = json_array(*entry, where, "ids");
    std::vector<int64_t> out;
    for (size_t i = 0; i < ids.size(); ++i) out.push_back(json_int(ids[i], (where / "ids")[i]));
    return out;
}

std::unique_ptr<PostProcessor> make_template(const Json& node, const JsonPath& at) {
    const Json& single = json_array(node, at, "single");
    const Json* specials = json_find(node, "special_tokens");
    const Json empty = Json::object();
    std::vector<int64_t> before;
    std::vector<int64_t> after;
    bool seen_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
        const JsonPath where = (at / "single")[i];
        if (const Json* special = json_find(single[i], "SpecialToken")) {
            const std::string name = json_string(*special, where / "SpecialToken", "id");
            const auto ids = special_ids(specials ? *specials : empty, at / "special_tokens", name);
            auto& target = seen_sequence ? after : before;
            target.insert(target.end(), ids.begin(), ids.end());
        } else if (json_find(single[i], "Sequence") != nullptr) {
            if (seen_sequence) json_fail(where, "a single template holds one sequence");
            seen_sequence = true;
        } else {
            json_fail(where, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
        }
    }
    return std::make_unique<Wrap>(std::move(before), std::move(after));
}

int64_t pair_id(const Json& node, const JsonPath& at, std::string_view key) {
    const Json& pair = json_member(node, at, key);
    if (!pair.is_array() || pair.size() != 2) json_fail(at / key, "expected [token, id]");
    return json_int(pair[1], (at / key)[1]);
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& node, const JsonPath& at) {
    const std::string type = json_string(node, at, "type");
    if (type == "TemplateProcessing") return make_template(node, at);
    if (type == "ByteLevel") return std::make_unique<Identity>();
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        return std::make_unique<Wrap>(std::vector<int64_t>{pair_id(node, at, "cls")},
                                      std::vector<int64_t>{pair_id(node, at, "sep")});
    }
    if (type == "Sequence") {
        const Json& list = json_array(node, at, "processors");
        std::vector<std::unique_ptr<PostProcessor>> steps;
        for (size_t i = 0; i < list.size(); ++i) {
            steps.push_back(make_post_processor(list[i], (at / "processors")[i]));
        }
        return std::make_unique<Sequence>(std::move(steps));
    }
    json_fail(at / "type", "unknown post-processor type '" + type + "'");
}

}  // namespace ovllm::tokenizer
