// SPDX-License-Identifier: Apache-2.0
// scalora-verify: judges the dumped tensors of one ScaLoRA step of a third-party
// implementation (case files, io/case_file.hpp) against the exact reference.
//
//   scalora-verify [--json] [--junit FILE] [--compute F64|F32|BF16|F16] [--mode hybrid|scalar]
//                  [--rule paper|bound] [--certified-only] [--eps-scale X] [--tol ID=VALUE]...
//                  [--timing] CASE...
//
// Exit status (docs/validating.md, "Exit status"): 0 pass, 1 a check failed,
// 2 a case or the arguments are invalid, 3 the verifier could not do its work
// (I/O, memory), 4 inconclusive (no check failed, one could not be decided).
// Several cases: the worst, in the order 0 < 4 < 1 < 2 < 3.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scalora/io/file.hpp"
#include "verify_core.hpp"
#include "exit_status.hpp"

namespace {

using namespace scalora;
using reference::Check;
using reference::check_status;
using reference::Verdict;
using reference::verdict_status;

const char* kUsage =
    "usage: scalora-verify [options] CASE...\n"
    "  CASE             a .safetensors or .npz case file, or a directory of <name>.npy files\n"
    "  --json           print one JSON document (every case, every check) instead of the report\n"
    "  --junit FILE     also write JUnit XML for CI systems (atomically)\n"
    "  --compute DTYPE  precision the implementation computed M, lambda, u in: F64, F32, BF16, F16\n"
    "                   (default: metadata scalora.compute_dtype, else F64 if every input is F64, else F32)\n"
    "  --mode MODE      hybrid (column when feasible, else scalar; default) or scalar (Theorem 3 only)\n"
    "  --rule RULE      paper (the paper's hybrid rule's optimum; default) or bound (the best u >= 0)\n"
    "  --certified-only no exact fallback: a comparison its enclosure cannot decide is inconclusive\n"
    "  --eps-scale X    multiply every tolerance by X > 0\n"
    "  --tol ID=VALUE   set the tolerance of check ID (in its unit; repeatable), e.g. --tol W_unchanged=64\n"
    "  --timing         print where the time went (stderr)\n"
    "exit status: 0 pass, 1 a check failed, 2 an invalid case or arguments, 3 I/O or memory failure,\n"
    "             4 inconclusive (several cases: the worst, 0 < 4 < 1 < 2 < 3)\n"
    "check ids: optimality out.A out.B out.grad_A out.grad_B out.exp_avg_A out.exp_avg_sq_A out.exp_avg_B\n"
    "           out.exp_avg_sq_B W_unchanged grad_A_vs_G grad_B_vs_G (diagnostics: branch squared_scalings\n"
    "           bound_decrease theorem1)\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::vector<std::string> cases;
  bool json = false, timing = false;
  std::string junit;
  reference::VerifyOptions verify;
};

double parse_number(const std::string& flag, const std::string& text) {
  try {
    std::size_t pos = 0;
    const double x = std::stod(text, &pos);
    if (pos == text.size() && std::isfinite(x) && x > 0) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + ": expected a finite number > 0, got '" + text + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw UsageError(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  const auto& ids = reference::verify_check_ids();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--timing") {
      o.timing = true;
    } else if (a == "--junit") {
      o.junit = value(i);
    } else if (a == "--compute") {
      const std::string v = value(i);
      o.verify.compute = io::dtype_from_safetensors_name(v);
      if (!o.verify.compute || !io::is_floating(*o.verify.compute))
        throw UsageError("--compute: expected F64, F32, BF16 or F16, got '" + v + "'");
    } else if (a == "--mode") {
      const std::string v = value(i);
      if (v == "hybrid") o.verify.mode = scaling_mode::hybrid;
      else if (v == "scalar") o.verify.mode = scaling_mode::scalar_only;
      else throw UsageError("--mode: expected hybrid or scalar, got '" + v + "'");
    } else if (a == "--rule") {
      const std::string v = value(i);
      if (v == "paper") o.verify.rule = reference::scaling_rule::paper;
      else if (v == "bound") o.verify.rule = reference::scaling_rule::bound;
      else throw UsageError("--rule: expected paper or bound, got '" + v + "'");
    } else if (a == "--certified-only") {
      o.verify.certified_only = true;
    } else if (a == "--eps-scale") {
      o.verify.eps_scale = parse_number(a, value(i));
    } else if (a == "--tol") {
      const std::string v = value(i);
      const std::size_t eq = v.find('=');
      const std::string id = v.substr(0, eq);
      if (eq == std::string::npos || std::find(ids.begin(), ids.end(), id) == ids.end())
        throw UsageError("--tol: expected ID=VALUE with a check id (see --help), got '" + v + "'");
      o.verify.tolerance[id] = parse_number("--tol " + id, v.substr(eq + 1));
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      throw UsageError("unknown option '" + a + "'");
    } else {
      o.cases.push_back(a);
    }
  }
  if (o.cases.empty()) throw UsageError("no CASE given");
  return o;
}

