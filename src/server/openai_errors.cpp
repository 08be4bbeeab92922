#include "server/openai_errors.hpp"

#include <fmt/format.h>

namespace ovllm::server {

ApiError::ApiError(int status, std::string type, std::string message, std::string param)
    : status_(status),
      type_(std::move(type)),
      message_(std::move(message)),
      param_(std::move(param)) {}

ApiError bad_request(std::string message, std::string param) {
    return {400, "BadRequestError", std::move(message), std::move(param)};
}
ApiError not_found(std::string message) {
    return {404, "NotFoundError", std::move(message)};
}
ApiError unauthorized() {
    return {401, "AuthenticationError", "Unauthorized"};
}
ApiError service_unavailable(std::string message) {
    return {503, "ServiceUnavailableError", std::move(message)};
}
ApiError internal_error(std::string message) {
    return {500, "InternalServerError", std::move(message)};
}
ApiError model_not_found(std::string_view model) {
    return {404, "NotFoundError", fmt::format("The model `{}` does not exist.", model), "model"};
}

json error_json(const ApiError& error) {
    json body = {{"message", error.message()},
                 {"type", error.type()},
                 {"param", nullptr},
                 {"code", error.status()}};
    if (!error.param().empty()) body["param"] = error.param();
    return {{"error", std::move(body)}};
}

std::string dump_json(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_json_body(std::string_view body) {
    json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        throw bad_request("Request body is not valid JSON.");
    }
    if (!parsed.is_object()) {
        throw bad_request("Request body must be a JSON object.");
    }
    return parsed;
}

}  // namespace ovllm::server
