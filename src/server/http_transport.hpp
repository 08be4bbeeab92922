#pragma once
// The HTTP layer under the OpenAI server: an event-driven libmicrohttpd daemon. A few I/O
// threads multiplex every connection with epoll, so an idle or slow client costs a socket and
// a small buffer, never a thread. Handlers that may take long (tokenizing, submitting to the
// engine) run on a fixed pool of handler threads; a response that waits for the engine
// (a stream, or a whole body) parks its connection and is woken by the engine's outputs, so
// neither the engine nor the I/O threads ever wait on a client.
//
// Limits: a cap on open connections (the excess is closed at accept), an idle timeout, a
// deadline for reading a whole request, a header size limit (431) and a body size limit
// (413, answered from Content-Length before the body is read).
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ovllm::server::http {

struct Request {
    std::string method;
    std::string path;  // without the query string
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string peer;  // "address:port" of the client

    // The value of header `name` (case-insensitive), empty if absent.
    std::string header(std::string_view name) const;
};

// Something the engine feeds and an I/O thread reads. Polls never block; after a poll found
// nothing, the owner calls the wake function (from any thread) when there may be more.
class Source {
  public:
    virtual ~Source() = default;
    virtual void set_wake(std::function<void()> wake) = 0;
    // The client went away or the server is stopping: stop producing (abort the work).
    virtual void cancel() = 0;
};

// A response body produced over time (server-sent events), sent with chunked encoding.
class BodySource : public Source {
  public:
    enum class Poll { more, wait, end };
    // Appends what is ready to `out`. `wait`: nothing more yet; `end`: this was the last.
    virtual Poll poll(std::string& out) = 0;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::shared_ptr<BodySource> stream;  // when set, the body comes from it instead
};

// A whole response that becomes ready later (a non-streamed completion).
class ResponseSource : public Source {
  public:
    virtual std::optional<Response> poll() = 0;
};

// What a handler returns: a response now, or one that is produced later.
struct Result {
    Result(Response response) : response(std::move(response)) {}  // NOLINT: implicit on purpose
    Result(std::shared_ptr<ResponseSource> source) : pending(std::move(source)) {}  // NOLINT
    Response response;
    std::shared_ptr<ResponseSource> pending;
};

using Handler = std::function<Result(const Request&)>;

struct Limits {
    int max_connections = 4096;            // open connections; the excess is closed at accept
    std::chrono::seconds idle_timeout{5};  // no byte moved for this long: close (keep-alive too)
    std::chrono::seconds request_timeout{30};  // headers and body of one request within this
    size_t max_header_bytes = 64 * 1024;       // request line and headers (431 above)
    size_t max_body_bytes = 64u << 20;         // request body (413 above)
    int io_threads = 2;                        // epoll threads
    int handler_threads = 8;                   // threads running handlers marked `slow`
};

// Called for every response with status >= 400 the transport makes itself (413, 400) and
// every request a handler answered with such a status; used for the server log.
using RejectLog = std::function<void(const Request&, int status, std::string_view why)>;

class Daemon {
  public:
    // `route` picks the handler; `slow(request)` says whether it runs on a handler thread
    // (true) or directly on the I/O thread (fast answers only). `decorate` adds headers to
    // every response (CORS).
    struct Routes {
        Handler handle;
        std::function<bool(const Request&)> slow;
        std::function<void(const Request&, Response&)> decorate;
        RejectLog reject_log;
    };
    Daemon(Limits limits, Routes routes);
    ~Daemon();  // stop()
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Binds host:port (0 = any free port) and returns the port; throws ovllm::Error.
    int bind(const std::string& host, int port);
    // Starts serving on the bound socket (returns at once; I/O runs on its own threads).
    void start();
    // Stops accepting new connections; open ones are served to their end.
    void stop_accepting();
    // Connections with a request in progress (reading, handling or responding).
    size_t busy_connections() const;
    // Cancels every pending source, closes every connection and joins all threads.
    void stop();

    struct Impl;  // defined in the .cpp; public so the C callbacks there can name it

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ovllm::server::http