/// The options, or nullopt after printing what is wrong with them and the usage.
std::optional<Options> parse_arguments(int argc, char** argv) {
  try {
    return parse(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "scalora-verify: " << e.what() << "\n" << kUsage;
    return std::nullopt;
  }
}

/// Exit statuses (docs/validating.md) and their order of severity for several cases.
constexpr int kExitPass = 0, kExitFail = 1, kExitInvalid = 2, kExitError = 3, kExitInconclusive = 4;
int severity(int code) {
  switch (code) {
    case kExitPass: return 0;
    case kExitInconclusive: return 1;
    case kExitFail: return 2;
    case kExitInvalid: return 3;
    default: return 4;
  }
}
int worse(int a, int b) { return severity(a) >= severity(b) ? a : b; }

/// One case's outcome: a verdict, or why it could not be judged.
struct Outcome {
  std::string path;
  bool invalid = false;  ///< the case (its file, its tensors) is at fault
  bool error = false;    ///< the verifier could not do its work (I/O, memory)
  std::string message, tensor;
  Verdict verdict;
  double read_seconds = 0;
  int exit_code() const {
    if (error) return kExitError;
    if (invalid) return kExitInvalid;
    switch (verdict.status()) {
      case verdict_status::pass: return kExitPass;
      case verdict_status::fail: return kExitFail;
      case verdict_status::inconclusive: return kExitInconclusive;
    }
    return kExitFail;
  }
  const char* status() const {
    if (error) return "error";
    if (invalid) return "invalid";
    return reference::to_string(verdict.status());
  }
};

Outcome judge(const std::string& path, const reference::VerifyOptions& vo) {
  Outcome out;
  out.path = path;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const io::Case c = io::read_case(path);
    out.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.verdict = tools::verify(c, vo);  // without outputs: the reference, for the report
    if (!c.has_outputs())
      throw io::io_error(io::io_problem::missing_tensor, path, "out.*",
                         "the case holds no output (out.A, out.W_pt, ...): nothing to verify");
  } catch (const io::io_error& e) {
    out.invalid = true;  // the file cannot be opened or its content is not a valid case
    out.message = e.what();
    out.tensor = e.tensor();
  } catch (const std::bad_alloc&) {
    out.error = true;
    out.message = "out of memory while judging " + path;
  } catch (const std::exception& e) {  // scalora::invalid_argument from the reference
    out.invalid = true;
    out.message = std::string(e.what()) + " (in " + path + ")";
  }
  return out;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

std::string vec(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i == 8 && v.size() > 10) return s + " ... (" + std::to_string(v.size()) + " entries)";
    s += (i ? " " : "") + num(v[i]);
  }
  return s;
}

const char* status_word(check_status s) {
  switch (s) {
    case check_status::pass: return "pass";
    case check_status::fail: return "FAIL";
    case check_status::inconclusive: return "INCONCLUSIVE";
    case check_status::info: return "info";
    case check_status::skip: return "skip";
  }
  return "?";
}

