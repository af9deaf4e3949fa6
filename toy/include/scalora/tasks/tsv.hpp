// SPDX-License-Identifier: Apache-2.0
// GLUE TSV files: writers in GLUE's exact layouts (syn-* files keep test
// labels and may add a trailing clean_label column) and readers for real
// GLUE files of CoLA, SST-2, MRPC, STS-B, RTE and MNLI.
//
// Reader rules (GLUE's quirks): no quoting; a UTF-8 BOM and CR line ends are
// dropped; empty lines are skipped; CoLA train/dev have no header, CoLA
// test has "index<TAB>sentence"; MRPC texts are columns 3, 4; STS-B texts
// 7, 8 and the score is the last column; MNLI texts 8, 9 and the label is the
// last column, rows whose gold label is "-" are skipped and counted. Test
// files without labels give has_label = false. A malformed row throws
// tasks::format_error naming the file and line; nothing calls exit.
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/io/file.hpp"
#include "scalora/tasks/task.hpp"
#include "scalora/tasks/text.hpp"

namespace scalora::tasks {

/// A malformed GLUE file: what() is "[scalora.tasks.format] FILE:LINE: detail".
class format_error : public error {
 public:
  format_error(std::string file, std::size_t line, const std::string& detail)
      : error("[scalora.tasks.format] " + file + ":" + std::to_string(line) + ": " + detail),
        file_(std::move(file)),
        line_(line) {}
  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

// ---------------------------------------------------------------- writing

namespace detail {

inline std::string label_field(TaskKind task, double label) {
  if (is_regression(task)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", label);
    return buf;
  }
  const int c = int(std::lround(label));
  if (task == TaskKind::rte || task == TaskKind::mnli) return nli_label_text(task, c);
  return std::to_string(c);
}

inline void check_field(const std::string& text, const char* what) {
  if (text.find_first_of("\t\n\r") != std::string::npos)
    throw invalid_argument("examples", argument_problem::out_of_range,
                           std::string(what) + " contains a tab or newline: '" + text + "'");
}

}  // namespace detail

/// The file contents of one split in the GLUE layout of `task`; labels are
/// always written. with_clean_label adds the trailing clean_label column.
inline std::string tsv_text(TaskKind task, Split split, const std::vector<Example>& examples, bool with_clean_label) {
  std::ostringstream os;
  const char* clean_header = with_clean_label ? "\tclean_label" : "";
  const bool mnli_annotated = task == TaskKind::mnli && split != Split::train;
  switch (task) {
    case TaskKind::cola:
      break;  // no header
    case TaskKind::sst2:
      os << "sentence\tlabel" << clean_header << '\n';
      break;
    case TaskKind::mrpc:
      os << "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String" << clean_header << '\n';
      break;
    case TaskKind::stsb:
      os << "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore" << clean_header
         << '\n';
      break;
    case TaskKind::rte:
      os << "index\tsentence1\tsentence2\tlabel" << clean_header << '\n';
      break;
    case TaskKind::mnli:
      os << "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
            "sentence2_parse\tsentence1\tsentence2\t"
         << (mnli_annotated ? "label1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label" : "label1\tgold_label")
         << clean_header << '\n';
      break;
  }
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    detail::check_field(e.sentence1, "sentence1");
    detail::check_field(e.sentence2, "sentence2");
    detail::check_field(e.family, "family");
    const std::string label = detail::label_field(task, e.label);
    switch (task) {
      case TaskKind::cola:
        os << e.family << '\t' << label << '\t' << (label == "0" ? "*" : "") << '\t' << e.sentence1;
        break;
      case TaskKind::sst2:
        os << e.sentence1 << '\t' << label;
        break;
      case TaskKind::mrpc:
        os << label << '\t' << 2 * i + 1 << '\t' << 2 * i + 2 << '\t' << e.sentence1 << '\t' << e.sentence2;
        break;
      case TaskKind::stsb:
        os << i << '\t' << e.family << "\t-\t-\t-\t-\t-\t" << e.sentence1 << '\t' << e.sentence2 << '\t' << label;
        break;
      case TaskKind::rte:
        os << i << '\t' << e.sentence1 << '\t' << e.sentence2 << '\t' << label;
        break;
      case TaskKind::mnli:
        os << i << '\t' << i << '\t' << i << '\t' << e.family << "\t-\t-\t-\t-\t" << e.sentence1 << '\t' << e.sentence2
           << '\t' << label;
        if (mnli_annotated) os << '\t' << label << '\t' << label << '\t' << label << '\t' << label;
        os << '\t' << label;
        break;
    }
    if (with_clean_label) os << '\t' << detail::label_field(task, e.clean_label);
    os << '\n';
  }
  return os.str();
}

// ---------------------------------------------------------------- reading

/// What a reader returns.
struct GlueFile {
  std::vector<Example> examples;
  bool labeled = true;           ///< false for GLUE test files without labels
  bool has_clean_label = false;  ///< a trailing clean_label column was present
  std::size_t skipped_rows = 0;  ///< MNLI rows whose gold label is "-"
};

namespace detail {

inline std::vector<std::string_view> split_tabs(std::string_view line) { return split_on(line, '\t'); }

/// Lines with their 1-based numbers; drops a BOM, CRs and empty lines.
inline std::vector<std::pair<std::size_t, std::string_view>> glue_lines(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::pair<std::size_t, std::string_view>> out;
  std::size_t number = 0, start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (!line.empty()) out.emplace_back(number, line);
    start = end + 1;
  }
  return out;
}

class RowReader {
 public:
  RowReader(const std::string& file, TaskKind task) : file_(file), task_(task) {}

