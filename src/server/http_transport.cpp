#include "server/http_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdarg>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::server::http {

namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string peer_name(const sockaddr* address) {
    if (!address) return "?";
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    return fmt::format("{}:{}", host, port);
}

// A fixed set of threads running queued tasks in order.
class TaskPool {
  public:
    explicit TaskPool(int threads) {
        for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { run(); });
    }
    ~TaskPool() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
        for (std::thread& worker : workers_) worker.join();
    }
    void post(std::function<void()> task) {
        {
            const std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        ready_.notify_one();
    }

  private:
    void run() {
        while (true) {
            std::function<void()> task;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
                if (tasks_.empty()) return;
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            task();
        }
    }
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

// One open socket; lives from accept to close (MHD's socket context).
struct Connection {
    int fd = -1;
    std::string peer;
    Clock::time_point reading_since = Clock::now();  // start of the request being read
    bool reading = true;                             // false while handling or responding
    bool shut = false;                               // closed for the request deadline
    bool refused = false;                            // over the connection cap
};

// The whole answer to a connection over the cap, written before its request is read.
std::string over_capacity_answer(int cap) {
    const std::string body = fmt::format(
        R"({{"error":{{"message":"The server has {} open connections, its limit )"
        R"((--limit-concurrency). Please retry later.","type":"ServiceUnavailableError",)"
        R"("param":null,"code":503}}}})",
        cap);
    return fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
}

}  // namespace

std::string Request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return {};
}

namespace {
Response error_body(int status, const std::string& message);
}  // namespace

// One request and its response on a connection (MHD's per-request context).
struct Exchange {
    MHD_Connection* connection = nullptr;
    Connection* socket = nullptr;
    Request request;
    bool body_done = false;
    std::optional<Response> rejection;  // answered by the transport itself (400, 413)
    std::string rejection_reason;
    std::optional<Result> result;    // set by the handler (maybe on a handler thread)
    std::shared_ptr<Source> source;  // what is being waited on, for cancel()
    std::shared_ptr<BodySource> stream;
    std::string out;  // stream bytes polled but not yet handed to MHD
    size_t out_pos = 0;
    bool stream_ended = false;

    void reject(int status, std::string reason) {
        rejection = error_body(status, reason);
        rejection_reason = std::move(reason);
    }

    // Guarded by mutex: parking and waking the connection across threads.
    std::mutex mutex;
    std::atomic<bool> suspended{false};  // also read, without the mutex, by the sweeper
    bool woken = false;
    bool closed = false;
    bool stopping = false;

    // From any thread: the result or source may have moved on.
    void wake() {
        const std::lock_guard lock(mutex);
        woken = true;
        if (suspended && !closed) {
            suspended = false;
            MHD_resume_connection(connection);
        }
    }
    // I/O thread: park the connection unless a wake came since the last poll.
    bool park() {
        const std::lock_guard lock(mutex);
        if (woken) return false;
        suspended = true;
        MHD_suspend_connection(connection);
        return true;
    }
    // I/O thread, before a poll: forget earlier wakes (the poll sees what they announced).
    bool begin_poll() {
        const std::lock_guard lock(mutex);
        woken = false;
        return !stopping;
    }
};

struct Daemon::Impl {
    Limits limits;
    Routes routes;
    int listen_fd = -1;
    MHD_Daemon* daemon = nullptr;
    std::unique_ptr<TaskPool> handlers;

    mutable std::mutex registry_mutex;  // guards the two sets below and Connection fields
    std::unordered_set<Connection*> connections;
    int refused_open = 0;  // of those, connections refused over the cap, not yet closed
    std::unordered_set<std::shared_ptr<Exchange>> exchanges;

    std::mutex sweeper_mutex;
    std::condition_variable sweeper_wake;
    bool sweeper_stop = false;
    std::thread sweeper;

    MHD_Result on_request(MHD_Connection* connection, const char* url, const char* method,
                          const char* upload, size_t* upload_size, void** context);
    void begin(MHD_Connection* connection, const char* url, const char* method,
               std::shared_ptr<Exchange>& exchange);
    MHD_Result advance(const std::shared_ptr<Exchange>& exchange);
    MHD_Result queue(const std::shared_ptr<Exchange>& exchange, Response response);
    Result run_handler(const Request& request);
    void attach(const std::shared_ptr<Exchange>& exchange, const std::shared_ptr<Source>& source);
    void completed(void** context, MHD_RequestTerminationCode code);
    void sweep();
    void sweep_loop();
};

