#pragma once
// A fixed set of threads that runs one indexed loop at a time: run(count, task) calls
// task(item, worker) for every item in [0, count) and returns when all are done. The
// calling thread is worker 0. Threads start once and sleep between loops.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ovllm::sampling {

class WorkerPool {
  public:
    // `threads` includes the caller; 0 or 1 runs everything on the caller.
    explicit WorkerPool(size_t threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    size_t size() const { return threads_.size() + 1; }

    // Rethrows the first exception a task threw, after every item has run.
    template <typename Task>
    void run(size_t count, Task& task) {
        run_erased(count, &task, [](void* ctx, size_t item, size_t worker) {
            (*static_cast<Task*>(ctx))(item, worker);
        });
    }

  private:
    using Call = void (*)(void*, size_t, size_t);
    void run_erased(size_t count, void* ctx, Call call);
    void worker_loop(size_t worker);
    void drain(size_t worker);

    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable start_;
    std::condition_variable done_;
    uint64_t generation_ = 0;  // bumped once per run()
    size_t busy_ = 0;          // background workers still in the current run
    bool stopping_ = false;
    size_t count_ = 0;
    void* ctx_ = nullptr;
    Call call_ = nullptr;
    std::atomic<size_t> next_{0};
    std::exception_ptr error_;
};

}  // namespace ovllm::sampling
