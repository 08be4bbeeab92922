#include "sampling/worker_pool.hpp"

namespace ovllm::sampling {

WorkerPool::WorkerPool(size_t threads) {
    for (size_t w = 1; w < threads; ++w) threads_.emplace_back([this, w] { worker_loop(w); });
}

WorkerPool::~WorkerPool() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    start_.notify_all();
    for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::run_erased(size_t count, void* ctx, Call call) {
    if (threads_.empty() || count < 2) {
        for (size_t item = 0; item < count; ++item) call(ctx, item, 0);
        return;
    }
    {
        const std::lock_guard lock(mutex_);
        count_ = count;
        ctx_ = ctx;
        call_ = call;
        next_.store(0);
        busy_ = threads_.size();
        error_ = nullptr;
        ++generation_;
    }
    start_.notify_all();
    drain(0);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void WorkerPool::worker_loop(size_t worker) {
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        drain(worker);
        const std::lock_guard lock(mutex_);
        if (--busy_ == 0) done_.notify_one();
    }
}

void WorkerPool::drain(size_t worker) {
    for (size_t item = next_.fetch_add(1); item < count_; item = next_.fetch_add(1)) {
        try {
            call_(ctx_, item, worker);
        } catch (...) {
            const std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }
}

}  // namespace ovllm::sampling
