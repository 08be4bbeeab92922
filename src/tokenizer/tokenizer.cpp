#include "tokenizer/tokenizer.hpp"

#include "tokenizer/added_tokens.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/fast_json.hpp"
#include "tokenizer/json_util.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/post_processors.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/utf8.hpp"
#include "util/file.hpp"

namespace ovllm::tokenizer {

namespace {

constexpr uint8_t kKnown = 1;
constexpr uint8_t kSpecial = 2;

}  // namespace

struct Tokenizer::Impl {
    std::optional<BpeModel> model;
    std::unique_ptr<Normalizer> normalizer;
    std::unique_ptr<PreTokenizer> pre_tokenizer;
    std::unique_ptr<PostProcessor> post_processor;
    std::unique_ptr<Decoder> decoder;
    AddedVocabulary added;
    std::vector<std::string> id_to_token;     // [id] -> token (added tokens override the model)
    std::vector<uint8_t> flags;               // [id] -> kKnown | kSpecial
    std::vector<std::string> byte_level_ids;  // [id] -> bytes, when the decoder is ByteLevel
    Vocab added_by_content;
    std::optional<NamedToken> bos, eos, pad, unk;

    void encode_text(std::string_view text, bool at_text_start, std::vector<int64_t>& ids) const;
    void encode_normalized(std::string_view text, bool at_text_start,
                           std::vector<int64_t>& ids) const;
    void build_id_tables();
};

void Tokenizer::Impl::encode_normalized(std::string_view text, bool at_text_start,
                                        std::vector<int64_t>& ids) const {
    if (text.empty()) return;
    std::vector<std::string> pieces{std::string(text)};
    if (pre_tokenizer) pre_tokenizer->split(pieces, at_text_start);
    for (const std::string& piece : pieces) model->tokenize(piece, ids);
}

void Tokenizer::Impl::encode_text(std::string_view text, bool at_text_start,
                                  std::vector<int64_t>& ids) const {
    if (text.empty()) return;
    std::string normalized(text);
    if (normalizer) normalizer->normalize(normalized);
    if (!added.has_normalized()) {
        encode_normalized(normalized, at_text_start, ids);
        return;
    }
    std::vector<Segment> segments;
    added.split(normalized, true, segments);
    for (const Segment& s : segments) {
        if (s.id >= 0) {
            ids.push_back(s.id);
        } else {
            encode_normalized(std::string_view(normalized).substr(s.begin, s.end - s.begin),
                              at_text_start && s.begin == 0, ids);
        }
    }
}

void Tokenizer::Impl::build_id_tables() {
    id_to_token = model->tokens();
    flags.assign(id_to_token.size(), 0);
    for (size_t id = 0; id < flags.size(); ++id)
        flags[id] = model->has_id(static_cast<int64_t>(id)) ? kKnown : 0;
    for (const AddedToken& token : added.tokens()) {
        const auto id = static_cast<size_t>(token.id);
        if (id >= id_to_token.size()) {
            id_to_token.resize(id + 1);
            flags.resize(id + 1, 0);
        }
        id_to_token[id] = token.content;
        flags[id] = kKnown | (token.special ? kSpecial : 0);
        added_by_content.emplace(token.content, static_cast<int32_t>(token.id));
    }
    if (decoder && decoder->is_byte_level()) {
        byte_level_ids.resize(id_to_token.size());
        for (size_t id = 0; id < id_to_token.size(); ++id) {
            if (!byte_level::decode(id_to_token[id], byte_level_ids[id])) {
                byte_level_ids[id] = id_to_token[id];
            }
        }
    }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_json_text(std::string_view tokenizer_json, std::string_view name) {
    const std::string file(name);
    TokenizerJson parsed = parse_tokenizer_json(tokenizer_json, file);
    const Json& root = parsed.root;
    const JsonPath top{file, ""};
    if (!root.is_object()) json_fail(top, "expected a JSON object at the top level");
    auto impl = std::make_unique<Impl>();

    const Json& model = json_member(root, top, "model");
    const std::string type = json_string_or(model, top / "model", "type", "BPE");
    if (type == "WordPiece" || type == "Unigram" || type == "WordLevel") {
        throw_error("{}: model.type: not supported yet: {}", file, type);
    }
    if (type != "BPE") json_fail(top / "model" / "type", "unknown model type '" + type + "'");
    if (!parsed.has_vocab) json_fail(top / "model" / "vocab", "expected an object of token: id");
    if (!parsed.has_merges) json_array(model, top / "model", "merges");  // names the problem
    impl->model.emplace(BpeModel::build(model, parsed.vocab, parsed.merges, top / "model"));
    parsed.vocab = {};
    parsed.merges = {};

    if (const Json* node = json_find(root, "normalizer"))
        impl->normalizer = make_normalizer(*node, top / "normalizer");
    if (const Json* node = json_find(root, "pre_tokenizer")) {
        impl->pre_tokenizer = make_pre_tokenizer(*node, top / "pre_tokenizer");
    }
    if (const Json* node = json_find(root, "post_processor")) {
        impl->post_processor = make_post_processor(*node, top / "post_processor");
    }
    if (const Json* node = json_find(root, "decoder"))
        impl->decoder = make_decoder(*node, top / "decoder");

    std::vector<AddedToken> added;
    if (const Json* node = json_find(root, "added_tokens"))
        added = parse_added_tokens(*node, top / "added_tokens");
    const Normalizer* normalizer = impl->normalizer.get();
    impl->added.build(std::move(added), [normalizer](std::string content) {
        if (normalizer != nullptr) normalizer->normalize(content);
        return content;
    });
    impl->build_id_tables();
    return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json,
                               const std::filesystem::path& config) {
    Tokenizer tokenizer = from_json_text(util::read_file(tokenizer_json), tokenizer_json.string());
    if (!config.empty()) tokenizer.load_config(config);
    return tokenizer;
}

Tokenizer Tokenizer::from_folder(const std::filesystem::path& dir) {
    const auto file = dir / "tokenizer.json";
    if (!std::filesystem::exists(file))
        throw_error("{}: no tokenizer.json in this folder", dir.string());
    const auto config = dir / "tokenizer_config.json";
    return from_file(file, std::filesystem::exists(config) ? config : std::filesystem::path{});
}

void Tokenizer::load_config(const std::filesystem::path& config) {
    const std::string file = config.string();
    const Json root = parse_json_document(util::read_file(config), file);
    const JsonPath top{file, ""};
    if (!root.is_object()) json_fail(top, "expected a JSON object at the top level");
    const auto named = [&](std::string_view key) -> std::optional<NamedToken> {
        const Json* value = json_find(root, key);
        if (value == nullptr) return std::nullopt;
        NamedToken token;
        if (value->is_string()) {
            token.content = value->get<std::string>();
        } else if (value->is_object()) {
            token.content = json_string(*value, top / key, "content");
        } else {
            json_fail(top / key, "expected a string or {\"content\": ...}");
        }
        token.id = token_to_id(token.content);
        return token;
    };
    impl_->bos = named("bos_token");
    impl_->eos = named("eos_token");
    impl_->pad = named("pad_token");
    impl_->unk = named("unk_token");
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    if (const size_t bad = utf8::first_invalid(text); bad != std::string_view::npos) {
        throw_error("tokenizer: input text is not valid UTF-8 (byte offset {})", bad);
    }
    std::vector<int64_t> ids;
    ids.reserve(text.size() / 3 + 4);
    std::vector<Segment> segments;
    impl_->added.split(text, false, segments);
    for (const Segment& s : segments) {
        if (s.id >= 0) {
            ids.push_back(s.id);
        } else {
            impl_->encode_text(text.substr(s.begin, s.end - s.begin), s.begin == 0, ids);
        }
    }
    if (add_special_tokens && impl_->post_processor) impl_->post_processor->process(ids);
    return ids;
}

std::string Tokenizer::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
    const auto wanted = [&](int64_t id) {
        if (id < 0 || static_cast<size_t>(id) >= impl_->flags.size()) return false;
        const uint8_t f = impl_->flags[static_cast<size_t>(id)];
        return (f & kKnown) != 0 && !(skip_special_tokens && (f & kSpecial) != 0);
    };
    if (!impl_->byte_level_ids.empty()) {
        std::string bytes;
        for (const int64_t id : ids) {
            if (wanted(id)) bytes.append(impl_->byte_level_ids[static_cast<size_t>(id)]);
        }
        std::string text;
        text.reserve(bytes.size());
        utf8::append_lossy(text, bytes);
        return text;
    }
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int64_t id : ids) {
        if (wanted(id)) tokens.push_back(impl_->id_to_token[static_cast<size_t>(id)]);
    }
    std::string text;
    if (impl_->decoder) {
        impl_->decoder->decode_chain(tokens);
        for (const std::string& t : tokens) text.append(t);
        return text;
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (i > 0) text.push_back(' ');
        text.append(tokens[i]);
    }
    return text;
}