/// A value in eps units also in readable relative units when it is large
/// ("4.5e15 eps_F64 (1.0 relative)").
std::string with_relative(double value, const std::string& unit) {
  if (unit.rfind("eps_", 0) != 0 || !(value >= 1e4) || !std::isfinite(value)) return num(value);
  const auto t = io::dtype_from_safetensors_name(unit.substr(4));
  if (!t) return num(value);
  return num(value) + " (" + num(value * io::epsilon(*t)) + " relative)";
}

void print_report(const Outcome& o) {
  std::printf("scalora-verify: %s\n", o.path.c_str());
  const Verdict& v = o.verdict;
  if (v.m > 0) {
    std::printf("  layer      m = %ld, n = %ld, r = %ld; L = %s, lr = %s, lora_scale = %s (kappa = %s)\n", v.m, v.n,
                v.r, num(v.bound.L).c_str(), num(v.bound.lr).c_str(), num(v.bound.lora_scale).c_str(),
                num(v.bound.kappa()).c_str());
    std::string ins, outs;
    for (const auto& [name, t] : v.dtypes)
      (name.rfind("out.", 0) == 0 ? outs : ins) += " " + name + ":" + io::safetensors_name(t);
    std::printf("  inputs    %s\n  outputs   %s\n", ins.c_str(), outs.empty() ? " (none)" : outs.c_str());
    std::printf("  compute    %s (%s); mode %s; rule %s\n", io::safetensors_name(v.compute), v.compute_reason.c_str(),
                v.mode == scaling_mode::hybrid ? "hybrid" : "scalar", reference::to_string(v.rule));
    std::printf("  exact      %s, rank M %ld of %ld, decision margin %+.3g%s\n", v.reference_kind.c_str(), v.rank_M,
                2 * v.r, v.margin, v.flip_possible ? " (within the compute precision's resolution of the boundary)" : "");
    std::printf("             alpha %s\n             beta  %s\n", vec(v.reference_alpha).c_str(),
                vec(v.reference_beta).c_str());
    if (!v.alpha.empty())
      std::printf("  applied    alpha %s  [%s]\n             beta  %s  [%s]\n", vec(v.alpha).c_str(),
                  v.alpha_source.c_str(), vec(v.beta).c_str(), v.beta_source.c_str());
    std::printf("  decrease   applied %s, rule's optimum %s (vanilla %s, Theorem 3 %s, column optimum %s)\n",
                num(v.decrease_applied).c_str(), num(v.decrease_target).c_str(), num(v.decrease_vanilla).c_str(),
                num(v.decrease_scalar).c_str(), num(v.decrease_column).c_str());
    if (!v.decisions.empty()) {
      std::string d;
      for (const auto& [what, by] : v.decisions) d += (d.empty() ? "" : "; ") + what + ": " + by;
      std::printf("  decided by %s\n", d.c_str());
    }
  }
  if (o.invalid || o.error) {
    std::printf("  %s    %s\n\n", o.error ? "ERROR  " : "INVALID", o.message.c_str());
    return;
  }
  std::printf("  checks     (value <= tolerance; units: eps_X = epsilon of dtype X)\n");
  for (const Check& c : v.checks) {
    const char* st = status_word(c.status);
    if (c.status == check_status::skip)
      std::printf("    %-4s  %-18s %s: %s\n", st, c.id.c_str(), c.name.c_str(), c.detail.c_str());
    else
      std::printf("    %-4s  %-18s %10s %s %-10s %-9s %s%s%s\n", st, c.id.c_str(), with_relative(c.value, c.unit).c_str(),
                  c.decides() ? "<=" : "  ", c.decides() ? num(c.tolerance).c_str() : "", c.unit.c_str(),
                  c.name.c_str(), c.detail.empty() ? "" : "; ", c.detail.c_str());
  }
  for (const std::string& n : v.notes) std::printf("  note       %s\n", n.c_str());
  const verdict_status vs = v.status();
  std::printf("  result     %s (%d passed, %d failed, %d inconclusive, %d info, %d skipped)%s%s\n\n",
              vs == verdict_status::pass ? "PASS" : vs == verdict_status::fail ? "FAIL" : "INCONCLUSIVE",
              v.count(check_status::pass), v.count(check_status::fail), v.count(check_status::inconclusive),
              v.count(check_status::info), v.count(check_status::skip), v.decisive() ? "; decided by " : "",
              v.decisive() ? v.decisive()->id.c_str() : "");
}

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json to_json(const Outcome& o) {
  nlohmann::json j;
  j["file"] = o.path;
  j["status"] = o.status();
  j["exit_code"] = o.exit_code();
  if (o.invalid || o.error) {
    j["error"] = o.message;
    j["tensor"] = o.tensor;
  }
  const Verdict& v = o.verdict;
  if (v.m == 0) return j;
  j["m"] = v.m;
  j["n"] = v.n;
  j["r"] = v.r;
  j["L"] = v.bound.L;
  j["lr"] = v.bound.lr;
  j["lora_scale"] = v.bound.lora_scale;
  j["compute"] = io::safetensors_name(v.compute);
  j["compute_reason"] = v.compute_reason;
  j["mode"] = v.mode == scaling_mode::hybrid ? "hybrid" : "scalar";
  j["rule"] = reference::to_string(v.rule);
  for (const auto& [name, t] : v.dtypes) j["dtypes"][name] = io::safetensors_name(t);
  for (const auto& [name, t] : v.value_dtypes) j["value_dtypes"][name] = io::safetensors_name(t);
  j["reference"] = {{"branch", to_string(v.reference_branch)}, {"kind", v.reference_kind},
                    {"rank_M", v.rank_M},                      {"margin", number(v.margin)},
                    {"flip_possible", v.flip_possible},        {"alpha", v.reference_alpha},
                    {"beta", v.reference_beta}};
  j["applied"] = {{"alpha", v.alpha}, {"beta", v.beta}, {"alpha_source", v.alpha_source}, {"beta_source", v.beta_source}};
  j["bound_decrease"] = {{"vanilla", number(v.decrease_vanilla)}, {"scalar", number(v.decrease_scalar)},
                         {"column", number(v.decrease_column)},   {"applied", number(v.decrease_applied)},
                         {"target", number(v.decrease_target)},   {"svd", number(v.decrease_svd)}};
  j["decided_by"] = nlohmann::json::array();
  for (const auto& [what, by] : v.decisions) j["decided_by"].push_back({{"comparison", what}, {"path", by}});
  j["checks"] = nlohmann::json::array();
  for (const Check& c : v.checks)
    j["checks"].push_back({{"id", c.id},
                           {"name", c.name},
                           {"status", reference::to_string(c.status)},
                           {"value", number(c.value)},
                           {"tolerance", number(c.tolerance)},
                           {"unit", c.unit},
                           {"detail", c.detail}});
  j["notes"] = v.notes;
  if (const Check* d = v.decisive()) j["decisive_check"] = d->id;
  return j;
}

