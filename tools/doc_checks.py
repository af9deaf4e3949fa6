#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest docs.*: the numbers and code the docs state are the ones the tools give.

  doc_checks.py excerpt  --doc docs/validating.md --file tools/torch_client/scalora_rule.py
      the doc holds the file verbatim in one fenced block
  doc_checks.py worked   --doc docs/theory.md --step scalora-step --suite DIR
      every row of the worked example's table of numbers (between the markers
      <!-- worked-numbers --> and <!-- /worked-numbers -->: | `json.path` | value |)
      equals scalora-step --example worked --json, and, for the rows that do not
      need a loss, scalora-step --case DIR/worked_example.safetensors --json; the
      table of predicted and actual losses (<!-- worked-losses -->, rows ScaLoRA,
      Theorem 3, vanilla) equals loss.{rule,scalar,vanilla}.{predicted,actual}
  doc_checks.py exercises --doc docs/exercises.md --step scalora-step --suite DIR
      every exercise's "Checked:" line equals scalora-step --case DIR/<case> --json
  doc_checks.py suite    --step scalora-step --suite DIR
      scalora-step --case FILE --explain works on every case of DIR/manifest.json
      (exit 0, 1 or 4, every intermediate printed), and its verdict is the
      manifest's expected one for each case judged with default options

Values: an exact number (an integer, a fraction p/q, a square root √k), a
decimal (tolerance: half a unit of its last printed digit), a list [v, v, ...],
true/false, or a word compared as text. Standard library only.

