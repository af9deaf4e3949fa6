#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Mutation testing of the method's code (docs/theorems.md, "Mutation testing").

Each mutant of tools/mutate/catalogue.toml replaces one exact snippet of one
file of include/scalora/core, include/scalora/linalg, reference/ or gpu/. The
harness copies the source tree to WORK/src (never touching the tree it was
started from), configures one persistent Ninja build in WORK/build, builds the
test targets once (the baseline, which must pass), and then for each mutant:
applies it, rebuilds incrementally only the targets whose object files depend
on the mutated file, runs their tests with a time limit, and reverts it. It
reports which suite killed each mutant -- proofs (proofs_checks/), unit
(tests/unit and the gpu/ doctest checks, CPP backend) or property
(tests/property, CPP backend) -- and lists the survivors.

  mutate.py check [--source DIR]            every snippet found exactly once (no build)
  mutate.py list                            the catalogue
  mutate.py run [--subset all|fast] [--only ID,...] [--work DIR] [--jobs N]
                [--mode matrix|first] [--mutant-timeout S] [--report PREFIX]

--mode first (the default) stops at the first failing test, trying the
catalogue's hinted targets first, then the cheapest rebuild (the longest
build of the target's affected objects in .ninja_log): the report names the
suite of that first killer. --mode matrix runs every suite on every mutant,
each stopping at its first failing test (the complete kill matrix, e.g. which
mutants the proof programs alone kill; several times slower). A survivor
costs the same in both modes: every affected target is built and run.
A test that exceeds its time limit (5 x its baseline + 30 s, at least 60 s)
kills the mutant ("timeout"). The report (JSON and Markdown) is rewritten
after every mutant, so an interrupted run keeps what it measured.

Exit status: 0 when every mutant is killed, or survives and is declared
equivalent in the catalogue (with its reason); 1 otherwise (a survivor, a
stale or ambiguous snippet, a mutant that does not compile, a declared
equivalent that a test kills, or a failing baseline); 2 on usage errors.
Python 3.11 standard library only (tomllib); needs cmake and ninja.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CATALOGUE = HERE / "catalogue.toml"
SUITES = ("proofs", "unit", "property")
ALLOWED_ROOTS = ("include/scalora/core/", "include/scalora/linalg/", "reference/", "gpu/")
CONFIGURE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DSCALORA_ENABLE_CUDA=OFF",
    "-DSCALORA_ENABLE_OPENMP=OFF",
    "-DSCALORA_BUILD_BENCH=OFF",
    "-DSCALORA_BUILD_TOOLS=OFF",
    "-DSCALORA_FUZZ_REPLAY=OFF",
    "-DSCALORA_INSTALL=OFF",
    "-DSCALORA_MUTATION_TESTS=OFF",
]