std::string xml(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (ch < 0x20 && ch != '\n' && ch != '\t') out += "?";  // not allowed in XML 1.0
        else out += char(ch);
    }
  }
  return out;
}

/// JUnit XML: one testsuite per case, one testcase per check; info checks pass
/// with their value in system-out, skipped ones are <skipped/>, an inconclusive
/// one is <skipped message="inconclusive: ..."/> (neither pass nor failure), an
/// invalid case is one testcase with <error/>.
std::string junit(const std::vector<Outcome>& outcomes) {
  std::ostringstream body;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  for (const Outcome& o : outcomes) {
    const std::string cls = "scalora-verify." + xml(o.path);
    int t = 0, f = 0, e = 0, s = 0;
    std::ostringstream cases;
    if (o.invalid || o.error) {
      t = e = 1;
      cases << "    <testcase classname=\"" << cls << "\" name=\"read case\" time=\"0\">\n      <error message=\""
            << xml(o.message) << "\" type=\"" << o.status() << "\"/>\n    </testcase>\n";
    } else {
      for (const Check& c : o.verdict.checks) {
        ++t;
        const std::string line = c.id + ": value " + num(c.value) + " (tolerance " + num(c.tolerance) + " " + c.unit + ")";
        cases << "    <testcase classname=\"" << cls << "\" name=\"" << xml(c.id + ": " + c.name) << "\" time=\"0\">\n";
        if (c.status == check_status::fail) {
          ++f;
          cases << "      <failure message=\"" << xml(line) << "\" type=\"check\">" << xml(c.detail) << "</failure>\n";
        } else if (c.status == check_status::skip) {
          ++s;
          cases << "      <skipped message=\"" << xml(c.detail) << "\"/>\n";
        } else if (c.status == check_status::inconclusive) {
          ++s;
          cases << "      <skipped message=\"" << xml("inconclusive: " + line + "; " + c.detail) << "\"/>\n";
        } else {
          cases << "      <system-out>" << xml(std::string(reference::to_string(c.status)) + " " + line + "; " + c.detail)
                << "</system-out>\n";
        }
        cases << "    </testcase>\n";
      }
    }
    tests += t;
    failures += f;
    errors += e;
    skipped += s;
    body << "  <testsuite name=\"" << xml(o.path) << "\" tests=\"" << t << "\" failures=\"" << f << "\" errors=\""
         << e << "\" skipped=\"" << s << "\">\n"
         << cases.str() << "  </testsuite>\n";
  }
  std::ostringstream doc;
  doc << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"scalora-verify\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\">\n"
      << body.str() << "</testsuites>\n";
  return doc.str();
}

