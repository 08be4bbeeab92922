#pragma once
// The few HTTP calls the hub needs, over libcurl: a JSON GET, a HEAD that stops at an
// absolute redirect (the CDN), and a ranged GET into a file. Every failure is an
// ovllm::Error of one line naming the URL.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "util/error.hpp"

namespace ovllm::hub {

// The connection failed or broke off (refused, reset, timed out, closed mid-body): worth
// another try. HTTP statuses and redirect loops are plain ovllm::Error.
class TransferError : public Error {
  public:
    using Error::Error;
};

struct HttpResponse {
    long status = 0;
    std::string url;                             // the last URL asked (after relative redirects)
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;

    // The header's value, or "" when absent.
    std::string header(const std::string& lower_case_name) const;
};

// Called with the bytes received so far in this transfer.
using ProgressCallback = std::function<void(int64_t received_bytes)>;
// Called with each chunk of a 2xx, non-HTML body as it arrives, with the response status
// (200 when a server ignored the Range asked for, 206 when it honoured it).
using ChunkCallback = std::function<void(long status, const char* data, size_t size)>;

class HttpClient {
  public:
    // `token`: sent as `Authorization: Bearer <token>` to the hub's own host only, never to
    // the CDN a redirect points at (as huggingface_hub does); empty = anonymous.
    HttpClient(std::string endpoint, std::string token);

    // GET, following redirects; any status comes back (check it with raise_for_status).
    HttpResponse get(const std::string& url) const;
    // HEAD with `Accept-Encoding: identity`, following only relative redirects (a renamed
    // repo) and stopping at an absolute one, whose Location is then in the headers.
    HttpResponse head(const std::string& url) const;
    // GET `url` from byte `offset` on, passing the body to `on_chunk`. Returns the response
    // (body empty); a server that ignores the Range answers 200 and `offset` must restart.
    HttpResponse download(const std::string& url, int64_t offset, const ChunkCallback& on_chunk,
                          const ProgressCallback& on_progress) const;

    // Throws ovllm::Error for a status >= 400, worded for the hub's common answers: 401/403
    // (a gated or private repo; mentions HF_TOKEN), 404 (names `what`), others with the URL.
    void raise_for_status(const HttpResponse& response, const std::string& what) const;

  private:
    HttpResponse perform(const std::string& method, const std::string& url, int64_t offset,
                         const ChunkCallback* on_chunk, const ProgressCallback* on_progress,
                         bool follow_redirects) const;
    bool sends_token_to(const std::string& url) const;

    std::string endpoint_;
    std::string token_;
};

// "https://host:8080/a/b" -> "https://host:8080"; "" when `url` has no scheme.
std::string url_origin(const std::string& url);
// Percent-encodes a path segment (keeps '/' when `keep_slash`).
std::string url_quote(const std::string& text, bool keep_slash);

}  // namespace ovllm::hub
