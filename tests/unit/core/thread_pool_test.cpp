#include "core/thread_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

namespace sciflow {

TEST_CASE("thread pool: results, exceptions, and workers kept for the next task") {
  ThreadPool pool;
  CHECK(pool.run([] { return 6 * 7; }).get() == 42);
  CHECK(pool.run([] { return std::string("x"); }).get() == "x");
  auto failing = pool.run([]() -> int { throw std::runtime_error("boom"); });
  CHECK_THROWS_WITH_AS(failing.get(), "boom", std::runtime_error);
  // One task after another: the worker that ran the first runs the rest.
  const size_t before = pool.size();
  for (int i = 0; i < 500; ++i) CHECK(pool.run([i] { return i; }).get() == i);
  CHECK(pool.size() == before);
  CHECK(pool.size() >= 1);
}

TEST_CASE("thread pool: a task may wait on tasks it starts, and tasks run at once") {
  ThreadPool pool;
  // Each task waits for all four to have started: with fewer workers than tasks
  // this would never end.
  std::atomic<int> started{0};
  std::vector<TaskResult<int>> all;
  for (int i = 0; i < 4; ++i)
    all.push_back(pool.run([&started, i] {
      ++started;
      while (started.load() < 4) std::this_thread::yield();
      return i;
    }));
  for (int i = 0; i < 4; ++i) CHECK(all[static_cast<size_t>(i)].get() == i);
  CHECK(pool.size() >= 4);
  // Nested: an outer task starts inner ones on the same pool and waits for them.
  auto outer = pool.run([&pool] {
    auto a = pool.run([] { return 1; });
    auto b = pool.run([] { return 2; });
    return a.get() + b.get();
  });
  CHECK(outer.get() == 3);
}

TEST_CASE("thread pool: a result dropped unread waits for its task") {
  ThreadPool pool;
  std::atomic<bool> done{false};
  {
    auto r = pool.run([&done] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      done = true;
    });
  }
  CHECK(done.load());
  // Moving a result over another waits for the one it replaces.
  std::atomic<int> finished{0};
  auto r = pool.run([&finished] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ++finished;
  });
  r = pool.run([&finished] { ++finished; });
  CHECK(finished.load() >= 1);
  r.get();
  CHECK(finished.load() == 2);
}

}  // namespace sciflow