def log(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------- catalogue

class CatalogueError(Exception):
    pass


def load_catalogue(path):
    with open(path, "rb") as f:
        cat = tomllib.load(f)
    mutants = cat.get("mutant", [])
    seen = set()
    for m in mutants:
        for key in ("id", "file", "kind", "find", "replace", "what"):
            if key not in m:
                raise CatalogueError(f"mutant {m.get('id', '?')}: missing '{key}'")
        if m["id"] in seen:
            raise CatalogueError(f"duplicate mutant id {m['id']}")
        seen.add(m["id"])
        if not m["file"].startswith(ALLOWED_ROOTS):
            raise CatalogueError(f"mutant {m['id']}: {m['file']} is outside {', '.join(ALLOWED_ROOTS)}")
        if m["find"] == m["replace"]:
            raise CatalogueError(f"mutant {m['id']}: replacement equals the original")
        for s in m.get("hint", []):
            if not isinstance(s, str):
                raise CatalogueError(f"mutant {m['id']}: hint must be a list of target names")
    suites = cat.get("suites", {})
    for s in SUITES:
        if s not in suites:
            raise CatalogueError(f"[suites] lacks '{s}'")
    return cat


def snippet_count(text, snippet):
    return text.count(snippet)


def check_snippets(cat, source):
    """(id, problem) for every mutant whose snippet is not found exactly once."""
    problems = []
    for m in cat["mutant"]:
        p = source / m["file"]
        if not p.is_file():
            problems.append((m["id"], f"file {m['file']} does not exist"))
            continue
        n = snippet_count(p.read_text(), m["find"])
        if n == 0:
            problems.append((m["id"], f"stale: snippet not found in {m['file']}"))
        elif n > 1:
            problems.append((m["id"], f"ambiguous: snippet found {n} times in {m['file']}"))
    return problems


# ---------------------------------------------------------------- tree copy

def source_files(source, exclude=()):
    """Files of the source tree: git's tracked and untracked-but-not-ignored
    files when it is a git checkout, else every file outside build*/ and .git;
    never files of a build tree (a folder with a CMakeCache.txt) or of
    `exclude` (the harness's own work folder)."""
    try:
        out = subprocess.run(["git", "-C", str(source), "ls-files", "-co", "--exclude-standard", "-z"],
                             check=True, capture_output=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = []
        for root, dirs, names in os.walk(source):
            rel = Path(root).relative_to(source)
            dirs[:] = [d for d in dirs if not (str(rel) == "." and (d.startswith("build") or d == ".git"))]
            files += [str(rel / n) if str(rel) != "." else n for n in names]
    build_roots = {str(Path(f).parent) for f in files if Path(f).name == "CMakeCache.txt"}
    excluded = [str(Path(e).resolve().relative_to(source)) for e in exclude
                if Path(e).resolve() == source or source in Path(e).resolve().parents]
    def inside(f, roots):
        return any(r == "." or f == r or f.startswith(r + "/") for r in roots)
    return sorted(f for f in files if (source / f).is_file() and not inside(f, build_roots | set(excluded)))


def sync_tree(source, dest, exclude=()):
    """Makes dest a copy of source's files, writing only files whose content
    differs (unchanged files keep their mtime: the build stays incremental)."""
    files = source_files(source, exclude)
    wanted = set(files)
    written = 0
    for f in files:
        s, d = source / f, dest / f
        data = s.read_bytes()
        if d.is_file() and d.read_bytes() == data:
            continue
        d.parent.mkdir(parents=True, exist_ok=True)
        d.write_bytes(data)
        shutil.copymode(s, d)
        written += 1
    removed = 0
    for root, _, names in os.walk(dest):
        for n in names:
            rel = str((Path(root) / n).relative_to(dest))
            if rel not in wanted:
                (Path(root) / n).unlink()
                removed += 1
    return written, removed


# ---------------------------------------------------------------- build

def run_cmd(cmd, cwd=None, env=None, timeout=None, log_path=None):
    """Runs cmd in its own process group; returns (rc, seconds, output); rc
    None on timeout (the group is killed)."""
    start = time.monotonic()
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True) as p:
        try:
            out, _ = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            rc = None
    text = out.decode(errors="replace")
    if log_path:
        with open(log_path, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{text}\n")
    return rc, time.monotonic() - start, text


class Build:
    def __init__(self, work, jobs, cmake_args=()):
        self.cmake_args = list(cmake_args)
        self.src = work / "src"
        self.dir = work / "build"
        self.jobs = jobs
        self.deps = {}        # object -> set of absolute dependency paths
        self.objects = {}     # target -> list of object files (transitive)
        self.durations = {}   # output -> seconds of its last build

    def configure(self, logp):
        cache = self.dir / "CMakeCache.txt"
        if cache.is_file() and "CMAKE_GENERATOR:INTERNAL=Ninja" not in cache.read_text():
            shutil.rmtree(self.dir)
        if not cache.is_file():
            # ccache, when installed: a reverted file recompiles from the cache.
            launcher = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER=ccache" for lang in ("CXX", "CUDA")] \
                if shutil.which("ccache") else []
            rc, _, out = run_cmd(["cmake", "-S", str(self.src), "-B", str(self.dir), "-G", "Ninja"] + CONFIGURE_FLAGS +
                                 launcher + self.cmake_args, log_path=logp)
            if rc != 0:
                raise SystemExit(f"mutate: configuring the copy failed (see {logp}):\n{out[-3000:]}")

    def ninja(self, args, logp=None, timeout=None):
        return run_cmd(["ninja", "-C", str(self.dir)] + args, log_path=logp, timeout=timeout)

    def targets(self):
        rc, _, out = self.ninja(["-t", "targets", "all"])
        names = set()
        for line in out.splitlines():
            name = line.split(":")[0].strip()
            if name and "/" not in name and not name.endswith((".o", ".a", ".cmake")):
                names.add(name)
        return names

    def build(self, targets, logp, timeout=None):
        return self.ninja([f"-j{self.jobs}"] + list(targets), logp=logp, timeout=timeout)

    def load_graph(self, targets):
        """Object files of each target and their recorded header dependencies."""
        rc, _, out = self.ninja(["-t", "deps"])
        deps, cur = {}, None
        for line in out.splitlines():
            if line and not line.startswith(" "):
                cur = line.split(":")[0].strip()
                deps[cur] = set()
            elif cur and line.strip():
                p = line.strip()
                deps[cur].add(os.path.realpath(p if os.path.isabs(p) else self.dir / p))
        self.deps = deps
        for t in targets:
            rc, _, out = self.ninja(["-t", "inputs", t])
            self.objects[t] = [l.strip() for l in out.splitlines() if l.strip().endswith(".o")]
        logf = self.dir / ".ninja_log"
        self.durations = {}
        if logf.is_file():
            for line in logf.read_text().splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) >= 4:  # the longest build seen: a ccache hit says nothing of the cost
                    d = (int(parts[1]) - int(parts[0])) / 1000.0
                    self.durations[parts[3]] = max(d, self.durations.get(parts[3], 0.0))

    def depends_on(self, target, path):
        real = os.path.realpath(path)
        return any(real in self.deps.get(o, ()) for o in self.objects.get(target, ()))

    def cost(self, target, path):
        return sum(self.durations.get(o, 30.0) for o in self.objects.get(target, ())
                   if os.path.realpath(path) in self.deps.get(o, ()))


# ---------------------------------------------------------------- tests

class RunUnit:
    """One command that runs the (non-long) tests of one target."""

    def __init__(self, target, cmd, env, cwd, names):
        self.target, self.cmd, self.env, self.cwd, self.names = target, cmd, env, cwd, names
        self.baseline = None

    def timeout(self):
        return max(60.0, 5 * (self.baseline or 10.0) + 30.0)


def discover_tests(build, targets):
    """Target -> RunUnits, from ctest's JSON. Doctest-discovered cases of one
    executable (command [exe, --test-case=...]) run as one invocation."""
    rc, _, out = run_cmd(["ctest", "--test-dir", str(build.dir), "--show-only=json-v1"])
    tests = json.loads(out[out.index("{"):])["tests"]
    units = {t: [] for t in targets}
    grouped = {}
    for t in tests:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        labels = props.get("LABELS", [])
        if "long" in labels or "command" not in t:
            continue
        cmd = t["command"]
        target = Path(cmd[0]).name
        if target not in units:
            continue
        args = [a for a in cmd[1:] if not a.startswith("--test-case=")]
        env = tuple(props.get("ENVIRONMENT", []))
        cwd = props.get("WORKING_DIRECTORY", str(build.dir))
        key = (target, cmd[0], tuple(args), env, cwd)
        grouped.setdefault(key, []).append(t["name"])
    for (target, exe, args, env, cwd), names in grouped.items():
        e = dict(os.environ)
        for kv in env:
            k, _, v = kv.partition("=")
            e[k] = v
        units[target].append(RunUnit(target, [exe] + list(args), e, cwd, names))
    return units


def failure_excerpt(text):
    keep = [l for l in text.splitlines()
            if re.search(r"FAIL|ERROR|Falsifiable|error:|Assertion|terminate|Segmentation|exception", l)]
    return " | ".join(l.strip() for l in keep[:3])[:400] or text.strip().splitlines()[-1][:400] if text.strip() else ""


def run_units(units, logp):
    """Runs units until one fails; returns (killed_by, detail) or (None, None)."""
    for u in units:
        rc, secs, out = run_cmd(u.cmd, cwd=u.cwd, env=u.env, timeout=u.timeout(), log_path=logp)
        if rc is None:
            return u.names[0].split(":")[0], f"timeout after {secs:.0f} s"
        if rc not in (0, 77):
            return u.names[0].split(":")[0], failure_excerpt(out)
    return None, None


# ---------------------------------------------------------------- run

def suite_of(target, suites):
    for s in SUITES:
        if any(fnmatch.fnmatchcase(target, pat) for pat in suites[s]):
            return s
    return None


def expand(patterns, available):
    out = []
    for pat in patterns:
        hits = sorted(t for t in available if fnmatch.fnmatchcase(t, pat))
        if not hits:
            raise SystemExit(f"mutate: no build target matches '{pat}'")
        out += [h for h in hits if h not in out]
    return out


def fmt_secs(s):
    return f"{int(s // 60)} min {int(s % 60):02d} s" if s >= 60 else f"{s:.0f} s"


def cmd_run(args, cat):
    source = Path(args.source).resolve()
    work = Path(args.work).resolve()
    if work == source:
        raise SystemExit("mutate: --work must not be the source tree")
    problems = check_snippets(cat, source)
    mutants = cat["mutant"]
    if args.subset == "fast":
        mutants = [m for m in mutants if m.get("fast")]
    if args.only:
        ids = args.only.split(",")
        unknown = set(ids) - {m["id"] for m in cat["mutant"]}
        if unknown:
            raise SystemExit(f"mutate: unknown mutant ids {sorted(unknown)}")
        by_id = {m["id"]: m for m in cat["mutant"]}
        mutants = [by_id[i] for i in ids]  # in the order given
    if args.subset == "fast" and len(mutants) > 10:
        raise SystemExit("mutate: the fast subset has more than 10 mutants")
    mode = args.mode or "first"
    jobs = args.jobs or int(os.environ.get("SCALORA_JOBS", os.cpu_count() or 2))
    t0 = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    baseline_log = work / "logs" / "baseline.log"
    baseline_log.write_text("")

    written, removed = sync_tree(source, work / "src", exclude=[work])
    log(f"mutate: copy of {source} in {work / 'src'} ({written} files written, {removed} removed)")
    b = Build(work, jobs, args.cmake_arg)
    b.configure(baseline_log)
    available = b.targets()
    suites = cat["suites"]
    if args.subset == "fast":
        pool = expand(cat["fast"]["targets"], available)
    else:
        pool = expand([p for s in SUITES for p in suites[s]], available)
    for t in pool:
        if suite_of(t, suites) is None:
            raise SystemExit(f"mutate: target {t} belongs to no suite")

    log(f"mutate: baseline build of {len(pool)} targets (-j{jobs})")
    rc, secs, out = b.build(pool, baseline_log)
    if rc != 0:
        raise SystemExit(f"mutate: the baseline build failed (see {baseline_log}):\n{out[-3000:]}")
    build_secs = secs
    b.load_graph(pool)
    units = discover_tests(b, pool)
    for t in pool:
        if not units[t]:
            raise SystemExit(f"mutate: target {t} has no test")
    log(f"mutate: baseline build {fmt_secs(build_secs)}; running the baseline tests")
    bt0 = time.monotonic()
    for t in pool:
        for u in units[t]:
            rc, secs, out = run_cmd(u.cmd, cwd=u.cwd, env=u.env, timeout=3600, log_path=baseline_log)
            u.baseline = secs
            if rc not in (0, 77):
                raise SystemExit(f"mutate: the baseline fails: {u.names[0]} (rc {rc}; see {baseline_log})")
    log(f"mutate: baseline passes ({sum(len(units[t]) for t in pool)} runs, {fmt_secs(time.monotonic() - bt0)})")
    baseline_secs = time.monotonic() - t0

    results = []
    problem_of = dict(problems)
    for i, m in enumerate(mutants, 1):
        res = run_mutant(m, b, pool, units, suites, mode, args.mutant_timeout, work, problem_of.get(m["id"]))
        results.append(res)
        log(f"[{i:2d}/{len(mutants)}] {m['id']:<44} {res['status']:<22} {summary_of(res)}  ({fmt_secs(res['seconds'])})")
        report = write_report(args, work, mode, jobs, pool, baseline_secs, t0, results, cat, i < len(mutants))

    ok = print_summary(report, cat)
    log(f"mutate: report in {report['prefix']}.json and .md")
    return 0 if ok else 1


def write_report(args, work, mode, jobs, pool, baseline_secs, t0, results, cat, partial):
    prefix = Path(args.report) if args.report else work / "report"
    report = {
        "subset": args.subset, "mode": mode, "jobs": jobs, "pool": pool, "partial": partial,
        "baseline_seconds": round(baseline_secs, 1), "total_seconds": round(time.monotonic() - t0, 1),
        "mutants": results, "prefix": str(prefix),
    }
    prefix.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    prefix.with_suffix(".md").write_text(markdown(report, cat))
    return report


def run_mutant(m, b, pool, units, suites, mode, limit, work, problem):
    res = {"id": m["id"], "file": m["file"], "kind": m["kind"], "what": m["what"],
           "suites": {s: "n/a" for s in SUITES}, "killed_by": {}, "seconds": 0.0}
    start = time.monotonic()
    if problem:
        res["status"] = "stale" if problem.startswith("stale") else "ambiguous" if problem.startswith("ambig") else "error"
        res["detail"] = problem
        return res
    path = b.src / m["file"]
    original = path.read_text()
    logp = work / "logs" / f"{m['id']}.log"
    logp.write_text(f"mutant {m['id']}: {m['file']}\n--- find\n{m['find']}\n+++ replace\n{m['replace']}\n\n")
    affected = [t for t in pool if b.depends_on(t, path)]
    hint = m.get("hint", [])
    order = sorted(affected, key=lambda t: (t not in hint, hint.index(t) if t in hint else 0, b.cost(t, path)))
    queues = {s: [t for t in order if suite_of(t, suites) == s] for s in SUITES}
    for s in SUITES:
        if queues[s]:
            res["suites"][s] = "not run"
    try:
        path.write_text(original.replace(m["find"], m["replace"], 1))
        if not affected:
            res["status"] = "uncovered"
            return res
        decided = {s: not queues[s] for s in SUITES}
        while not all(decided.values()):
            if time.monotonic() - start > limit:
                res["detail"] = f"time limit {limit:.0f} s reached"
                break
            if mode == "first":
                batch = [next(t for t in order if not decided[suite_of(t, suites)] and t in queues[suite_of(t, suites)])]
            else:
                batch = [queues[s][0] for s in SUITES if not decided[s]]
            rc, _, out = b.build(batch, logp, timeout=max(60.0, limit - (time.monotonic() - start)))
            if rc != 0:
                res["status"] = "build error" if rc is not None else "build timeout"
                res["detail"] = next((l for l in out.splitlines() if "error" in l), out.strip()[-300:])[:300]
                return res
            for t in batch:
                s = suite_of(t, suites)
                queues[s].remove(t)
                killer, detail = run_units(units[t], logp)
                if killer:
                    res["suites"][s] = "killed"
                    res["killed_by"][s] = {"test": killer, "detail": detail}
                    decided[s] = True
                    if mode == "first":
                        decided = {k: True for k in SUITES}
                        for k in SUITES:
                            if res["suites"][k] == "not run" and k != s:
                                res["suites"][k] = "skipped"
                elif not queues[s]:
                    res["suites"][s] = "survived"
                    decided[s] = True
        killed = any(v == "killed" for v in res["suites"].values())
        if killed:
            res["status"] = "killed (declared equivalent)" if m.get("equivalent") else "killed"
        elif "detail" in res:
            res["status"] = "time limit"
        else:
            res["status"] = "equivalent" if m.get("equivalent") else "survived"
        return res
    finally:
        path.write_text(original)
        res["seconds"] = round(time.monotonic() - start, 1)


def summary_of(res):
    parts = []
    for s in SUITES:
        v = res["suites"][s]
        if v == "killed":
            k = res["killed_by"][s]
            parts.append(f"{s}: {k['test']}")
        elif v not in ("n/a", "skipped"):
            parts.append(f"{s}: {v}")
    return "; ".join(parts) if parts else res.get("detail", "")


GOOD = ("killed", "equivalent")


def print_summary(report, cat):
    ms = report["mutants"]
    counts = {}
    for r in ms:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    log("")
    log(f"mutate: {len(ms)} mutants in {fmt_secs(report['total_seconds'])} "
        f"(baseline {fmt_secs(report['baseline_seconds'])}, -j{report['jobs']}, mode {report['mode']})")
    log("  " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for s in SUITES:
        run = [r for r in ms if r["suites"][s] in ("killed", "survived")]
        log(f"  {s:<9} kills {sum(r['suites'][s] == 'killed' for r in run)} of the {len(run)} mutants it ran on")
    bad = [r for r in ms if r["status"] not in GOOD]
    eq = [r for r in ms if r["status"] == "equivalent"]
    by_id = {m["id"]: m for m in cat["mutant"]}
    if eq:
        log("  survivors declared equivalent:")
        for r in eq:
            log(f"    {r['id']}: {by_id[r['id']]['equivalent']}")
    if bad:
        log("  NOT KILLED / problems:")
        for r in bad:
            log(f"    {r['id']} [{r['status']}] {r['file']}: {r['what']} {r.get('detail', '')}")
    return not bad


def markdown(report, cat):
    by_id = {m["id"]: m for m in cat["mutant"]}
    lines = ["| mutant | file | kind | proofs | unit | property | status |", "|---|---|---|---|---|---|---|"]
    for r in report["mutants"]:
        cells = []
        for s in SUITES:
            v = r["suites"][s]
            cells.append(f"killed ({r['killed_by'][s]['test']})" if v == "killed" else v)
        status = r["status"]
        if status == "equivalent":
            status += ": " + by_id[r["id"]]["equivalent"]
        lines.append(f"| `{r['id']}` | `{r['file'].split('/')[-1]}` | {r['kind']} | " + " | ".join(cells) +
                     f" | {status} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["check", "list", "run"])
    ap.add_argument("--catalogue", default=str(DEFAULT_CATALOGUE))
    ap.add_argument("--source", default=str(HERE.parent.parent), help="the tree to mutate a copy of")
    ap.add_argument("--work", default=None, help="copy and build folder (default SOURCE/build-mutation/SUBSET)")
    ap.add_argument("--subset", choices=["all", "fast"], default="all")
    ap.add_argument("--only", default="", help="comma-separated mutant ids (run in that order)")
    ap.add_argument("--mode", choices=["matrix", "first"], default=None)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--mutant-timeout", type=float, default=1800.0, help="seconds per mutant (builds and tests)")
    ap.add_argument("--report", default="", help="report path prefix (.json and .md are written)")
    ap.add_argument("--cmake-arg", action="append", default=[], help="extra argument for configuring the copy")
    args = ap.parse_args()
    try:
        cat = load_catalogue(args.catalogue)
    except (CatalogueError, tomllib.TOMLDecodeError) as e:
        print(f"mutate: catalogue {args.catalogue}: {e}", file=sys.stderr)
        return 2
    if args.command == "list":
        for m in cat["mutant"]:
            flags = (" [fast]" if m.get("fast") else "") + (" [declared equivalent]" if m.get("equivalent") else "")
            log(f"{m['id']:<44} {m['kind']:<28} {m['file']}{flags}\n    {m['what']}")
        log(f"{len(cat['mutant'])} mutants, {sum(bool(m.get('fast')) for m in cat['mutant'])} in the fast subset")
        return 0
    if args.command == "check":
        problems = check_snippets(cat, Path(args.source).resolve())
        for mid, p in problems:
            print(f"mutate: {mid}: {p}", file=sys.stderr)
        fast = sum(bool(m.get("fast")) for m in cat["mutant"])
        if fast > 10:
            print(f"mutate: the fast subset has {fast} mutants (at most 10)", file=sys.stderr)
        log(f"mutate: {len(cat['mutant'])} mutants ({fast} fast), {len(problems)} stale or ambiguous")
        return 1 if problems or fast > 10 else 0
    if not args.work:
        args.work = str(Path(args.source).resolve() / "build-mutation" / args.subset)
    for tool in ("cmake", "ninja", "ctest"):
        if not shutil.which(tool):
            print(f"mutate: '{tool}' not found (Debian: apt-get install cmake ninja-build)", file=sys.stderr)
            return 2
    return cmd_run(args, cat)


if __name__ == "__main__":
    sys.exit(main())
