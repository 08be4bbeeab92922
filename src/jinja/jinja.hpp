#pragma once
// A Jinja2 subset that renders Hugging Face chat templates exactly as transformers does:
// Jinja2's ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with loop
// controls, transformers' tojson, and the globals raise_exception and strftime_now.
//
//   auto tmpl = jinja::Template::parse(text, "chat_template.jinja");
//   std::string out = tmpl.render({{"messages", jinja::Value::from_json(messages)}});
//
// Syntax and runtime errors are ovllm::Error "<name>:<line>:<column>: <message>";
// raise_exception(msg) in the template throws ovllm::Error whose message is msg itself.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.hpp"

namespace ovllm::jinja {

struct Node;
using Variables = std::vector<std::pair<std::string, Value>>;

class Template {
  public:
    // Parses `source`; `name` prefixes error messages.
    static Template parse(const std::string& source, std::string name = "chat template");

    // Renders with `variables` on top of the built-in globals (range, namespace, dict,
    // raise_exception, strftime_now). Safe to call from several threads at once.
    std::string render(const Variables& variables) const;

    const std::string& name() const { return name_; }

  private:
    Template(std::shared_ptr<const std::vector<std::unique_ptr<Node>>> body, std::string name);

    std::shared_ptr<const std::vector<std::unique_ptr<Node>>> body_;
    std::string name_;
};

}  // namespace ovllm::jinja
