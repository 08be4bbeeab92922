#pragma once
// Errors in the OpenAI `{"error": {...}}` shape, and the JSON reading and writing both the
// request and the response side use.
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ovllm::server {

using nlohmann::json;

// An error answered to the client as-is: HTTP status, OpenAI error type, message and the
// request field it is about (empty = none).
class ApiError : public std::exception {
  public:
    ApiError(int status, std::string type, std::string message, std::string param = {});
    const char* what() const noexcept override { return message_.c_str(); }
    int status() const { return status_; }
    const std::string& type() const { return type_; }
    const std::string& message() const { return message_; }
    const std::string& param() const { return param_; }

  private:
    int status_;
    std::string type_;
    std::string message_;
    std::string param_;
};

ApiError bad_request(std::string message, std::string param = {});  // 400
ApiError not_found(std::string message);                            // 404
ApiError unauthorized();                                            // 401
ApiError service_unavailable(std::string message);                  // 503
ApiError internal_error(std::string message);                       // 500
ApiError model_not_found(std::string_view model);                   // 404, vLLM's text

// {"error": {"message", "type", "param", "code"}}; code is the HTTP status.
json error_json(const ApiError& error);
// Serialises for the wire; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump_json(const json& value);
// Parses a request body; malformed JSON or a non-object -> 400.
json parse_json_body(std::string_view body);

}  // namespace ovllm::server