  [[noreturn]] void fail(std::size_t line, const std::string& detail) const { throw format_error(file_, line, detail); }

  std::vector<std::string_view> columns(std::size_t line, std::string_view text, std::size_t min_columns,
                                        std::size_t max_columns = std::size_t(-1)) const {
    auto cols = split_tabs(text);
    if (cols.size() < min_columns || cols.size() > max_columns)
      fail(line, "expected " + std::to_string(min_columns) +
                     (max_columns == min_columns
                          ? std::string()
                          : (max_columns == std::size_t(-1) ? " or more" : "-" + std::to_string(max_columns))) +
                     " tab-separated columns, got " + std::to_string(cols.size()));
    return cols;
  }

  double label(std::size_t line, std::string_view field) const {
    const std::string f(field);
    if (is_regression(task_)) {
      try {
        std::size_t pos = 0;
        const double v = std::stod(f, &pos);
        if (pos == f.size() && v >= 0 && v <= 5) return v;
      } catch (const std::exception&) {
      }
      fail(line, "score '" + f + "' is not a number in [0, 5]");
    }
    if (task_ == TaskKind::rte || task_ == TaskKind::mnli) {
      for (int c = 0; c < num_classes(task_); ++c)
        if (f == nli_label_text(task_, c)) return c;
      fail(line, "label '" + f + "' is not one of " +
                     (task_ == TaskKind::rte ? std::string("entailment, not_entailment")
                                             : std::string("entailment, neutral, contradiction")));
    }
    if (f == "0" || f == "1") return f == "1" ? 1 : 0;
    fail(line, "label '" + f + "' is not 0 or 1");
  }

  std::string header_error(std::string_view header, std::string_view expected) const {
    return "header '" + std::string(header) + "' does not start with '" + std::string(expected) + "'";
  }

 private:
  std::string file_;
  TaskKind task_;
};

inline int column_named(const std::vector<std::string_view>& header, std::string_view name) {
  for (std::size_t k = 0; k < header.size(); ++k)
    if (header[k] == name) return int(k);
  return -1;
}

}  // namespace detail

