// SPDX-License-Identifier: Apache-2.0
// Consumer of the installed toy component (cmake --install --component toy):
// generates a small syn-sst2 split with scalora::tasks (SST-2's header and one
// line per example) and checks scalora::io's sha256 against FIPS 180-4's "abc".
#include <algorithm>
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
  const auto lines = std::count(text.begin(), text.end(), '\n');
  const bool ok = text.rfind("sentence\tlabel\n", 0) == 0 && lines == 1 + 64 &&
                  scalora::io::sha256_hex("abc") ==
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  std::cout << (ok ? "pass" : "FAIL") << " syn-sst2 through the installed scalora::tasks (" << text.size()
            << " bytes)\n";
  return ok ? 0 : 1;
}
