// SPDX-License-Identifier: Apache-2.0
// Library version as a string and as numbers.
#pragma once
#include "scalora/config.hpp"

namespace scalora {
inline constexpr int version_major = SCALORA_VERSION_MAJOR;
inline constexpr int version_minor = SCALORA_VERSION_MINOR;
inline constexpr int version_patch = SCALORA_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";
}  // namespace scalora
