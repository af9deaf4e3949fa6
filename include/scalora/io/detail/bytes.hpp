// SPDX-License-Identifier: Apache-2.0
// Byte plumbing for the readers and writers: checked size arithmetic, little-endian
// loads/stores, random-access sources (memory, file, window) and output sinks
// (the atomic file sink is public: scalora/io/file.hpp).
//
// POSIX (open/pread/fstat): the file source needs a regular file and never reads past
// the size fstat reported, so a reader allocates at most what the file holds.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "scalora/io/io_error.hpp"

namespace scalora::io::detail {

/// a * b, or false when it does not fit in std::uint64_t.
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}
/// a + b, or false when it does not fit in std::uint64_t.
inline bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a) return false;
  out = a + b;
  return true;
}

inline std::uint64_t load_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
inline void append_le(std::vector<unsigned char>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

/// Random-access input of known size. read() throws io_error(truncated) when the
/// range is not inside [0, size()), and io_error(open_failed) when the OS read fails.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  /// Copies bytes [offset, offset + n) to dst.
  void read(std::uint64_t offset, std::size_t n, void* dst) const {
    check_range(offset, n);
    if (n != 0) read_unchecked(offset, n, dst);
  }
  /// Bytes [offset, offset + n) as a vector (allocated only after the range check).
  std::vector<unsigned char> read_vector(std::uint64_t offset, std::size_t n) const {
    check_range(offset, n);
    std::vector<unsigned char> v(n);
    if (n != 0) read_unchecked(offset, n, v.data());
    return v;
  }
  void check_range(std::uint64_t offset, std::uint64_t n) const {
    std::uint64_t end;
    if (!checked_add(offset, n, end) || end > size())
      throw io_error(io_problem::truncated, name(), "",
                     "needs bytes [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                         std::to_string(n) + ") but has " + std::to_string(size()));
  }
  /// Name for error messages: the path, or the source name given by the caller.
  virtual const std::string& name() const = 0;

 protected:
  virtual void read_unchecked(std::uint64_t offset, std::size_t n, void* dst) const = 0;
};

/// A caller-owned buffer.
class MemorySource final : public ByteSource {
 public:
  MemorySource(const unsigned char* data, std::size_t size, std::string name)
      : data_(data), size_(size), name_(std::move(name)) {}
  std::uint64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  void read_unchecked(std::uint64_t offset, std::size_t n, void* dst) const override {
    std::memcpy(dst, data_ + offset, n);
  }
  const unsigned char* data_;
  std::size_t size_;
  std::string name_;
};

/// A regular file opened read-only; its size is fixed at open time.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(std::string path) : name_(std::move(path)) {
    fd_ = ::open(name_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      throw io_error(io_problem::open_failed, name_, "", std::strerror(err));
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw io_error(io_problem::open_failed, name_, "", "not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  void read_unchecked(std::uint64_t offset, std::size_t n, void* dst) const override {
    auto* out = static_cast<unsigned char*>(dst);
    while (n > 0) {
      const std::size_t chunk = n < (std::size_t{1} << 30) ? n : (std::size_t{1} << 30);
      const ssize_t got = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const int err = errno;
        throw io_error(io_problem::open_failed, name_, "", std::string("read: ") + std::strerror(err));
      }
      if (got == 0) throw io_error(io_problem::truncated, name_, "", "file shrank while being read");
      out += got;
      offset += static_cast<std::uint64_t>(got);
      n -= static_cast<std::size_t>(got);
    }
  }
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string name_;
};

/// Bytes [offset, offset + size) of another source (a ZIP member); offset + size must
/// not exceed parent.size() (the caller checks).
class WindowSource final : public ByteSource {
 public:
  WindowSource(const ByteSource& parent, std::uint64_t offset, std::uint64_t size)
      : parent_(parent), offset_(offset), size_(size) {}
  std::uint64_t size() const override { return size_; }
  const std::string& name() const override { return parent_.name(); }

 private:
  void read_unchecked(std::uint64_t offset, std::size_t n, void* dst) const override {
    parent_.read(offset_ + offset, n, dst);
  }
  const ByteSource& parent_;
  std::uint64_t offset_;
  std::uint64_t size_;
};

/// Sequential output.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  void write(const void* data, std::size_t n) {
    if (n != 0) write_bytes(data, n);
  }
  void write(const std::vector<unsigned char>& v) { write(v.data(), v.size()); }

 protected:
  virtual void write_bytes(const void* data, std::size_t n) = 0;
};

class VectorSink final : public ByteSink {
 public:
  std::vector<unsigned char> bytes;

 protected:
  void write_bytes(const void* data, std::size_t n) override {
    const auto* p = static_cast<const unsigned char*>(data);
    bytes.insert(bytes.end(), p, p + n);
  }
};

}  // namespace scalora::io::detail
