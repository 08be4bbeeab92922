#include "server/output_stream.hpp"

namespace ovllm::server {

void OutputStream::push(RequestOutput output) {
    {
        const std::lock_guard lock(mutex_);
        if (closed_) return;
        queue_.push_back(std::move(output));
    }
    ready_.notify_all();
}

void OutputStream::close(std::string error) {
    {
        const std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        error_ = std::move(error);
    }
    ready_.notify_all();
}

OutputStream::Next OutputStream::next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; });
    Next result;
    if (!queue_.empty()) {
        result.status = Status::output;
        result.output = std::move(queue_.front());
        queue_.pop_front();
    } else if (closed_) {
        result.status = Status::closed;
    }
    return result;
}

std::string OutputStream::error() const {
    const std::lock_guard lock(mutex_);
    return error_;
}

}  // namespace ovllm::server
