#include "hub/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <curl/curl.h>

#include "ovllm/version.hpp"
#include "util/error.hpp"

namespace ovllm::hub {
namespace {

constexpr long kConnectTimeout_s = 10;
// A transfer slower than 1 byte/s for 60 s is treated as dead (then retried by the caller).
constexpr long kLowSpeedLimit_bytes_per_s = 1;
constexpr long kLowSpeedTime_s = 60;
constexpr long kMaxRedirects = 10;                 // as browsers and huggingface_hub allow
constexpr size_t kMaxErrorBody_bytes = 64 * 1024;  // an error page is kept for its message

std::string to_lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// Initialises libcurl once per process (curl_global_init is not thread-safe to repeat).
void global_init() {
    static const bool done = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)done;
}

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// State shared with libcurl's callbacks during one transfer.
struct Transfer {
    CURL* curl = nullptr;
    HttpResponse* response = nullptr;
    const ChunkCallback* on_chunk = nullptr;
    const ProgressCallback* on_progress = nullptr;
    int64_t received = 0;
};

bool is_success(long status) {
    return status >= 200 && status < 300;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::string line(data, size * count);
    if (line.starts_with("HTTP/")) {
        transfer.response->headers.clear();  // a new response after a redirect
    } else if (const auto colon = line.find(':'); colon != std::string::npos) {
        transfer.response->headers[to_lower(trim(line.substr(0, colon)))] =
            trim(line.substr(colon + 1));
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const size_t bytes = size * count;
    long status = 0;
    curl_easy_getinfo(transfer.curl, CURLINFO_RESPONSE_CODE, &status);
    HttpResponse& response = *transfer.response;
    const bool html = response.header("content-type").find("text/html") != std::string::npos;
    if (transfer.on_chunk && is_success(status) && !html) {
        (*transfer.on_chunk)(status, data, bytes);
        transfer.received += static_cast<int64_t>(bytes);
        if (transfer.on_progress) (*transfer.on_progress)(transfer.received);
    } else if (response.body.size() < kMaxErrorBody_bytes) {
        response.body.append(data, std::min(bytes, kMaxErrorBody_bytes - response.body.size()));
    }
    return bytes;
}

template <typename... Args>
[[noreturn]] void throw_transfer_error(fmt::format_string<Args...> format, Args&&... args) {
    throw TransferError(fmt::format(format, std::forward<Args>(args)...));
}

bool is_absolute_url(const std::string& url) {
    return url.find("://") != std::string::npos;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string url_origin(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return {};
    const auto path = url.find('/', scheme + 3);
    return path == std::string::npos ? url : url.substr(0, path);
}

std::string url_quote(const std::string& text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string quoted;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            quoted += static_cast<char>(c);
        } else {
            quoted += '%';
            quoted += kHex[c >> 4];
            quoted += kHex[c & 15];
        }
    }
    return quoted;
}

HttpClient::HttpClient(std::string endpoint, std::string token)
    : endpoint_(std::move(endpoint)), token_(std::move(token)) {
    global_init();
}

bool HttpClient::sends_token_to(const std::string& url) const {
    return !token_.empty() && url_origin(url) == url_origin(endpoint_);
}

HttpResponse HttpClient::perform(const std::string& method, const std::string& url, int64_t offset,
                                 const ChunkCallback* on_chunk, const ProgressCallback* on_progress,
                                 bool follow_redirects) const {
    const std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw_error("{} {}: cannot start an HTTP client", method, url);
    HttpResponse response;
    response.url = url;
    Transfer transfer{curl.get(), &response, on_chunk, on_progress, 0};

    curl_slist* raw_headers = nullptr;
    raw_headers = curl_slist_append(raw_headers, "Accept-Encoding: identity");
    const std::string agent = std::string("User-Agent: ovllm/") + kVersion;
    raw_headers = curl_slist_append(raw_headers, agent.c_str());
    const std::string auth = "Authorization: Bearer " + token_;
    if (sends_token_to(url)) raw_headers = curl_slist_append(raw_headers, auth.c_str());
    const std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);

    char error[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedLimit_bytes_per_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kLowSpeedTime_s);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    const std::string range = std::to_string(offset) + "-";
    if (offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());

    const CURLcode code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    if (code == CURLE_TOO_MANY_REDIRECTS) {
        throw_error("{} {}: more than {} redirects (a redirect loop)", method, url, kMaxRedirects);
    }
    if (code != CURLE_OK) {
        throw_transfer_error(
            "{} {}: {}{}", method, url, error[0] ? error : curl_easy_strerror(code),
            transfer.received > 0 ? fmt::format(" (after {} bytes)", transfer.received)
                                  : std::string());
    }
    return response;
}

HttpResponse HttpClient::get(const std::string& url) const {
    return perform("GET", url, 0, nullptr, nullptr, true);
}

HttpResponse HttpClient::head(const std::string& url) const {
    std::string current = url;
    for (long hops = 0; hops <= kMaxRedirects; ++hops) {
        HttpResponse response = perform("HEAD", current, 0, nullptr, nullptr, false);
        const std::string location = response.header("location");
        const bool redirect = response.status >= 300 && response.status < 400;
        if (!redirect || location.empty() || is_absolute_url(location)) return response;
        // A relative Location: the hub moved the repo; ask again there.
        current = location.starts_with('/') ? url_origin(current) + location
                                            : current.substr(0, current.rfind('/') + 1) + location;
    }
    throw_error("HEAD {}: more than {} redirects (a redirect loop)", url, kMaxRedirects);
}

HttpResponse HttpClient::download(const std::string& url, int64_t offset,
                                  const ChunkCallback& on_chunk,
                                  const ProgressCallback& on_progress) const {
    return perform("GET", url, offset, &on_chunk, &on_progress, true);
}

void HttpClient::raise_for_status(const HttpResponse& response, const std::string& what) const {
    if (response.status < 400) return;
    const std::string token_hint = token_.empty()
                                       ? "set HF_TOKEN to a token with access"
                                       : "the token given (HF_TOKEN) has no access to it";
    if (response.status == 401 || response.status == 403) {
        throw_error("{}: HTTP {} from {}: the repo is gated or private; {}", what, response.status,
                    response.url, token_hint);
    }
    if (response.status == 404) {
        throw_error("{}: HTTP 404 from {}: no such repo, revision or file{}", what, response.url,
                    token_.empty() ? " (or a private repo: set HF_TOKEN)" : "");
    }
    std::string detail = trim(response.body.substr(0, 200));
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    throw_error("{}: HTTP {} from {}{}{}", what, response.status, response.url,
                detail.empty() ? "" : ": ", detail);
}

}  // namespace ovllm::hub
