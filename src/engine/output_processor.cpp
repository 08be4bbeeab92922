#include "engine/output_processor.hpp"

#include <algorithm>
#include <utility>

#include "sampling/stop_checker.hpp"
#include "util/log.hpp"

namespace ovllm::engine {
namespace {

// The detokenizer reads this many prompt ids as context, so the first generated token is
// decoded as it follows the prompt (a leading space stays a space).
constexpr size_t kDetokenizerContextIds = 4;

// One token's logprob entry with its text (empty without a tokenizer).
TokenLogprob token_entry(const tokenizer::Tokenizer* tokenizer, const sampling::LogprobEntry& e) {
    const int64_t one[] = {e.token_id};
    return {e.token_id, e.logprob, e.rank, tokenizer ? tokenizer->decode(one, false) : ""};
}

PositionLogprobs position_entry(const tokenizer::Tokenizer* tokenizer,
                                const sampling::LogprobEntry& chosen,
                                std::span<const sampling::LogprobEntry> top) {
    PositionLogprobs entry;
    entry.chosen = token_entry(tokenizer, chosen);
    for (const sampling::LogprobEntry& e : top) entry.top.push_back(token_entry(tokenizer, e));
    return entry;
}

void append_logprobs(const tokenizer::Tokenizer* tokenizer, Completion& c,
                     const sampling::SampledToken& sampled,
                     std::span<const sampling::LogprobEntry> top) {
    const sampling::LogprobEntry chosen{sampled.token_id, sampled.chosen.logprob,
                                        sampled.chosen.rank};
    c.cumulative_logprob += sampled.chosen.logprob;
    c.logprobs.push_back(position_entry(tokenizer, chosen, top));
}

// Moves `part` into `whole` when `whole` is still empty, else appends a copy.
template <typename T>
void append(std::vector<T>& whole, std::vector<T>&& part) {
    if (whole.empty()) {
        whole = std::move(part);
        return;
    }
    whole.insert(whole.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
}

}  // namespace

OutputProcessor::OutputProcessor(const tokenizer::Tokenizer* tokenizer,
                                 std::vector<int64_t> eos_ids, size_t max_model_len)
    : tokenizer_(tokenizer), eos_ids_(std::move(eos_ids)), max_model_len_(max_model_len) {}

std::unique_ptr<Request> OutputProcessor::make_request(RequestInput input) const {
    auto request = std::make_unique<Request>();
    request->id = std::move(input.id);
    request->prompt = std::move(input.prompt_text);
    request->prompt_ids = std::move(input.prompt_ids);
    request->params = std::move(input.params);
    request->metrics.arrival_time = input.arrival_time;
    const SamplingParams& p = request->params;
    if (tokenizer_) {
        for (const std::string& word : p.bad_words) {
            // A bad word is banned both as written and after a space, as vLLM does.
            request->bad_words_ids.push_back(tokenizer_->encode(word, false));
            request->bad_words_ids.push_back(tokenizer_->encode(" " + word, false));
        }
    }
    request->stop_checker = std::make_unique<sampling::StopChecker>(p, eos_ids_, max_model_len_);
    const std::span<const int64_t> prompt(request->prompt_ids);
    const std::span<const int64_t> context =
        prompt.subspan(prompt.size() - std::min(prompt.size(), kDetokenizerContextIds));
    request->completions.resize(static_cast<size_t>(p.n));
    for (int i = 0; i < p.n; ++i) {
        Completion& c = request->completions[static_cast<size_t>(i)];
        c.index = i;
        if (p.seed) c.rng = sampling::RngState::from_seed(*p.seed + static_cast<uint64_t>(i));
        if (tokenizer_ && p.detokenize) {
            c.detokenizer.emplace(*tokenizer_, p.skip_special_tokens);
            c.detokenizer->prime(context);
        }
    }
    return request;
}

bool OutputProcessor::append_token(Request& request, Completion& c,
                                   const sampling::SampledToken& sampled,
                                   std::span<const sampling::LogprobEntry> top, double now) const {
    const int64_t token = sampled.token_id;
    c.output_ids.push_back(token);
    if (request.metrics.first_token_time == 0.0) request.metrics.first_token_time = now;
    request.metrics.last_token_time = now;
    request.changed = true;
    if (sampled.has_logprobs) append_logprobs(tokenizer_, c, sampled, top);

    const sampling::StopChecker& checker = *request.stop_checker;
    sampling::StopStatus status = checker.check_token(
        token, c.output_ids.size(), request.prompt_ids.size() + c.output_ids.size());
    // A completion that ends on EOS or a stop token does not show that token's text,
    // unless include_stop_str_in_output asks for stop tokens.
    const bool ended_on_token = status.reason == sampling::FinishReason::stop;
    const bool show_token =
        !ended_on_token || (status.stop_token && request.params.include_stop_str_in_output);
    if (c.detokenizer && show_token) {
        const std::string delta = c.detokenizer->step(token);
        c.text += delta;
        if (!ended_on_token && !request.params.stop.empty()) {
            const sampling::StopStatus text_status = checker.check_text(c.text, delta.size());
            if (text_status.finished()) status = text_status;
        }
    }
    if (!status.finished() && (sampled.grammar_terminated || sampled.grammar_rejected)) {
        // The grammar is complete (it accepted its stop token) or allowed nothing at all.
        if (sampled.grammar_rejected)
            OVLLM_WARN("request {}: the grammar allowed no token; the completion ends here",
                       request.id);
        status.reason = sampling::FinishReason::stop;
    }
    if (!status.finished()) return false;
    if (status.stop_token) c.stop_reason_token = status.stop_token;
    if (status.stop_string >= 0)
        c.stop_reason_text = request.params.stop[static_cast<size_t>(status.stop_string)];
    c.finish_reason = std::string(sampling::to_string(status.reason));
    return true;
}

void OutputProcessor::append_prompt_logprobs(Request& request,
                                             const sampling::PromptLogprobs& logprobs) const {
    for (size_t p = 0; p < logprobs.chosen.size(); ++p) {
        request.prompt_logprobs.push_back(
            position_entry(tokenizer_, logprobs.chosen[p], logprobs.top_of(p)));
    }
}

std::optional<RequestOutput> OutputProcessor::make_output(Request& request, double now) const {
    const bool finished = request.finished();
    if (request.params.output_kind == OutputKind::final_only && !finished) return std::nullopt;
    RequestOutput out;
    out.request_id = request.id;
    // The prompt goes out once, in the first output: copying it into every step's output
    // would cost O(prompt) per running request per step.
    if (!request.prompt_reported) {
        out.prompt = request.prompt;
        out.prompt_token_ids = request.prompt_ids;
        // Complete by now: no output comes before the prompt's last position was computed.
        out.prompt_logprobs = request.prompt_logprobs;
        request.prompt_reported = true;
    }
    out.finished = finished;
    out.metrics = request.metrics;
    if (finished) out.metrics.finished_time = now;
    for (Completion& c : request.completions) {
        const bool has_new =
            c.output_ids.size() > c.emitted_ids || (c.finished() && !c.finish_reported);
        if (!has_new) continue;
        // Text that may still turn into a stop string is held back until it cannot.
        const size_t releasable =
            std::max(c.emitted_bytes, request.stop_checker->emittable_bytes(c.text, c.finished()));
        CompletionOutput co;
        co.index = c.index;
        co.finish_reason = c.finish_reason;
        co.stop_reason_text = c.stop_reason_text;
        co.stop_reason_token = c.stop_reason_token;
        co.cumulative_logprob = c.cumulative_logprob;
        co.text = c.text.substr(c.emitted_bytes, releasable - c.emitted_bytes);
        co.token_ids.assign(c.output_ids.begin() + static_cast<std::ptrdiff_t>(c.emitted_ids),
                            c.output_ids.end());
        co.logprobs.assign(c.logprobs.begin() + static_cast<std::ptrdiff_t>(c.emitted_logprobs),
                           c.logprobs.end());
        c.emitted_ids = c.output_ids.size();
        c.emitted_bytes = releasable;
        c.emitted_logprobs = c.logprobs.size();
        c.finish_reported = c.finished();
        out.outputs.push_back(std::move(co));
    }
    return out;
}

std::vector<RequestOutput> OutputProcessor::collect_outputs(RequestMap& requests,
                                                            double now) const {
    std::vector<RequestOutput> outputs;
    for (auto it = requests.begin(); it != requests.end();) {
        Request& request = *it->second;
        if (!request.changed) {
            ++it;
            continue;
        }
        request.changed = false;
        if (std::optional<RequestOutput> out = make_output(request, now))
            outputs.push_back(std::move(*out));
        it = request.finished() ? requests.erase(it) : std::next(it);
    }
    return outputs;
}

void accumulate(RequestOutput& total, RequestOutput&& update) {
    total.request_id = std::move(update.request_id);
    if (!update.prompt_token_ids.empty()) {  // only the first output carries the prompt
        total.prompt = std::move(update.prompt);
        total.prompt_token_ids = std::move(update.prompt_token_ids);
        total.prompt_logprobs = std::move(update.prompt_logprobs);
    }
    total.finished = update.finished;
    total.metrics = update.metrics;
    for (CompletionOutput& part : update.outputs) {
        const auto index = static_cast<size_t>(part.index);
        for (size_t i = total.outputs.size(); i <= index; ++i) {
            total.outputs.emplace_back();
            total.outputs.back().index = static_cast<int>(i);
        }
        CompletionOutput& whole = total.outputs[index];
        whole.text += part.text;
        append(whole.token_ids, std::move(part.token_ids));
        append(whole.logprobs, std::move(part.logprobs));
        whole.cumulative_logprob = part.cumulative_logprob;
        whole.finish_reason = std::move(part.finish_reason);
        whole.stop_reason_text = std::move(part.stop_reason_text);
        whole.stop_reason_token = part.stop_reason_token;
    }
}

}  // namespace ovllm::engine
