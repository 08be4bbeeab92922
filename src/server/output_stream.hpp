#pragma once
// A blocking, thread-safe queue of RequestOutputs for one request: the engine pushes (never
// blocks), the HTTP handler pops with a timeout so it can notice a client that went away.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "ovllm/outputs.hpp"

namespace ovllm::server {

class OutputStream {
  public:
    enum class Status {
        output,   // `output` holds the next RequestOutput
        timeout,  // nothing arrived within the timeout; the stream is still open
        closed,   // the engine closed the stream and every output was taken
    };
    struct Next {
        Status status = Status::timeout;
        RequestOutput output;
    };

    // Engine side. push() after close() is ignored.
    void push(RequestOutput output);
    // Ends the stream; `error` (empty = normal end) is reported to the reader after the
    // queued outputs, e.g. when the engine failed while running this request.
    void close(std::string error = {});

    // Reader side: waits up to `timeout` for the next output.
    Next next(std::chrono::milliseconds timeout);
    // The error given to close(), empty if none.
    std::string error() const;
    // Called (on the pushing thread, outside the lock) after every push() and close(), and
    // at once if something is already waiting: lets an event loop read without blocking.
    // It must be cheap and must not call back into this stream's push() or close().
    void set_listener(std::function<void()> listener);

  private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<RequestOutput> queue_;
    bool closed_ = false;
    std::string error_;
    std::function<void()> listener_;
};

}  // namespace ovllm::server
