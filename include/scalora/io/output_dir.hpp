// SPDX-License-Identifier: Apache-2.0
// One owner per output directory: an advisory lock (flock on "<dir>/.lock",
// held while the DirectoryLock lives, released by the kernel when the process
// dies), the removal of temporaries that dead writers left, and moving the
// old contents of a directory aside. POSIX.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "scalora/io/file.hpp"
#include "scalora/io/io_error.hpp"

namespace scalora::io {

inline constexpr const char* kLockName = ".lock";

/// "YYYY-MM-DDTHH:MM:SSZ" of now (UTC).
inline std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// This machine's host name ("?" when unknown).
inline std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("?");
}

/// An exclusive advisory lock on a directory (created when absent).
/// Postcondition: this process is the directory's only DirectoryLock holder until
/// destruction; "<dir>/.lock" names the holder ("pid P host H started T").
class DirectoryLock {
 public:
  /// wait: block until the holder releases the lock instead of throwing busy.
  /// @throws io_error(busy) naming the holder when another process holds the lock;
  /// io_error(write_failed) when the directory or lock file cannot be created.
  explicit DirectoryLock(const std::string& dir, bool wait = false) : dir_(dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw io_error(io_problem::write_failed, dir, "", "cannot create the directory: " + ec.message());
    const std::string path = dir + "/" + kLockName;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(path, "open");
    while (wait && ::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) fail(path, "flock");
    if (!wait && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err != EWOULDBLOCK) fail(path, "flock");
      char buf[256] = {};
      const ssize_t got = ::pread(fd_, buf, sizeof buf - 1, 0);
      std::string holder = got > 0 ? std::string(buf, std::size_t(got)) : std::string("another process");
      while (!holder.empty() && holder.back() == '\n') holder.pop_back();
      ::close(fd_);
      fd_ = -1;
      throw io_error(io_problem::busy, dir, "",
                     "the directory is in use by " + holder + " (one writer per output directory)");
    }
    const std::string who = "pid " + std::to_string(::getpid()) + " host " + host_name() + " started " + utc_now() + "\n";
    if (::ftruncate(fd_, 0) != 0 || !detail::write_all(fd_, who.data(), who.size())) fail(path, "write");
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays (removing it would race a new holder)
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  const std::string& directory() const { return dir_; }

 private:
  [[noreturn]] void fail(const std::string& path, const char* op) {
    const int err = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw io_error(io_problem::write_failed, path, "", std::string(op) + ": " + std::strerror(err));
  }
  std::string dir_;
  int fd_ = -1;
};

/// The entries of `dir` other than the lock file, sorted by name (none when dir is absent).
inline std::vector<std::string> directory_entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename() != kLockName) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Removes the temporaries (names holding kTempMarker) under `dir`, recursively.
/// Precondition: the caller holds dir's DirectoryLock, so no live writer owns them.
/// @returns how many were removed.
inline int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != decltype(it)(); it.increment(ec))
    if (it->is_regular_file() && it->path().filename().string().find(kTempMarker) != std::string::npos)
      stale.push_back(it->path());
  for (const auto& p : stale)
    if (std::filesystem::remove(p, ec)) ++removed;
  return removed;
}

/// Moves every entry of `dir` but the lock file into a new sibling directory
/// "<dir>.old-<UTC time>-<pid>" (one rename(2) each, so each entry is either old
/// or moved, never partial). Precondition: the caller holds dir's DirectoryLock.
/// @returns the sibling's path ("" when dir had nothing to move).
/// @throws io_error(write_failed) naming the entry that could not be moved.
inline std::string move_contents_aside(const std::string& dir) {
  const std::vector<std::string> entries = directory_entries(dir);
  if (entries.empty()) return "";
  std::string stamp = utc_now();
  for (char& c : stamp)
    if (c == ':') c = '-';
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  const std::string aside = base + ".old-" + stamp + "-" + std::to_string(::getpid());
  if (::mkdir(aside.c_str(), 0777) != 0) {
    const int err = errno;
    throw io_error(io_problem::write_failed, aside, "", std::string("mkdir: ") + std::strerror(err));
  }
  for (const std::string& e : entries) {
    const std::string from = dir + "/" + e, to = aside + "/" + e;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      const int err = errno;
      throw io_error(io_problem::write_failed, from, "", "rename to " + to + ": " + std::strerror(err));
    }
  }
  return aside;
}

}  // namespace scalora::io
