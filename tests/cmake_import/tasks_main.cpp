// SPDX-License-Identifier: Apache-2.0
// Consumer of the installed toy component (cmake --install --component toy):
// generates a small syn-sst2 split with scalora::tasks and checks its checksum
// round trip through scalora::io.
#include <iostream>
#include <scalora/io/sha256.hpp>
#include <scalora/tasks.hpp>

int main() {
  using namespace scalora::tasks;
  TaskConfig c;
  c.task = TaskKind::sst2;
  c.rank_dial = 8;
  c.train_size = 64;
  const TaskGenerator g(c);
  const std::string text = tsv_text(c.task, Split::train, g.split(Split::train), false);
  const bool ok = !text.empty() && scalora::io::sha256_hex(text).size() == 64;
  std::cout << (ok ? "pass" : "FAIL") << " syn-sst2 through the installed scalora::tasks (" << text.size()
            << " bytes)\n";
  return ok ? 0 : 1;
}
