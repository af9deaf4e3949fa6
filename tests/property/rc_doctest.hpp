// SPDX-License-Identifier: Apache-2.0
// RapidCheck -> doctest bridge (Debian's RapidCheck has no doctest adapter):
// each property is one doctest check; a counterexample becomes a failure
// message with the shrunk input and the seed that reproduces it
// (RC_PARAMS="seed=<seed>").
#pragma once

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <sstream>
#include <string>

namespace rc {

template <typename Testable>
void doctest_prop(const std::string& description, Testable&& testable) {
  const auto result = detail::checkTestable(std::forward<Testable>(testable));
  std::ostringstream ss;
  detail::printResultMessage(result, ss);
  if (result.template is<detail::SuccessResult>()) {
    DOCTEST_MESSAGE(description << ": " << ss.str());
  } else {
    ss << "\nreproduce with RC_PARAMS=\"seed=" << detail::configuration().testParams.seed << "\"";
  }
  DOCTEST_CHECK_MESSAGE(result.template is<detail::SuccessResult>(), description << "\n" << ss.str());
}

}  // namespace rc
