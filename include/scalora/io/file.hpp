// SPDX-License-Identifier: Apache-2.0
// Whole files: atomic writes (temporary file + fsync + rename) and whole
// reads, with io_error naming the file. Every writer of the toolkit (tensor
// and case files, logs, reports, manifests, generated tasks) goes through
// AtomicFile, so a failed or interrupted write never leaves a partial file.
// POSIX.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/io_error.hpp"

namespace scalora::io {

/// Writes `path` atomically: the bytes go to "<path>.tmp.<pid>" in the same directory,
/// commit() fsyncs, closes and renames it over `path` (then fsyncs the directory).
/// Without commit() (an exception on the way) the temporary file is removed and an
/// existing `path` is untouched. A temporary name that already exists is an error
/// (O_EXCL): the writer never truncates or removes a file it did not create.
class AtomicFile final : public detail::ByteSink {
 public:
  explicit AtomicFile(std::string path)
      : path_(std::move(path)), temp_(path_ + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) fail_errno("create");
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
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0) {
      const ssize_t put = ::write(fd_, p, n < (std::size_t{1} << 30) ? n : (std::size_t{1} << 30));
      if (put < 0 && errno == EINTR) continue;
      if (put == 0) errno = EIO;
      if (put <= 0) fail_errno("write");
      p += put;
      n -= static_cast<std::size_t>(put);
    }
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

/// The whole content of a regular file.
/// @throws io_error(open_failed) naming the file.
inline std::string read_file(const std::string& path) {
  detail::FileSource src(path);
  std::string out(static_cast<std::size_t>(src.size()), '\0');
  src.read(0, out.size(), out.data());
  return out;
}

}  // namespace scalora::io