namespace {

MHD_Result request_callback(void* cls, MHD_Connection* connection, const char* url,
                            const char* method, const char*, const char* upload,
                            size_t* upload_size, void** context) {
    return static_cast<Daemon::Impl*>(cls)->on_request(connection, url, method, upload, upload_size,
                                                       context);
}

void completed_callback(void* cls, MHD_Connection*, void** context,
                        MHD_RequestTerminationCode code) {
    static_cast<Daemon::Impl*>(cls)->completed(context, code);
}

void connection_callback(void* cls, MHD_Connection* connection, void** socket_context,
                         MHD_ConnectionNotificationCode code) {
    auto& impl = *static_cast<Daemon::Impl*>(cls);
    const std::lock_guard lock(impl.registry_mutex);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        auto* socket = new Connection;
        const MHD_ConnectionInfo* fd =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const MHD_ConnectionInfo* address =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        socket->fd = fd ? fd->connect_fd : -1;
        socket->peer = peer_name(address ? address->client_addr : nullptr);
        // Over the cap: answer 503 at once and end the connection; MHD's own limit sits
        // above ours only as a backstop, since at its limit it stops accepting (the client
        // would wait in the listen queue).
        const int open = static_cast<int>(impl.connections.size()) - impl.refused_open;
        if (open >= impl.limits.max_connections && socket->fd >= 0) {
            socket->refused = true;
            ++impl.refused_open;
            const std::string answer = over_capacity_answer(impl.limits.max_connections);
            ::send(socket->fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            ::shutdown(socket->fd, SHUT_WR);
            OVLLM_WARN(
                "http: refused a connection from {}: {} connections open "
                "(--limit-concurrency)",
                socket->peer, open);
        }
        impl.connections.insert(socket);
        *socket_context = socket;
    } else if (*socket_context) {
        // MHD closes the socket only after this notification, so the sweeper (which holds
        // registry_mutex while it touches a descriptor) never acts on a reused one.
        auto* socket = static_cast<Connection*>(*socket_context);
        if (socket->refused) --impl.refused_open;
        impl.connections.erase(socket);
        delete socket;
        *socket_context = nullptr;
    }
}

void log_callback(void*, const char* format, va_list args) {
    char line[512];
    vsnprintf(line, sizeof(line), format, args);
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    // Limits and malformed requests (refused by MHD itself) are worth seeing; socket
    // chatter is not.
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool notable = false;
    for (const char* word :
         {"limit", "too large", "too big", "malformed", "content-length", "failed to parse"}) {
        notable = notable || lower.find(word) != std::string::npos;
    }
    if (notable) {
        OVLLM_WARN("http: {}", text);
    } else {
        OVLLM_DEBUG("http: {}", text);
    }
}

ssize_t read_callback(void* cls, uint64_t, char* buffer, size_t max) {
    Exchange& exchange = *static_cast<Exchange*>(cls);
    while (true) {
        if (exchange.out_pos < exchange.out.size()) {
            const size_t count = std::min(max, exchange.out.size() - exchange.out_pos);
            std::copy_n(exchange.out.data() + exchange.out_pos, count, buffer);
            exchange.out_pos += count;
            return static_cast<ssize_t>(count);
        }
        exchange.out.clear();
        exchange.out_pos = 0;
        if (exchange.stream_ended) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!exchange.begin_poll()) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (exchange.stream->poll(exchange.out) == BodySource::Poll::end) {
            exchange.stream_ended = true;
        }
        if (!exchange.out.empty() || exchange.stream_ended) continue;
        if (exchange.park()) return 0;  // resumed by the stream's wake
    }
}

std::optional<uint64_t> parse_content_length(const std::string& text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
}

Response error_body(int status, const std::string& message) {
    // Messages are the transport's own text: no quotes or backslashes to escape.
    Response response;
    response.status = status;
    response.body =
        fmt::format(R"({{"error":{{"message":"{}","type":"{}","param":null,"code":{}}}}})", message,
                    status == 413 ? "RequestEntityTooLarge" : "BadRequestError", status);
    return response;
}

}  // namespace

