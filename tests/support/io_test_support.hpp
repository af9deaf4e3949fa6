// SPDX-License-Identifier: Apache-2.0
// Helpers of the scalora::io tests: a scratch directory, file bytes, and the check
// that a call throws io_error with a given problem naming a file and a tensor.
#pragma once

#include <doctest/doctest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "scalora/io.hpp"

namespace scalora::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its files at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/scalora-io-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path_ = buf.data();
  }
  ~ScratchDir() {
    for (const std::string& name : entries()) {
      const std::string p = path_ + "/" + name;
      if (::unlink(p.c_str()) != 0) ::rmdir(p.c_str());
    }
    ::chmod(path_.c_str(), 0700);
    ::rmdir(path_.c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Names in the directory, without "." and "..".
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
      }
      ::closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

inline std::vector<unsigned char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void put_file(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::vector<unsigned char> bytes_of(const std::string& s) { return std::vector<unsigned char>(s.begin(), s.end()); }

/// Runs f; requires io_error with `problem` whose file() and tensor() are as given and
/// whose what() is "[scalora.io.<problem>] <file>: tensor '<tensor>': ..." (parts
/// left out when empty; bytes outside printable ASCII escaped as \xNN). Any other exception, or none, fails the test.
template <class F>
void expect_io_error(F&& f, io::io_problem problem, const std::string& file, const std::string& tensor) {
  const std::string id = std::string("[scalora.io.") + io::to_string(problem) + "] ";
  try {
    f();
    FAIL_CHECK("no exception; expected " << id);
  } catch (const io::io_error& e) {
    const std::string what = e.what();
    CHECK_MESSAGE(e.problem() == problem, what);
    CHECK_MESSAGE(e.file() == file, what);
    CHECK_MESSAGE(e.tensor() == tensor, what);
    std::string prefix = id;
    if (!file.empty()) prefix += file + ": ";
    if (!tensor.empty()) prefix += "tensor '" + io::detail::printable(tensor) + "': ";
    CHECK_MESSAGE(what.rfind(prefix, 0) == 0, what << "\n  expected prefix " << prefix);
    CHECK_MESSAGE(what.size() > prefix.size(), what);
  }
}

}  // namespace scalora::test
