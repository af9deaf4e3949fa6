# SPDX-License-Identifier: Apache-2.0
# Every public header (those of reference/ and toy/ with
# -DSCALORA_HEADER_CHECKS_ALL=ON, below) compiles alone against only its
# component's declared dependencies: one generated translation unit per header ("#include <the
# header>" and nothing else), in an object library per component that links
# exactly the component's target. A header that forgets an include, or needs
# a library its component does not declare (Eigen in core, Boost outside the
# reference, Thrust outside gpu), fails the build. Which scalora headers a
# component may include is checked textually by .ci/check_layout.py (the
# README's "may include" table).
#
# An umbrella header (one whose lines are only comments, `#pragma once` and
# `#include`s, e.g. scalora/reference.hpp) gets no translation unit of its own:
# it compiles alone when each header it includes does, and those are checked
# here. Compiling scalora/reference.hpp alone costs half a minute of CI.
#
#   component  headers                                   compiled against
#   core       include/scalora/core, config/error/version   include/ only (no Eigen)
#   linalg     include/scalora/linalg, scalora.hpp         scalora::scalora (Eigen)
#   io         include/scalora/io, io.hpp                   scalora::io
#   reference  reference/include/scalora/reference/*.hpp and reference.hpp: scalora::reference
#   gpu        gpu/include/scalora/gpu/*.hpp and gpu.hpp: scalora::gpu + Thrust CPP
#   tasks      toy/include/scalora/tasks, tasks.hpp         scalora::tasks
#   model      toy/include/scalora/model, model.hpp         scalora::model
#   train      toy/include/scalora/train                    scalora::train
function(scalora_header_check component root)
  set(headers)
  foreach(pattern IN LISTS ARGN)
    file(GLOB found RELATIVE ${root} CONFIGURE_DEPENDS ${root}/${pattern})
    list(APPEND headers ${found})
  endforeach()
  list(SORT headers)
  set(sources)
  set(umbrellas 0)
  foreach(h IN LISTS headers)
    file(STRINGS ${root}/${h} lines)
    list(FILTER lines EXCLUDE REGEX "^[ \t]*(//.*|#pragma once|#include .*)?$")
    if(NOT lines)
      math(EXPR umbrellas "${umbrellas} + 1")
      continue()
    endif()
    string(MAKE_C_IDENTIFIER ${h} id)
    set(tu ${CMAKE_CURRENT_BINARY_DIR}/header_checks/${component}/${id}.cpp)
    file(CONFIGURE OUTPUT ${tu} CONTENT "// Generated: ${h} compiles alone.\n#include \"${h}\"\n")
    list(APPEND sources ${tu})
  endforeach()
  add_library(header_check.${component} OBJECT ${sources})
  target_compile_options(header_check.${component} PRIVATE -O0 -Wall -Wextra
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  list(LENGTH sources count)
  message(STATUS "scalora: header checks: ${component}, ${count} headers (${umbrellas} umbrella)")
endfunction()

set(inc ${PROJECT_SOURCE_DIR}/include)
scalora_header_check(core ${inc} scalora/core/*.hpp scalora/config.hpp scalora/error.hpp scalora/version.hpp)
target_include_directories(header_check.core PRIVATE ${inc})
target_compile_features(header_check.core PRIVATE cxx_std_17)
scalora_header_check(linalg ${inc} scalora/linalg/*.hpp scalora/scalora.hpp)
target_link_libraries(header_check.linalg PRIVATE scalora::scalora)
scalora_header_check(io ${inc} scalora/io/*.hpp scalora/io/detail/*.hpp scalora/io.hpp)
target_link_libraries(header_check.io PRIVATE scalora::io)
if(TARGET scalora::thrust_cpp)
  scalora_header_check(gpu ${PROJECT_SOURCE_DIR}/gpu/include scalora/gpu/*.hpp scalora/gpu.hpp)
  target_link_libraries(header_check.gpu PRIVATE scalora::gpu scalora::thrust_cpp)
endif()

# Above, the shipped library's components (core, linalg, io, gpu): always. Below,
# the reference and the toy components, with -DSCALORA_HEADER_CHECKS_ALL=ON: about
# 300 CPU-seconds, most of the header checks' cost in CI, because each reference
# header instantiates the exact engine (docs/performance.md, "CI's cost").
option(SCALORA_HEADER_CHECKS_ALL "header checks of reference/ and toy/ too" OFF)
if(NOT SCALORA_HEADER_CHECKS_ALL)
  return()
endif()
scalora_header_check(reference ${PROJECT_SOURCE_DIR}/reference/include scalora/reference/*.hpp scalora/reference.hpp)
target_link_libraries(header_check.reference PRIVATE scalora::reference)
set(toy ${PROJECT_SOURCE_DIR}/toy/include)
scalora_header_check(tasks ${toy} scalora/tasks/*.hpp scalora/tasks.hpp)
target_link_libraries(header_check.tasks PRIVATE scalora::tasks)
scalora_header_check(model ${toy} scalora/model/*.hpp scalora/model.hpp)
target_link_libraries(header_check.model PRIVATE scalora::model)
scalora_header_check(train ${toy} scalora/train/*.hpp)
target_link_libraries(header_check.train PRIVATE scalora::train)
