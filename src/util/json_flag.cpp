#include "util/json_flag.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.hpp"

namespace ovllm::config {

nlohmann::json parse_flag_object(std::string_view flag, std::string_view text,
                                 std::span<const std::string_view> known_keys) {
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& error) {
        throw_error("{}: not valid JSON: {}", flag, error.what());
    }
    if (!json.is_object()) throw_error("{}: expected a JSON object, got {}", flag, json.dump());
    for (const auto& [key, value] : json.items()) {
        if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end())
            throw_error("{}: unknown key \"{}\" (known: {})", flag, key,
                        fmt::join(known_keys, ", "));
    }
    return json;
}

}  // namespace ovllm::config
