// SPDX-License-Identifier: Apache-2.0
// GLUE TSV writers and readers: round trips of generated tasks through the
// GLUE reader, hand-written fixtures in real GLUE layouts, errors naming
// file and line, meta.json with sha256 (FIPS 180-4 test vectors).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "scalora/tasks/dataset.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/tasks/tsv.hpp"

using namespace scalora::tasks;
namespace io = scalora::io;

namespace {

const std::string kFixtures = SCALORA_GLUE_FIXTURE_DIR;

void check_same(const std::vector<Example>& written, const GlueFile& read, TaskKind t) {
  REQUIRE(read.examples.size() == written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    const Example& a = written[i];
    const Example& b = read.examples[i];
    CHECK(b.sentence1 == a.sentence1);
    CHECK(b.sentence2 == a.sentence2);
    CHECK(b.label == a.label);
    CHECK(b.clean_label == a.clean_label);
    CHECK(b.has_label);
    if (t == TaskKind::cola || t == TaskKind::stsb || t == TaskKind::mnli) CHECK(b.family == a.family);
  }
}

std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("scalora_glue_test_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
  CHECK(io::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(io::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(io::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(io::sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(io::sha256_hex(std::string(55, 'x')).size() == 64);  // padding fits one block
  CHECK(io::sha256_hex(std::string(56, 'x')) != io::sha256_hex(std::string(55, 'x')));
}

TEST_CASE("generated tasks round-trip through the GLUE reader, with and without noise") {
  for (TaskKind t : kAllTasks)
    for (double noise : {0.0, 0.1}) {
      CAPTURE(std::string(task_name(t)));
      CAPTURE(noise);
      TaskConfig c;
      c.task = t;
      c.label_noise = noise;
      c.train_size = 300;
      c.dev_size = c.test_size = 60;
      const TaskGenerator g(c);
      for (Split s : task_splits(t)) {
        const auto examples = g.split(s);
        const std::string text = tsv_text(t, s, examples, noise > 0);
        const GlueFile read = parse_glue_tsv(text, t, "mem.tsv");
        CHECK(read.labeled);
        CHECK(read.has_clean_label == (noise > 0));
        CHECK(read.skipped_rows == 0);
        check_same(examples, read, t);
      }
    }
}

TEST_CASE("write_task writes GLUE files and meta.json with their sha256") {
  const auto dir = scratch_dir("write_task");
  TaskConfig c;
  c.task = TaskKind::mnli;
  c.seed = 3;
  c.rank_dial = 8;
  c.label_noise = 0.05;
  c.train_size = 200;
  c.dev_size = c.test_size = 40;
  const WrittenTask w = write_task(c, dir.string());
  CHECK(w.directory == (dir / "syn-mnli").string());
  REQUIRE(w.files.size() == 5);
  const TaskGenerator g(c);
  for (const WrittenFile& f : w.files) {
    const auto path = dir / "syn-mnli" / f.name;
    REQUIRE(std::filesystem::exists(path));
    const std::string bytes = io::read_file(path.string());
    CHECK(io::sha256_hex(bytes) == f.sha256);
    CHECK(w.meta_json.find("\"" + f.name + "\": {\"examples\": " + std::to_string(f.examples) + ", \"sha256\": \"" +
                           f.sha256 + "\"") != std::string::npos);
    std::size_t total = 0;
    for (std::size_t n : f.class_counts) total += n;
    CHECK(total == f.examples);
  }
  // The reader gets back exactly what the generator produced.
  const GlueFile dev = read_glue_tsv((dir / "syn-mnli" / "dev_mismatched.tsv").string(), TaskKind::mnli);
  check_same(g.split(Split::dev_mismatched), dev, TaskKind::mnli);
  const std::string meta = io::read_file((dir / "syn-mnli" / "meta.json").string());
  CHECK(meta == w.meta_json);
  for (const char* needle : {"\"generator_version\": 1", "\"seed\": 3", "\"rank_dial\": 8", "\"task\": \"syn-mnli\"",
                             "\"noise_rate\": 0.05", "\"class_counts\": {\"entailment\": "})
    CHECK_MESSAGE(meta.find(needle) != std::string::npos, needle);
  // Same configuration, same bytes.
  const auto again = scratch_dir("write_task_again");
  const WrittenTask w2 = write_task(c, again.string());
  for (std::size_t k = 0; k < w.files.size(); ++k) CHECK(w2.files[k].sha256 == w.files[k].sha256);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(again);
}

TEST_CASE("real GLUE layouts: hand-written fixtures") {
  SUBCASE("CoLA train without header, test with index header") {
    const GlueFile f = read_glue_tsv(kFixtures + "/CoLA/train.tsv", TaskKind::cola);
    REQUIRE(f.examples.size() == 4);
    CHECK(f.examples[0].family == "gj04");
    CHECK(f.examples[0].label == 1);
    CHECK(f.examples[1].label == 0);
    CHECK(f.examples[1].sentence1 == "The cat sat the mat on.");
    CHECK(f.examples[3].sentence1 == "He seems sleeping \"quietly\".");
    const GlueFile test = read_glue_tsv(kFixtures + "/CoLA/test.tsv", TaskKind::cola);
    CHECK_FALSE(test.labeled);
    REQUIRE(test.examples.size() == 2);
    CHECK(test.examples[1].sentence1 == "Barked dog the.");
    CHECK_FALSE(test.examples[1].has_label);
  }
  SUBCASE("SST-2 dev and unlabeled test") {
    const GlueFile f = read_glue_tsv(kFixtures + "/SST-2/dev.tsv", TaskKind::sst2);
    REQUIRE(f.examples.size() == 3);
    CHECK(f.examples[0].sentence1 == "a warm , funny little film . ");
    CHECK(f.examples[1].label == 0);
    CHECK(f.examples[2].label == 1);
    const GlueFile test = read_glue_tsv(kFixtures + "/SST-2/test.tsv", TaskKind::sst2);
    CHECK_FALSE(test.labeled);
    CHECK(test.examples[1].sentence1 == "pure joy from start to finish");
  }
  SUBCASE("MRPC with a byte-order mark, CRLF and a blank last line") {
    const GlueFile f = read_glue_tsv(kFixtures + "/MRPC/train.tsv", TaskKind::mrpc);
    REQUIRE(f.examples.size() == 2);
    CHECK(f.examples[0].label == 1);
    CHECK(f.examples[0].sentence2 == "Profits rose 5 percent, the company said.");
    CHECK(f.examples[1].label == 0);
    const GlueFile test = read_glue_tsv(kFixtures + "/MRPC/test.tsv", TaskKind::mrpc);
    CHECK_FALSE(test.labeled);
    CHECK(test.examples[0].sentence1 == "The mayor opened the bridge.");
  }
  SUBCASE("STS-B: texts in columns 7 and 8, score last") {
    const GlueFile f = read_glue_tsv(kFixtures + "/STS-B/dev.tsv", TaskKind::stsb);
    REQUIRE(f.examples.size() == 3);
    CHECK(f.examples[0].label == 4.8);
    CHECK(f.examples[1].label == 0.0);
    CHECK(f.examples[2].label == 3.25);
    CHECK(f.examples[0].family == "main-captions");
    CHECK(f.examples[2].sentence2 == "That depends on what soil you have.");
    const GlueFile test = read_glue_tsv(kFixtures + "/STS-B/test.tsv", TaskKind::stsb);
    CHECK_FALSE(test.labeled);
    CHECK(test.examples[0].sentence2 == "A car crash happened.");
  }
  SUBCASE("RTE text labels") {
    const GlueFile f = read_glue_tsv(kFixtures + "/RTE/train.tsv", TaskKind::rte);
    REQUIRE(f.examples.size() == 2);
    CHECK(f.examples[0].label == 0);
    CHECK(f.examples[1].label == 1);
    CHECK(f.examples[0].sentence1 == "The museum opened in 1990. It holds old maps.");
    CHECK_FALSE(read_glue_tsv(kFixtures + "/RTE/test.tsv", TaskKind::rte).labeled);
  }
  SUBCASE("MNLI: 12 and 16 columns, texts 8 and 9, label last, '-' skipped") {
    const GlueFile train = read_glue_tsv(kFixtures + "/MNLI/train.tsv", TaskKind::mnli);
    REQUIRE(train.examples.size() == 2);
    CHECK(train.examples[0].sentence1 == "The cat slept.");
    CHECK(train.examples[1].label == 2);
    CHECK(train.examples[1].family == "travel");
    const GlueFile dev = read_glue_tsv(kFixtures + "/MNLI/dev_matched.tsv", TaskKind::mnli);
    REQUIRE(dev.examples.size() == 2);
    CHECK(dev.skipped_rows == 1);
    CHECK(dev.examples[0].label == 1);
    CHECK(dev.examples[1].label == 0);
    CHECK(dev.examples[1].sentence2 == "A law passed.");
    const GlueFile test = read_glue_tsv(kFixtures + "/MNLI/test_matched.tsv", TaskKind::mnli);
    CHECK_FALSE(test.labeled);
    CHECK(test.examples[0].sentence2 == "A gift was received.");
  }
}

TEST_CASE("malformed rows throw format_error naming file and line") {
  auto fails_at = [](const std::string& text, TaskKind t, std::size_t line, const std::string& fragment) {
    try {
      parse_glue_tsv(text, t, "bad.tsv");
    } catch (const format_error& e) {
      const scalora::error& base = e;  // derives from scalora::error
      const std::string what = base.what();
      CHECK(e.file() == "bad.tsv");
      CHECK(e.line() == line);
      CHECK_MESSAGE(what.find("bad.tsv:" + std::to_string(line) + ":") != std::string::npos, what);
      CHECK_MESSAGE(what.find(fragment) != std::string::npos, what);
      return;
    }
    FAIL("no format_error");
  };
  fails_at("gj04\t1\t\tfine.\ngj04\t1\tmissing column\n", TaskKind::cola, 2, "columns");
  fails_at("gj04\t2\t\tbad label.\n", TaskKind::cola, 1, "not 0 or 1");
  fails_at("sentence\tlabel\nok\t1\n\nno label here\n", TaskKind::sst2, 4, "columns");
  fails_at("label\tsentence\nx\t1\n", TaskKind::sst2, 1, "header");
  fails_at("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n", TaskKind::rte, 2, "entailment");
  fails_at(
      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
      "0\tg\tf\ty\to\ts\ts\ta\tb\t7.5\n",
      TaskKind::stsb, 2, "[0, 5]");
  CHECK_THROWS_AS(read_glue_tsv(kFixtures + "/does/not/exist.tsv", TaskKind::rte), io::io_error);
  CHECK(parse_glue_tsv("", TaskKind::sst2, "empty.tsv").examples.empty());
}

TEST_CASE("writers refuse text with tabs or newlines") {
  Example e;
  e.sentence1 = "a\tb";
  CHECK_THROWS_AS(tsv_text(TaskKind::sst2, Split::train, {e}, false), scalora::invalid_argument);
}