An exact number x is met by a double within EXACT_K ε_F64 max(|x|, 1): the tools
compute in double from small integers, a few dozen roundings of ≤ ε/2 each on
2r ≤ 4 unknowns; the worst measured is 2.25 ε (v = 1/6 of the worked example).
A wrong number in a doc is off by far more.
"""
import argparse
import json
import math
import re
import subprocess
import sys

EPS_F64 = 2.0 ** -52
EXACT_K = 64
failures = []


def fail(msg):
    print("FAIL  " + msg)
    failures.append(msg)


def lookup(doc, path):
    x = doc
    for part in path.split("."):
        if isinstance(x, dict) and part in x:
            x = x[part]
        else:
            raise KeyError(path)
    return x


def exact(x):
    return x, EXACT_K * EPS_F64 * max(abs(x), 1.0)


def parse_value(text):
    """(expected value, tolerance) where tolerance None means an exact text or bool match."""
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        return [parse_value(p) for p in t[1:-1].split(",")], "list"
    if t in ("true", "false"):
        return t == "true", None
    m = re.fullmatch(r"(-?)(\d+)/(\d+)", t)
    if m:
        return exact(int(m.group(2)) / int(m.group(3)) * (-1 if m.group(1) else 1))
    m = re.fullmatch(r"(-?)√(\d+)", t)
    if m:
        return exact(math.sqrt(int(m.group(2))) * (-1 if m.group(1) else 1))
    m = re.fullmatch(r"[-+−]?\d+(\.(\d+))?(e[-+]?\d+)?", t)
    if m:
        x = float(t.replace("−", "-"))
        if not m.group(1) and not m.group(3):  # an integer
            return exact(x)
        digits = len(m.group(2)) if m.group(2) else 0
        exp = int(m.group(3)[1:]) if m.group(3) else 0
        return x, 0.5 * 10.0 ** (exp - digits) + EXACT_K * EPS_F64 * abs(x)
    return t, None


def matches(actual, expected):
    value, tol = expected
    if tol == "list":
        return isinstance(actual, list) and len(actual) == len(value) and all(
            matches(a, e) for a, e in zip(actual, value))
    if tol is None:
        return actual == value if isinstance(value, bool) else str(actual) == value
    return isinstance(actual, (int, float)) and not isinstance(actual, bool) and abs(actual - value) <= tol


def check(doc, path, text, where):
    try:
        actual = lookup(doc, path)
    except KeyError:
        fail("%s: `%s` is not in scalora-step's JSON" % (where, path))
        return
    if matches(actual, parse_value(text)):
        print("ok    %s: %s = %s" % (where, path, text))
    else:
        fail("%s: %s: the doc says %s, scalora-step gives %s" % (where, path, text, json.dumps(actual)))


def step_json(step, *args):
    p = subprocess.run([step, *args, "--json"], capture_output=True, text=True)
    try:
        return json.loads(p.stdout), p.returncode
    except ValueError:
        fail("scalora-step %s: no JSON (exit %d): %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return None, p.returncode


def cmd_excerpt(a):
    doc, code = open(a.doc, encoding="utf-8").read(), open(a.file, encoding="utf-8").read()
    if "```python\n" + code + "```\n" in doc:
        print("ok    %s holds %s verbatim" % (a.doc, a.file))
    else:
        fail("%s does not hold %s verbatim in a ```python block (copy the file into the doc)" % (a.doc, a.file))


def cmd_worked(a):
    text = open(a.doc, encoding="utf-8").read()
    m = re.search(r"<!-- worked-numbers -->(.*?)<!-- /worked-numbers -->", text, re.S)
    if not m:
        fail("%s: no <!-- worked-numbers --> table" % a.doc)
        return
    rows = re.findall(r"^\|\s*`([\w.]+)`\s*\|\s*([^|]+?)\s*\|", m.group(1), re.M)
    if not rows:
        fail("%s: the worked-numbers table has no rows" % a.doc)
    example, _ = step_json(a.step, "--example", "worked")
    case, _ = step_json(a.step, "--case", a.suite + "/worked_example.safetensors")
    m = re.search(r"<!-- worked-losses -->(.*?)<!-- /worked-losses -->", text, re.S)
    losses = re.findall(r"^\|[^|]*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", m.group(1), re.M) if m else []
    if len(losses) != 3:
        fail("%s: the worked-losses table needs 3 rows (ScaLoRA, Theorem 3, vanilla), has %d" % (a.doc, len(losses)))
    else:
        for name, (pred, act) in zip(("rule", "scalar", "vanilla"), losses):
            rows.append(("loss.%s.predicted" % name, pred))
            rows.append(("loss.%s.actual" % name, act))
    for path, value in rows:
        if example is not None:
            check(example, path, value, "theory.md vs --example worked")
        if case is not None and not path.startswith("loss."):
            check(case, path, value, "theory.md vs the suite's worked_example")


def cmd_exercises(a):
    text = open(a.doc, encoding="utf-8").read()
    parts = re.split(r"^### ", text, flags=re.M)[1:]
    count = 0
    for part in parts:
        title = part.splitlines()[0].strip()
        cases = re.findall(r"scalora-step --case vectors/([\w/]+)\.safetensors", part)
        checks = re.findall(r"^Checked: (.+)$", part, re.M)
        if not cases or not checks:
            fail("exercise '%s': needs a 'scalora-step --case vectors/NAME.safetensors' command and a 'Checked:' line"
                 % title)
            continue
        count += 1
        doc, _ = step_json(a.step, "--case", "%s/%s.safetensors" % (a.suite, cases[0]))
        if doc is None:
            continue
        for line in checks:
            for item in re.findall(r"`([\w.]+)` = (\[[^\]]*\]|[^;]+)", line):
                check(doc, item[0], item[1].strip(), "exercise '%s' (%s)" % (title, cases[0]))
    print("%d exercises" % count)
    if count == 0:
        fail("no exercise found in %s" % a.doc)


def cmd_suite(a):
    man = json.load(open(a.suite + "/manifest.json", encoding="utf-8"))
    codes = {"pass": 0, "fail": 1, "inconclusive": 4}
    judged = 0
    for c in man["cases"]:
        f = "%s/%s" % (a.suite, c["file"])
        p = subprocess.run([a.step, "--case", f, "--explain"], capture_output=True, text=True)
        if p.returncode not in codes.values() or "decision margin" not in p.stdout or "alpha" not in p.stdout:
            fail("%s: scalora-step --case --explain exit %d: %s" % (c["name"], p.returncode, p.stderr.strip()[:200]))
            continue
        if c.get("verify_args"):  # judged with options scalora-step does not take
            print("ok    %s: explained (exit %d; the suite judges it with %s)" % (c["name"], p.returncode,
                                                                                  " ".join(c["verify_args"])))
            continue
        judged += 1
        if p.returncode == codes[c["expect"]]:
            print("ok    %s: explained, verdict %s" % (c["name"], c["expect"]))
        else:
            fail("%s: scalora-step exits %d, the manifest expects %s" % (c["name"], p.returncode, c["expect"]))
    print("%d cases, %d judged as the manifest expects" % (len(man["cases"]), judged))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["excerpt", "worked", "exercises", "suite"])
    ap.add_argument("--doc")
    ap.add_argument("--file")
    ap.add_argument("--step")
    ap.add_argument("--suite")
    a = ap.parse_args()
    if a.what != "suite" and not a.doc:
        ap.error("%s needs --doc" % a.what)
    {"excerpt": cmd_excerpt, "worked": cmd_worked, "exercises": cmd_exercises, "suite": cmd_suite}[a.what](a)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
