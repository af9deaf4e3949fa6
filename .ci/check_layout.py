#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layout checks of CI (CTest: layout.check). Usage: check_layout.py [repo root]

1. includes: every quoted "scalora/..." include of a component's file is one the
   README's "may include" table allows for that folder, and nothing outside
   tests/, gpu/tests/ and fuzz/ includes a file of those folders;
2. cited paths: every repository path cited in a source comment or a document
   exists (globs such as test_step_*.cpp must match a file; {a,b} expands);
3. names: every name of docs/decisions.md's naming table is declared in the
   header the table gives for it.

Exit status 0 when all pass, 1 with one line per violation otherwise.
--self-test: runs the checks on a small tree with one planted violation of each
kind and fails unless each is reported (and nothing else).
"""
import fnmatch
import glob
import os
import re
import sys

def self_test():
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        def put(path, text):
            os.makedirs(os.path.dirname(os.path.join(tmp, path)), exist_ok=True)
            open(os.path.join(tmp, path), "w").write(text)
        rows = "".join(f"| `{f}` | x | core |\n" for f in FOLDERS)
        put("README.md", "| folder | what | may include |\n|---|---|---|\n" + rows)
        put("include/scalora/core/a.hpp", '#include "scalora/linalg/types.hpp"\nint a();\n')
        put("include/scalora/linalg/types.hpp", "// checked in tests/unit/test_missing.cpp and tests/unit/test_*.cpp\n")
        put("tests/unit/test_present.cpp", "\n")
        put("tests/support/helper.hpp", "\n")
        put("tools/tool.cpp", '#include "helper.hpp"\n')
        put("docs/decisions.md", "<!-- naming-table -->\n" + "".join(
            f"| `{n}` (`include/scalora/core/a.hpp`) |\n" for n in ["a", "a", "a", "a", "a", "b_missing"])
            + "<!-- /naming-table -->\n")
        out = subprocess.run([sys.executable, __file__, tmp], capture_output=True, text=True).stdout
        expected = ['include/scalora/core/a.hpp: includes "scalora/linalg/types.hpp"',
                    "tools/tool.cpp: includes test code",
                    "include/scalora/linalg/types.hpp: cites tests/unit/test_missing.cpp",
                    "naming table: b_missing is not declared",
                    ": 4 problem(s)"]
        missing = [e for e in expected if e not in out]
        print(out, end="")
        print("self-test:", "ok" if not missing else "MISSED " + "; ".join(missing))
        return 0 if not missing else 1


ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
errors = []


def rel(path):
    return os.path.relpath(path, ROOT)


def tracked_files():
    skip = {".git", "build", "node_modules", "__pycache__"}
    for base, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith("build")]
        for f in files:
            yield os.path.join(base, f)


FILES = sorted(tracked_files())
SOURCES = [f for f in FILES if f.endswith((".hpp", ".cpp", ".cu", ".cuh", ".h"))]

# ---------------------------------------------------------------- 1. includes

# Folder of a component -> the scalora include prefixes it may use. Read from
# the README's layout table ("may include" column), e.g. "core, linalg, Eigen":
# the names that are components map to their include prefixes, others (Eigen,
# Boost, ...) are external and not checked here (tests/header_checks.cmake
# compiles every header against only its component's libraries).
PREFIXES = {
    "core": ["scalora/core/", "scalora/config.hpp", "scalora/error.hpp", "scalora/version.hpp"],
    "linalg": ["scalora/linalg/", "scalora/scalora.hpp"],
    "io": ["scalora/io/", "scalora/io.hpp"],
    "reference": ["scalora/reference/", "scalora/reference.hpp"],
    "gpu": ["scalora/gpu/", "scalora/gpu.hpp"],
    "tasks": ["scalora/tasks/", "scalora/tasks.hpp"],
    "model": ["scalora/model/", "scalora/model.hpp"],
    "train": ["scalora/train/"],
}
FOLDERS = {  # README row (first column) -> component and the files it covers
    "include/scalora/core": ("core", "include/scalora/core/"),
    "include/scalora/linalg": ("linalg", "include/scalora/linalg/"),
    "include/scalora/io": ("io", "include/scalora/io/"),
    "reference/": ("reference", "reference/include/"),
    "gpu/": ("gpu", "gpu/include/"),
    "toy/include/scalora/tasks": ("tasks", "toy/include/scalora/tasks/"),
    "toy/include/scalora/model": ("model", "toy/include/scalora/model/"),
    "toy/include/scalora/train": ("train", "toy/include/scalora/train/"),
}


def readme_table():
    """{folder: set of allowed component names} from README.md's layout table."""
    allowed = {}
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for line in text.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|.*\|\s*([^|]*)\|\s*$", line)
        if not m or m.group(1) not in FOLDERS:
            continue
        words = {re.sub(r"[^a-z_].*", "", w.strip().lower()) for w in re.split(r"[,+;]", m.group(2))}
        allowed[m.group(1)] = {w for w in words if w in PREFIXES}
    return allowed