int run(int argc, char** argv) {
  const std::optional<Options> parsed = parse_arguments(argc, argv);
  if (!parsed) return kExitInvalid;  // bad arguments count as invalid input
  const Options& o = *parsed;
  std::vector<Outcome> outcomes;
  int worst = kExitPass;
  for (const std::string& path : o.cases) {
    outcomes.push_back(judge(path, o.verify));
    const Outcome& out = outcomes.back();
    worst = worse(worst, out.exit_code());
    if (o.timing) {
      std::fprintf(stderr, "scalora-verify: %s: read %.3f s", path.c_str(), out.read_seconds);
      for (const auto& [what, s] : out.verdict.seconds) std::fprintf(stderr, ", %s %.3f s", what.c_str(), s);
      std::fprintf(stderr, "\n");
    }
    if (!o.json) print_report(out);
    if (out.invalid || out.error) std::fprintf(stderr, "scalora-verify: %s\n", out.message.c_str());
  }
  auto word = [](int code) {
    switch (code) {
      case kExitPass: return "pass";
      case kExitFail: return "fail";
      case kExitInvalid: return "invalid";
      case kExitInconclusive: return "inconclusive";
      default: return "error";
    }
  };
  if (o.json) {
    nlohmann::json j;
    j["cases"] = nlohmann::json::array();
    for (const Outcome& out : outcomes) j["cases"].push_back(to_json(out));
    j["status"] = word(worst);
    j["exit_code"] = worst;
    std::cout << j.dump(2) << "\n";
  } else if (outcomes.size() > 1) {
    std::map<int, int> counts;
    for (const Outcome& out : outcomes) ++counts[out.exit_code()];
    std::printf("scalora-verify: %zu cases: %d passed, %d failed, %d inconclusive, %d invalid, %d errors\n",
                outcomes.size(), counts[kExitPass], counts[kExitFail], counts[kExitInconclusive], counts[kExitInvalid],
                counts[kExitError]);
  }
  if (!o.junit.empty()) {
    try {
      io::write_file_atomically(o.junit, junit(outcomes));
    } catch (const scalora::error& e) {
      std::fprintf(stderr, "scalora-verify: --junit: %s\n", e.what());
      return kExitError;
    }
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return scalora::tools::close_stdout("scalora-verify", run(argc, argv));
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "scalora-verify: out of memory\n");
    return scalora::tools::kExitError;
  }
}
