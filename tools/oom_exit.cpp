// SPDX-License-Identifier: Apache-2.0
// Out of memory is a clean exit, status 3 (docs/validating.md, "Exit status").
//
// Eigen 3.4's DenseStorage::resize frees the old buffer before allocating the
// new one; when the allocation throws std::bad_alloc the matrix keeps the freed
// pointer, and unwinding destroys it a second time ("double free or
// corruption", SIGABRT). No destructor may run after such a throw, so the tools
// linked with this file (-Wl,--wrap=__cxa_throw, tools/CMakeLists.txt) exit at
// the throw of a std::bad_alloc from their own code: the message is written
// with write(2) (no allocation), open files are closed by the kernel, output
// locks released, and temporaries are removed by the next run (io/output_dir.hpp).
// Closer still to the limit the C++ runtime cannot allocate the exception
// object itself and calls std::terminate with no active exception: that too
// exits 3 here (an uncaught exception still aborts).
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <new>
#include <typeinfo>

namespace {

[[noreturn]] void exit_out_of_memory() {
  static const char message[] = "out of memory (exit status 3)\n";
  if (::write(STDERR_FILENO, message, sizeof message - 1) < 0) {
  }
  ::_exit(3);
}

[[noreturn]] void on_terminate() {
  if (std::current_exception() == nullptr) exit_out_of_memory();  // __cxa_allocate_exception failed
  std::abort();
}

const std::terminate_handler installed = std::set_terminate(on_terminate);

}  // namespace

extern "C" {
[[noreturn]] void __real___cxa_throw(void* object, std::type_info* type, void (*destroy)(void*));

[[noreturn]] void __wrap___cxa_throw(void* object, std::type_info* type, void (*destroy)(void*)) {
  if (type != nullptr && *type == typeid(std::bad_alloc)) exit_out_of_memory();
  __real___cxa_throw(object, type, destroy);
}
}
