// core/thread_pool: threads that outlive the work they run.
//
// run() hands a task to an idle worker, or starts a new one when none is idle, so
// a task never waits for another to finish (as with std::async, and so tasks may
// wait on tasks they started). Workers stay for the next task until the process
// ends: what a thread keeps for itself (thread_local buffers, their pages) serves
// every task it runs instead of being built again for each.
// Thread safety: all members may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace sciflow {

// The result of a task run on the pool. As std::async's future, it waits for the
// task when dropped unread, so that what the task uses may not go away under it.
template <class R>
class TaskResult {
 public:
  TaskResult() = default;
  explicit TaskResult(std::future<R> f) : f_(std::move(f)) {}
  TaskResult(TaskResult&&) noexcept = default;
  TaskResult& operator=(TaskResult&& o) noexcept {
    if (this != &o) {
      wait();
      f_ = std::move(o.f_);
    }
    return *this;
  }
  ~TaskResult() { wait(); }
  void wait() const {
    if (f_.valid()) f_.wait();
  }
  R get() { return f_.get(); }

 private:
  std::future<R> f_;
};

class ThreadPool {
 public:
  ThreadPool() = default;
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The process's pool.
  static ThreadPool& shared();

  // Runs f() on a worker; its result (or exception) through the TaskResult. The
  // worker counts as idle again before the result can be seen, so a caller that
  // waits for each task before it starts the next keeps reusing one worker.
  template <class F>
  auto run(F&& f) -> TaskResult<std::invoke_result_t<std::decay_t<F>>> {
    using R = std::invoke_result_t<std::decay_t<F>>;
    auto promise = std::make_shared<std::promise<R>>();
    auto fn = std::make_shared<std::decay_t<F>>(std::forward<F>(f));
    TaskResult<R> done(promise->get_future());
    post([promise, fn]() -> std::function<void()> {
      try {
        if constexpr (std::is_void_v<R>) {
          (*fn)();
          return [promise] { promise->set_value(); };
        } else {
          auto result = std::make_shared<R>((*fn)());
          return [promise, result] { promise->set_value(std::move(*result)); };
        }
      } catch (...) {
        return [promise, e = std::current_exception()] { promise->set_exception(e); };
      }
    });
    return done;
  }

  // Workers started so far (idle or busy).
  size_t size() const;

 private:
  // A job runs its task and returns what hands the result over (called once the
  // worker is idle again).
  using Job = std::function<std::function<void()>()>;
  void post(Job job);
  void work();

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

}  // namespace sciflow
