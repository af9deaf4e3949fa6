// SPDX-License-Identifier: Apache-2.0
// Small text helpers shared by the lexicon, the grammar and the TSV reader.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scalora::tasks::detail {

/// The fields of `text` between separators (empty fields kept; "" gives one).
inline std::vector<std::string_view> split_on(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t k = 0; k <= text.size(); ++k)
    if (k == text.size() || text[k] == separator) {
      out.push_back(text.substr(start, k - start));
      start = k + 1;
    }
  return out;
}

}  // namespace scalora::tasks::detail
