#pragma once
// A mutex, its scoped lock and condition-variable waits that clang's
// -Wthread-safety analysis understands: a member declared
// `WHARF_GUARDED_BY(mu_)` may only be touched while `mu_` is held, and a
// function declared `WHARF_REQUIRES(mu_)` may only be called with it held.
// The analysis runs in every clang build (the TSan and fuzz builds, with
// -Werror=thread-safety); with gcc the annotations are empty.
//
// libstdc++'s std::mutex carries no annotations, hence these thin wrappers.
// A wait takes the held MutexLock and is written as a loop in the caller, so
// the condition is read where the analysis knows the lock is held:
//   MutexLock lock(mu_);
//   while (queue_.empty() && !closing_) lock.Wait(ready_);

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define WHARF_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define WHARF_THREAD_ANNOTATION(x)
#endif

#define WHARF_CAPABILITY(name) WHARF_THREAD_ANNOTATION(capability(name))
#define WHARF_SCOPED_CAPABILITY WHARF_THREAD_ANNOTATION(scoped_lockable)
#define WHARF_GUARDED_BY(mu) WHARF_THREAD_ANNOTATION(guarded_by(mu))
#define WHARF_ACQUIRED_BEFORE(...) WHARF_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define WHARF_REQUIRES(...) WHARF_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define WHARF_ACQUIRE(...) WHARF_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define WHARF_RELEASE(...) WHARF_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace wharf {

// A std::mutex the analysis can name; held through MutexLock only.
class WHARF_CAPABILITY("mutex") Mutex {
 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds a Mutex for its scope, and waits on condition variables with it.
class WHARF_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) WHARF_ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() WHARF_RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex until `cv` is notified (or spuriously), then holds it again.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // As Wait, but returns false once `deadline` has passed.
  template <class Clock, class Duration>
  bool WaitUntil(std::condition_variable& cv, std::chrono::time_point<Clock, Duration> deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace wharf
