// SPDX-License-Identifier: Apache-2.0
// Whole files: atomic writes (temporary file + fsync + rename), whole reads
// and whole-record appends, with io_error naming the file and the system's
// reason. Every writer of the toolkit (tensor and case files, logs, reports,
// manifests, generated tasks) goes through AtomicFile or AppendFile, so a
// failed or interrupted write never leaves a partial file or record. POSIX.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/io_error.hpp"

namespace scalora::io {

namespace detail {
/// Writes all n bytes to fd (retrying short writes and EINTR). false with errno set
/// on failure (EIO for a write of 0 bytes); how much was written is then unknown.
inline bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n < (std::size_t{1} << 30) ? n : (std::size_t{1} << 30));
    if (put < 0 && errno == EINTR) continue;
    if (put == 0) errno = EIO;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return true;
}
}  // namespace detail

/// The marker of temporary files: "<path>" + kTempMarker + "<pid>.<random hex>".
inline constexpr const char* kTempMarker = ".tmp.";

/// Writes `path` atomically: the bytes go to "<path>.tmp.<pid>.<random>" in the same
/// directory (created with O_EXCL; a name taken by another writer is retried with a
/// new random part), commit() fsyncs, closes and renames it over `path` (then fsyncs
/// the directory). Without commit() (an exception on the way) the temporary file is
/// removed and an existing `path` is untouched. The writer never truncates or
/// removes a file it did not create.
class AtomicFile final : public detail::ByteSink {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    static thread_local std::mt19937_64 gen{std::random_device{}() ^ (std::uint64_t(::getpid()) << 32)};
    for (int attempt = 0; fd_ < 0; ++attempt) {
      char suffix[24];
      std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(gen()));
      temp_ = path_ + kTempMarker + std::to_string(::getpid()) + "." + suffix;
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && (errno != EEXIST || attempt == 15)) fail_errno("create");
    }
  }
  ~AtomicFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void commit() {
    if (::fsync(fd_) != 0) fail_errno("fsync");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_errno("close");
    if (::rename(temp_.c_str(), path_.c_str()) != 0) fail_errno("rename");
    committed_ = true;
    // Make the rename durable; the file is in place already, so a failure here is ignored.
    const std::string::size_type slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 protected:
  void write_bytes(const void* data, std::size_t n) override {
    if (!detail::write_all(fd_, data, n)) fail_errno("write");
  }

 private:
  /// Throws write_failed for the failed operation `op` on the temporary file with errno's text.
  [[noreturn]] void fail_errno(const char* op) {
    const int err = errno;
    throw io_error(io_problem::write_failed, path_, "", std::string(op) + " " + temp_ + ": " + std::strerror(err));
  }
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `bytes` to `path` atomically (AtomicFile).
/// @throws io_error(write_failed) naming the file and the failed operation.
inline void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

/// Appends whole records to an existing file: each append() is one write call of
/// the whole record; on a failure (disk full, short write) the file is truncated back
/// to its length before the record, so it never ends in a partial record.
class AppendFile {
 public:
  /// @throws io_error(write_failed) when `path` cannot be opened for writing.
  explicit AppendFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) fail("open for appending", errno);
    end_ = ::lseek(fd_, 0, SEEK_END);
    if (end_ < 0) fail("seek", errno);
  }
  ~AppendFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  /// Postcondition: the file holds every earlier record and `record`, or (on throw) every earlier record only.
  /// @throws io_error(write_failed) with the system's reason.
  void append(std::string_view record) {
    if (detail::write_all(fd_, record.data(), record.size())) {
      end_ += static_cast<off_t>(record.size());
      return;
    }
    const int err = errno;
    if (::ftruncate(fd_, end_) != 0) fail("write (and truncating back the partial record)", err);
    fail("write", err);
  }

 private:
  [[noreturn]] void fail(const char* op, int err) {
    throw io_error(io_problem::write_failed, path_, "", std::string(op) + ": " + std::strerror(err));
  }
  std::string path_;
  int fd_ = -1;
  off_t end_ = 0;
};

/// The whole content of a regular file.
/// @throws io_error(open_failed) naming the file.
inline std::string read_file(const std::string& path) {
  detail::FileSource src(path);
  std::string out(static_cast<std::size_t>(src.size()), '\0');
  src.read(0, out.size(), out.data());
  return out;
}

}  // namespace scalora::io
