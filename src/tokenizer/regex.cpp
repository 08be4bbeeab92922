#include "tokenizer/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/error.hpp"
#include "util/utf8.hpp"

namespace ovllm::tokenizer {

namespace {

// Unicode White_Space, the meaning of \s for Oniguruma and Rust; PCRE2's own \s with UCP also
// takes U+180E, so it is spelled out.
constexpr std::string_view kSpaceRanges =
    "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
    "\\x{3000}";

struct ThreadMatchState {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* stack = nullptr;

    ThreadMatchState() {
        data = pcre2_match_data_create(1, nullptr);
        context = pcre2_match_context_create(nullptr);
        stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
        if (context != nullptr && stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~ThreadMatchState() {
        pcre2_jit_stack_free(stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
    ThreadMatchState(const ThreadMatchState&) = delete;
    ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& match_state() {
    thread_local ThreadMatchState state;
    return state;
}

}  // namespace

struct Regex::Impl {
    pcre2_code* code = nullptr;
    ~Impl() { pcre2_code_free(code); }
};

std::string Regex::translate(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char e = pattern[i + 1];
            ++i;
            if (e == 's') {
                if (in_class) {
                    out.append(kSpaceRanges);
                } else {
                    out.append("[").append(kSpaceRanges).append("]");
                }
            } else if (e == 'S' && !in_class) {
                out.append("[^").append(kSpaceRanges).append("]");
            } else {
                out.push_back('\\');
                out.push_back(e);
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out.push_back(c);
            // A ']' right after '[' or '[^' is a literal member.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') out.push_back(pattern[++i]);
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') out.push_back(pattern[++i]);
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out.push_back(c);
    }
    return out;
}

Regex::Regex(std::string_view pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
    const std::string translated = translate(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (impl_->code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof(message));
        throw_error("{}: cannot compile regex '{}' at offset {}: {}", where, pattern, offset,
                    reinterpret_cast<const char*>(message));
    }
    // Without JIT (unsupported platform) the interpreter still gives the same matches.
    pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, std::vector<Span>& out) const {
    ThreadMatchState& state = match_state();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t start = 0;
    while (start <= text.size()) {
        const int rc = pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                   state.data, state.context);
        if (rc == PCRE2_ERROR_NOMATCH) return;
        if (rc < 0) throw_error("regex match failed with PCRE2 error {}", rc);
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
        const auto begin = static_cast<uint32_t>(ovector[0]);
        const auto end = static_cast<uint32_t>(ovector[1]);
        if (end > begin) {
            out.push_back({begin, end});
            start = end;
        } else {
            // An empty match: step one character so the scan moves on.
            if (begin >= text.size()) return;
            start = begin + utf8::sequence_length(static_cast<unsigned char>(text[begin]));
        }
    }
}

}  // namespace ovllm::tokenizer
