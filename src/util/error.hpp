#pragma once
// The one exception type that crosses module boundaries. Its message is meant for the
// user as it is: it names the file, the field or the limit that was wrong.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace ovllm {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// throw_error("{}: missing field '{}'", path, field)
template <typename... Args>
[[noreturn]] void throw_error(fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ovllm
