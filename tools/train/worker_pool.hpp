// SPDX-License-Identifier: Apache-2.0
// A fixed pool of threads over an index range: item i runs once, in index
// order of claiming; the first exception stops the claiming of new items and
// is rethrown by run() after every thread has joined.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace scalora::train::cli {

/// Runs work(i) for i in [0, count) on `threads` threads (the caller's
/// included). @throws the first exception a work item threw.
template <class Work>
void run_parallel(std::size_t count, int threads, Work work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::exception_ptr failure;
  const auto worker = [&] {
    for (std::size_t i; !stop && (i = next++) < count;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < threads; ++k) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace scalora::train::cli
