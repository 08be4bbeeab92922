#include "server/output_stream.hpp"

namespace ovllm::server {

void OutputStream::push(RequestOutput output) {
    std::function<void()> listener;
    {
        const std::lock_guard lock(mutex_);
        if (closed_) return;
        queue_.push_back(std::move(output));
        listener = listener_;
    }
    ready_.notify_all();
    if (listener) listener();
}

void OutputStream::close(std::string error) {
    std::function<void()> listener;
    {
        const std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        error_ = std::move(error);
        listener = listener_;
    }
    ready_.notify_all();
    if (listener) listener();
}

void OutputStream::set_listener(std::function<void()> listener) {
    bool pending = false;
    {
        const std::lock_guard lock(mutex_);
        listener_ = listener;
        pending = !queue_.empty() || closed_;
    }
    if (pending && listener) listener();
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
