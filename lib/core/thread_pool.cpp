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

void ThreadPool::post(Job job) {
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
  ++idle_;
  for (;;) {
    ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) {  // stopping, nothing left
      --idle_;
      return;
    }
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    --idle_;
    lock.unlock();
    std::function<void()> hand_over = job();
    lock.lock();
    ++idle_;  // before the result can be seen
    lock.unlock();
    hand_over();
    lock.lock();
  }
}

}  // namespace sciflow