void Daemon::Impl::begin(MHD_Connection* connection, const char* url, const char* method,
                         std::shared_ptr<Exchange>& exchange) {
    exchange = std::make_shared<Exchange>();
    exchange->connection = connection;
    const MHD_ConnectionInfo* socket_info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    exchange->socket =
        socket_info ? static_cast<Connection*>(socket_info->socket_context) : nullptr;
    Request& request = exchange->request;
    request.method = method ? method : "";
    request.path = url ? url : "";
    if (exchange->socket) request.peer = exchange->socket->peer;
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) {
            static_cast<Request*>(cls)->headers.emplace_back(key ? key : "", value ? value : "");
            return MHD_YES;
        },
        &request);
    {
        const std::lock_guard lock(registry_mutex);
        exchanges.insert(exchange);
    }
    const std::string length_text = request.header("Content-Length");
    if (length_text.empty()) return;
    const std::optional<uint64_t> length = parse_content_length(length_text);
    if (!length) {
        exchange->reject(400, fmt::format("Content-Length: not a non-negative integer: '{}'",
                                          length_text.substr(0, 40)));
    } else if (*length > limits.max_body_bytes) {
        exchange->reject(413, fmt::format("The request body of {} bytes exceeds the limit of "
                                          "{} bytes (--max-request-body-bytes).",
                                          *length, limits.max_body_bytes));
    }
}