std::optional<std::string_view> Tokenizer::id_to_token(int64_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= impl_->flags.size() ||
        impl_->flags[static_cast<size_t>(id)] == 0) {
        return std::nullopt;
    }
    return impl_->id_to_token[static_cast<size_t>(id)];
}

std::optional<int64_t> Tokenizer::token_to_id(std::string_view token) const {
    if (const auto it = impl_->added_by_content.find(token); it != impl_->added_by_content.end()) {
        return it->second;
    }
    if (const auto id = impl_->model->token_to_id(token)) return *id;
    return std::nullopt;
}

size_t Tokenizer::vocab_size() const {
    return impl_->flags.size();
}

bool Tokenizer::is_special(int64_t id) const {
    return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() &&
           (impl_->flags[static_cast<size_t>(id)] & kSpecial) != 0;
}

const std::optional<NamedToken>& Tokenizer::bos_token() const {
    return impl_->bos;
}
const std::optional<NamedToken>& Tokenizer::eos_token() const {
    return impl_->eos;
}
const std::optional<NamedToken>& Tokenizer::pad_token() const {
    return impl_->pad;
}
const std::optional<NamedToken>& Tokenizer::unk_token() const {
    return impl_->unk;
}

namespace {
std::optional<int64_t> id_of(const std::optional<NamedToken>& token) {
    return token ? token->id : std::nullopt;
}
}  // namespace

std::optional<int64_t> Tokenizer::bos_token_id() const {
    return id_of(impl_->bos);
}
std::optional<int64_t> Tokenizer::eos_token_id() const {
    return id_of(impl_->eos);
}
std::optional<int64_t> Tokenizer::pad_token_id() const {
    return id_of(impl_->pad);
}

}  // namespace ovllm::tokenizer
