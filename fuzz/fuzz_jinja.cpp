// libFuzzer target: random bytes as a Jinja template, parsed and rendered with a small fixed
// chat context (messages with a tool call, tools, special tokens). Syntax and runtime errors
// must be ovllm::Error; nothing else may escape, and the output must be valid UTF-8 whenever
// the template is.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "jinja/jinja.hpp"
#include "util/error.hpp"
#include "util/utf8.hpp"

namespace {

using ovllm::jinja::Value;

// Built for each input: a template may change the lists it is given (list.append).
ovllm::jinja::Variables context() {
    return {
        {"messages", Value::from_json(nlohmann::ordered_json::parse(R"([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Weather in Paris? ünïcödé 🌧"},
            {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
             "function": {"name": "weather", "arguments": {"city": "Paris", "days": 2}}}]},
            {"role": "tool", "content": "{\"temp\": 11.5}"},
            {"role": "assistant", "content": "11.5 °C"}])"))},
        {"tools", Value::from_json(nlohmann::ordered_json::parse(R"([{"type": "function",
            "function": {"name": "weather", "description": "Forecast",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}])"))},
        {"add_generation_prompt", Value(true)},
        {"bos_token", Value("<s>")},
        {"eos_token", Value("</s>")},
    };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string source(reinterpret_cast<const char*>(data), size);
    try {
        const auto tmpl = ovllm::jinja::Template::parse(source, "fuzz.jinja");
        const std::string out = tmpl.render(context());
        const bool utf8_in = ovllm::utf8::first_invalid(source) == std::string::npos;
        if (utf8_in && ovllm::utf8::first_invalid(out) != std::string::npos) std::abort();
    } catch (const ovllm::Error&) {
    }
    return 0;
}
