#include "core/thread_pool.hpp"

namespace sciflow {

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

size_t ThreadPool::size() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void ThreadPool::post(std::function<void()> job) {
  std::unique_lock lock(mu_);
  jobs_.push_back(std::move(job));
  // Every queued job needs an idle worker of its own, or a new one.
  if (idle_ >= jobs_.size()) {
    lock.unlock();
    ready_.notify_one();
    return;
  }
  threads_.emplace_back([this] { work(); });
}

void ThreadPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, nothing left
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace sciflow