MHD_Result Daemon::Impl::on_request(MHD_Connection* connection, const char* url, const char* method,
                                    const char* upload, size_t* upload_size, void** context) {
    auto*& holder = reinterpret_cast<std::shared_ptr<Exchange>*&>(*context);
    if (!holder) {
        const MHD_ConnectionInfo* socket_info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        const auto* socket =
            socket_info ? static_cast<const Connection*>(socket_info->socket_context) : nullptr;
        if (socket && socket->refused) return MHD_NO;  // already answered 503
        holder = new std::shared_ptr<Exchange>;
        begin(connection, url, method, *holder);
        Exchange& exchange = **holder;
        // Refused from its headers alone: answer before reading the body (MHD then closes).
        if (exchange.rejection) return advance(*holder);
        return MHD_YES;
    }
    const std::shared_ptr<Exchange>& exchange = *holder;
    if (*upload_size > 0) {
        std::string& body = exchange->request.body;
        if (!exchange->rejection) {
            if (body.size() + *upload_size > limits.max_body_bytes) {
                exchange->reject(413, fmt::format("The request body exceeds the limit of {} "
                                                  "bytes (--max-request-body-bytes).",
                                                  limits.max_body_bytes));
                body.clear();
            } else {
                body.append(upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return advance(exchange);
}

Result Daemon::Impl::run_handler(const Request& request) {
    try {
        return routes.handle(request);
    } catch (const std::exception& error) {
        OVLLM_ERROR("{} {} failed: {}", request.method, request.path, error.what());
    } catch (...) {
        OVLLM_ERROR("{} {} failed with an unknown exception", request.method, request.path);
    }
    return error_body(500, "Internal server error.");
}

void Daemon::Impl::attach(const std::shared_ptr<Exchange>& exchange,
                          const std::shared_ptr<Source>& source) {
    {
        const std::lock_guard lock(exchange->mutex);
        exchange->source = source;
    }
    source->set_wake([weak = std::weak_ptr<Exchange>(exchange)] {
        if (const auto alive = weak.lock()) alive->wake();
    });
}

MHD_Result Daemon::Impl::advance(const std::shared_ptr<Exchange>& exchange) {
    if (!exchange->body_done) {
        exchange->body_done = true;
        if (exchange->socket) {
            const std::lock_guard lock(registry_mutex);
            exchange->socket->reading = false;
        }
        if (exchange->rejection) {
            if (routes.reject_log) {
                routes.reject_log(exchange->request, exchange->rejection->status,
                                  exchange->rejection_reason);
            }
            return queue(exchange, std::move(*exchange->rejection));
        }
        if (routes.slow && routes.slow(exchange->request)) {
            handlers->post([this, exchange] {
                Result result = run_handler(exchange->request);
                if (result.pending) attach(exchange, result.pending);
                {
                    const std::lock_guard lock(exchange->mutex);
                    exchange->result.emplace(std::move(result));
                }
                exchange->wake();
            });
        } else {
            exchange->result.emplace(run_handler(exchange->request));
            if (exchange->result->pending) attach(exchange, exchange->result->pending);
        }
    }
    while (true) {
        if (!exchange->begin_poll()) {
            return queue(exchange, error_body(503, "The server is shutting down."));
        }
        bool have_result = false;
        {
            const std::lock_guard lock(exchange->mutex);
            have_result = exchange->result.has_value();
        }
        if (have_result) {
            Result& result = *exchange->result;
            if (!result.pending) return queue(exchange, std::move(result.response));
            if (std::optional<Response> ready = result.pending->poll()) {
                return queue(exchange, std::move(*ready));
            }
        }
        if (exchange->park()) return MHD_YES;
    }
}

MHD_Result Daemon::Impl::queue(const std::shared_ptr<Exchange>& exchange, Response response) {
    if (routes.decorate) routes.decorate(exchange->request, response);
    MHD_Response* reply = nullptr;
    if (response.stream) {
        exchange->stream = response.stream;
        attach(exchange, response.stream);
        reply = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_callback,
                                                  exchange.get(), nullptr);
    } else {
        reply = MHD_create_response_from_buffer(response.body.size(), response.body.data(),
                                                MHD_RESPMEM_MUST_COPY);
    }
    if (!reply) return MHD_NO;
    if (!response.content_type.empty()) {
        MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
    }
    for (const auto& [name, value] : response.headers) {
        MHD_add_response_header(reply, name.c_str(), value.c_str());
    }
    const MHD_Result queued =
        MHD_queue_response(exchange->connection, static_cast<unsigned>(response.status), reply);
    MHD_destroy_response(reply);
    return queued;
}

void Daemon::Impl::completed(void** context, MHD_RequestTerminationCode code) {
    auto* holder = static_cast<std::shared_ptr<Exchange>*>(*context);
    if (!holder) return;
    const std::shared_ptr<Exchange> exchange = *holder;
    delete holder;
    *context = nullptr;
    std::shared_ptr<Source> source;
    {
        const std::lock_guard lock(exchange->mutex);
        exchange->closed = true;
        source = exchange->source;
    }
    // A client that left before its answer was complete: stop the engine work for it.
    if (code != MHD_REQUEST_TERMINATED_COMPLETED_OK && source) source->cancel();
    const std::lock_guard lock(registry_mutex);
    exchanges.erase(exchange);
    if (exchange->socket && connections.count(exchange->socket)) {
        exchange->socket->reading = true;
        exchange->socket->reading_since = Clock::now();
    }
}

// Closes connections past the request-read deadline, and notices clients that hung up while
// their connection is parked (MHD does not watch a suspended socket).
void Daemon::Impl::sweep() {
    const auto now = Clock::now();
    std::vector<pollfd> watched;
    std::vector<std::shared_ptr<Exchange>> parked;
    {
        const std::lock_guard lock(registry_mutex);
        for (Connection* socket : connections) {
            if (!socket->reading || socket->shut || socket->fd < 0) continue;
            if (now - socket->reading_since < limits.request_timeout) continue;
            OVLLM_WARN(
                "http: closing the connection from {}: no complete request within {} s "
                "(--timeout-request)",
                socket->peer, limits.request_timeout.count());
            ::shutdown(socket->fd, SHUT_RDWR);  // MHD sees end of input and closes it
            socket->shut = true;
        }
        // A parked connection cannot be closed by MHD, so its descriptor stays valid while
        // registry_mutex is held. (No exchange mutex is taken here: the engine thread holds
        // one while it resumes a connection inside MHD.)
        for (const std::shared_ptr<Exchange>& exchange : exchanges) {
            if (!exchange->suspended || !exchange->socket) continue;
            watched.push_back({exchange->socket->fd, POLLRDHUP, 0});
            parked.push_back(exchange);
        }
        if (!watched.empty()) ::poll(watched.data(), watched.size(), 0);
    }
    for (size_t i = 0; i < watched.size(); ++i) {
        if (!(watched[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
        std::shared_ptr<Source> source;
        {
            const std::lock_guard lock(parked[i]->mutex);
            source = parked[i]->source;
        }
        if (source) source->cancel();  // the client hung up while waiting
    }
}

void Daemon::Impl::sweep_loop() {
    std::unique_lock lock(sweeper_mutex);
    while (!sweeper_stop) {
        sweeper_wake.wait_for(lock, std::chrono::milliseconds(250));
        if (sweeper_stop) break;
        lock.unlock();
        sweep();
        lock.lock();
    }
}

Daemon::Daemon(Limits limits, Routes routes) : impl_(std::make_unique<Impl>()) {
    impl_->limits = limits;
    impl_->routes = std::move(routes);
}

Daemon::~Daemon() {
    stop();
    if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

int Daemon::bind(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0)
        throw_error("server: cannot resolve host '{}'", host);
    int fd = -1;
    for (addrinfo* address = found; address && fd < 0; address = address->ai_next) {
        fd = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        // SO_REUSEADDR only: SO_REUSEPORT would let a second server share the port.
        const int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (::bind(fd, address->ai_addr, address->ai_addrlen) != 0 ||
            ::listen(fd, SOMAXCONN) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) {
        throw_error("server: cannot bind {}:{} (address in use or not available)", host, port);
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    impl_->listen_fd = fd;
    const auto* in = reinterpret_cast<const sockaddr_in*>(&bound);
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&bound);
    return ntohs(bound.ss_family == AF_INET6 ? in6->sin6_port : in->sin_port);
}

void Daemon::start() {
    Impl& impl = *impl_;
    impl.handlers = std::make_unique<TaskPool>(impl.limits.handler_threads);
    const unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                           MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    impl.daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, request_callback, &impl, MHD_OPTION_LISTEN_SOCKET,
        impl.listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
        static_cast<unsigned>(std::max(impl.limits.io_threads, 1)), MHD_OPTION_CONNECTION_LIMIT,
        static_cast<unsigned>(std::max(impl.limits.max_connections, 1) + 64),
        MHD_OPTION_CONNECTION_TIMEOUT,
        static_cast<unsigned>(std::max<int64_t>(impl.limits.idle_timeout.count(), 1)),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, impl.limits.max_header_bytes,
        MHD_OPTION_NOTIFY_COMPLETED, completed_callback, &impl, MHD_OPTION_NOTIFY_CONNECTION,
        connection_callback, &impl, MHD_OPTION_EXTERNAL_LOGGER, log_callback, nullptr,
        MHD_OPTION_END);
    if (!impl.daemon) {
        impl.handlers.reset();
        throw_error("server: the HTTP daemon failed to start");
    }
    impl.listen_fd = -1;  // owned by the daemon now
    impl.sweeper = std::thread([&impl] { impl.sweep_loop(); });
}

void Daemon::stop_accepting() {
    if (!impl_->daemon) return;
    const MHD_socket fd = MHD_quiesce_daemon(impl_->daemon);
    if (fd != MHD_INVALID_SOCKET) ::close(fd);
}

size_t Daemon::busy_connections() const {
    const std::lock_guard lock(impl_->registry_mutex);
    return impl_->exchanges.size();
}

void Daemon::stop() {
    Impl& impl = *impl_;
    if (!impl.daemon) return;
    {
        const std::lock_guard lock(impl.sweeper_mutex);
        impl.sweeper_stop = true;
    }
    impl.sweeper_wake.notify_all();
    if (impl.sweeper.joinable()) impl.sweeper.join();
    // Handler threads may still be submitting; let them finish so every exchange has its
    // result, then cancel all work and wake every parked connection so it can end.
    impl.handlers.reset();
    std::vector<std::shared_ptr<Exchange>> open;
    {
        const std::lock_guard lock(impl.registry_mutex);
        open.assign(impl.exchanges.begin(), impl.exchanges.end());
    }
    for (const auto& exchange : open) {
        std::shared_ptr<Source> source;
        {
            const std::lock_guard lock(exchange->mutex);
            source = exchange->source;
        }
        if (source) source->cancel();
    }
    // Cancelled streams end with their final chunk; give them a moment to be written.
    const auto deadline = Clock::now() + std::chrono::seconds(1);
    while (busy_connections() > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    {
        const std::lock_guard lock(impl.registry_mutex);
        open.assign(impl.exchanges.begin(), impl.exchanges.end());
    }
    for (const auto& exchange : open) {
        {
            const std::lock_guard lock(exchange->mutex);
            exchange->stopping = true;
        }
        exchange->wake();
    }
    // MHD must not stop with a parked connection: wait until the woken ones were taken back.
    const auto resume_deadline = Clock::now() + std::chrono::milliseconds(500);
    while (Clock::now() < resume_deadline) {
        bool any_parked = false;
        for (const auto& exchange : open) {
            const std::lock_guard lock(exchange->mutex);
            any_parked = any_parked || (exchange->suspended && !exchange->closed);
        }
        if (!any_parked) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    MHD_stop_daemon(impl.daemon);
    impl.daemon = nullptr;
}

}  // namespace ovllm::server::http