/// Parses GLUE TSV text in the layout of `task`; `file` names it in errors.
inline GlueFile parse_glue_tsv(std::string_view text, TaskKind task, const std::string& file) {
  using detail::column_named;
  const detail::RowReader reader(file, task);
  const auto lines = detail::glue_lines(text);
  GlueFile out;
  if (lines.empty()) return out;
  auto begins = [](std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; };

  if (task == TaskKind::cola) {
    std::size_t first = 0;
    if (lines[0].second == "index\tsentence") {  // GLUE test file
      out.labeled = false;
      for (std::size_t r = 1; r < lines.size(); ++r) {
        const auto cols = reader.columns(lines[r].first, lines[r].second, 2, 2);
        Example e;
        e.sentence1 = std::string(cols[1]);
        e.has_label = false;
        out.examples.push_back(std::move(e));
      }
      return out;
    }
    for (std::size_t r = first; r < lines.size(); ++r) {
      const auto [number, line] = lines[r];
      const auto cols = reader.columns(number, line, 4, 5);
      if (r == first)
        out.has_clean_label = cols.size() == 5;
      else if ((cols.size() == 5) != out.has_clean_label)
        reader.fail(number, "column count changes from the first row");
      Example e;
      e.family = std::string(cols[0]);
      e.label = e.clean_label = reader.label(number, cols[1]);
      e.sentence1 = std::string(cols[3]);
      if (out.has_clean_label) e.clean_label = reader.label(number, cols[4]);
      out.examples.push_back(std::move(e));
    }
    return out;
  }

  // Every other layout has a header.
  const auto [header_line, header_text] = lines[0];
  const auto header = detail::split_tabs(header_text);
  const int clean_col = column_named(header, "clean_label");
  out.has_clean_label = clean_col >= 0;
  int s1 = -1, s2 = -1, label_col = -1, family_col = -1;
  bool label_is_last = false;
  std::size_t min_cols = 0;
  // GLUE's STS-B and MNLI readers take the label from the last column; with
  // our trailing clean_label it is found by name. Returns "label is last".
  auto require_header = [&](std::string_view prefix) {
    if (!begins(header_text, prefix)) reader.fail(header_line, reader.header_error(header_text, prefix));
  };
  auto label_named_or_last = [&](std::string_view name) {
    out.labeled = column_named(header, name) >= 0;
    if (out.labeled && clean_col >= 0) label_col = column_named(header, name);
    return out.labeled && clean_col < 0;
  };
  switch (task) {
    case TaskKind::sst2:
      if (begins(header_text, "index\tsentence")) {
        out.labeled = false;
        s1 = 1;
      } else if (begins(header_text, "sentence\tlabel")) {
        s1 = 0;
        label_col = 1;
      } else {
        reader.fail(header_line, reader.header_error(header_text, "sentence\tlabel"));
      }
      break;
    case TaskKind::mrpc:
      if (begins(header_text, "Quality\t"))
        label_col = 0;
      else if (begins(header_text, "index\t"))
        out.labeled = false;
      else
        reader.fail(header_line, reader.header_error(header_text, "Quality"));
      s1 = 3;
      s2 = 4;
      break;
    case TaskKind::stsb:
      require_header("index\tgenre\t");
      s1 = 7;
      s2 = 8;
      family_col = 1;
      label_is_last = label_named_or_last("score");
      break;
    case TaskKind::rte:
      require_header("index\tsentence1\tsentence2");
      s1 = 1;
      s2 = 2;
      label_col = column_named(header, "label");
      out.labeled = label_col >= 0;
      break;
    case TaskKind::mnli:
      require_header("index\tpromptID\tpairID\tgenre");
      s1 = 8;
      s2 = 9;
      family_col = 3;
      label_is_last = label_named_or_last("gold_label");
      break;
    case TaskKind::cola:
      break;
  }
  min_cols = std::size_t(std::max({s1, s2, label_col, family_col, clean_col}) + 1);
  if (label_is_last) min_cols = std::max(min_cols, std::size_t(s2 + 2));

  for (std::size_t r = 1; r < lines.size(); ++r) {
    const auto [number, line] = lines[r];
    const auto cols = reader.columns(number, line, min_cols);
    Example e;
    e.sentence1 = std::string(cols[std::size_t(s1)]);
    if (s2 >= 0) e.sentence2 = std::string(cols[std::size_t(s2)]);
    if (family_col >= 0) e.family = std::string(cols[std::size_t(family_col)]);
    e.has_label = out.labeled;
    if (out.labeled) {
      const std::string_view field = label_is_last ? cols.back() : cols[std::size_t(label_col)];
      if (task == TaskKind::mnli && field == "-") {
        ++out.skipped_rows;
        continue;
      }
      e.label = e.clean_label = reader.label(number, field);
      if (clean_col >= 0) e.clean_label = reader.label(number, cols[std::size_t(clean_col)]);
    }
    out.examples.push_back(std::move(e));
  }
  return out;
}

/// Reads a GLUE TSV file in the layout of `task`.
inline GlueFile read_glue_tsv(const std::string& path, TaskKind task) {
  return parse_glue_tsv(io::read_file(path), task, path);
}

}  // namespace scalora::tasks