def check_includes():
    allowed = readme_table()
    for folder in FOLDERS:
        if folder not in allowed:
            errors.append(f"README.md: the layout table has no row for `{folder}`")
    include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    test_dirs = ("tests/", "gpu/tests/", "fuzz/")
    for path in SOURCES:
        r = rel(path)
        text = open(path, encoding="utf-8", errors="replace").read()
        includes = include_re.findall(text)
        # No shipped or tool code includes test code.
        if not r.startswith(test_dirs):
            for inc in includes:
                local = os.path.normpath(os.path.join(os.path.dirname(path), inc))
                found = [local] if os.path.exists(local) else [f for f in FILES if f.endswith("/" + inc)]
                if found and all(rel(f).startswith(test_dirs) for f in found):
                    errors.append(f"{r}: includes test code \"{inc}\" ({rel(found[0])})")
        # Components include only what their row allows (plus themselves and the base headers).
        for folder, (component, files) in FOLDERS.items():
            if not r.startswith(files):
                continue
            ok = set(allowed.get(folder, set())) | {component, "core"}
            prefixes = [p for c in ok for p in PREFIXES[c]]
            for inc in includes:
                if inc.startswith("scalora/") and not any(inc == p or inc.startswith(p) for p in prefixes):
                    errors.append(f"{r}: includes \"{inc}\", which README.md's table does not allow for `{folder}`")


# ---------------------------------------------------------------- 2. cited paths

TOP = ("docs", "include", "reference", "gpu", "toy", "tests", "fuzz", "tools", "bench", "proofs_checks", ".ci")
SHORT = ("core", "linalg", "io", "model", "tasks", "train")  # relative to an include root: core/moments.hpp
EXT = r"(?:hpp|cpp|cu|cuh|md|py|sh|cmake|txt|json|in|svg|tsv|gp)"
CITE_RE = re.compile(r"(?<![\w/.$<-])((?:\.\./)*(?:%s)/[\w./*{},@+-]*?\.%s)(?![\w])" % ("|".join(re.escape(t) for t in TOP + SHORT), EXT))
ROOTS = ["", "include/scalora/", "reference/include/scalora/", "gpu/include/scalora/", "toy/include/scalora/"]


def expand(p):
    m = re.search(r"\{([^{}]*)\}", p)
    if not m:
        return [p]
    out = []
    for alt in m.group(1).split(","):
        out += expand(p[: m.start()] + alt + p[m.end():])
    return out


def exists(cited, citing):
    base = os.path.dirname(citing)
    for variant in expand(cited):
        candidates = [os.path.normpath(os.path.join(base, variant))]
        candidates += [os.path.join(ROOT, r, variant) for r in ROOTS]
        for c in candidates:
            if any(ch in variant for ch in "*?"):
                if glob.glob(c):
                    return True
            elif os.path.exists(c):
                return True
    return False


def comment_text(path, text):
    """The comments of a source file, or all of a document."""
    if path.endswith((".md", ".txt")) and not path.endswith("CMakeLists.txt"):
        return text
    if path.endswith((".hpp", ".cpp", ".cu", ".cuh", ".h", ".in")):
        parts = re.findall(r"//[^\n]*|/\*.*?\*/", text, re.S)
    elif path.endswith((".py", ".sh", ".cmake", "CMakeLists.txt")) or os.path.basename(path) in ("run",):
        parts = re.findall(r"#[^\n]*", text)
        if path.endswith(".py"):
            parts += re.findall(r'"""(.*?)"""', text, re.S)
    else:
        return ""
    return "\n".join(parts)


def check_citations():
    for path in FILES:
        r = rel(path)
        if r.startswith(("fuzz/corpus/", "tests/fixtures/")) or "/figures/" in r:
            continue
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for m in CITE_RE.finditer(comment_text(r, text)):
            cited = m.group(1).rstrip(".,")
            if not exists(cited, path):
                errors.append(f"{r}: cites {cited}, which does not exist")


# ---------------------------------------------------------------- 3. names

def check_names():
    path = os.path.join(ROOT, "docs", "decisions.md")
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<!-- naming-table -->(.*?)<!-- /naming-table -->", text, re.S)
    if not m:
        errors.append("docs/decisions.md: no naming table (<!-- naming-table --> ... <!-- /naming-table -->)")
        return
    pairs = re.findall(r"`([\w:~<>]+)`\s*\(`([\w./-]+)`\)", m.group(1))
    if len(pairs) < 6:
        errors.append(f"docs/decisions.md: the naming table names {len(pairs)} entries; expected at least 6")
    for name, header in pairs:
        file = os.path.join(ROOT, header)
        if not os.path.exists(file):
            errors.append(f"docs/decisions.md: naming table: {header} does not exist")
            continue
        last = re.sub(r"<.*", "", name).split("::")[-1]
        src = open(file, encoding="utf-8").read()
        if not re.search(r"(?:struct|class|using)\s+%s\b|\b%s\s*\(" % (re.escape(last), re.escape(last)), src):
            errors.append(f"docs/decisions.md: naming table: {name} is not declared in {header}")


if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
    sys.exit(self_test())
check_includes()
check_citations()
check_names()
for e in errors:
    print(e)
print(f"check_layout: {len(SOURCES)} sources, {len(FILES)} files: {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
