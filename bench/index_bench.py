#!/usr/bin/env python3
"""Benchmark the project index: its cost against a LibCST parse, and incremental runs.

A script to run by hand, not a test. Measures, on the pinned corpus (`../shared/corpus/
fetch.sh DEST` first):

1. **index vs parse**: building the index of every corpus project, cold (no summary cache),
   against `libcst.parse_module` of the same files; the target is under 0.3x.
2. **one changed file, cold**: `fastapi-lint check FILE` on one lnbits file with an empty
   cache directory, in a fresh process (index and check both cold); target under 2 s.
3. **one changed file, index warm**: the same after a full run filled the caches, with that
   file modified (only it is checked again); target under 1 s.
4. **routes found**: how many routes (distinct route registrations) and apps the index finds
   in each project.

    python bench/index_bench.py --corpus .corpus [--projects lnbits-1.6.2 ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LNBITS_FILE = "lnbits/core/views/api.py"


def _files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*.py") if p.is_file())


def time_index(project: Path) -> tuple[float, int, int, int]:
    """Seconds to build the index (no summary cache), files, routes, apps: in a child."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from fastapi_lint.project.build import build_index\n"
        "root = Path(sys.argv[1])\n"
        "files = sorted(p for p in root.rglob('*.py') if p.is_file())\n"
        "start = time.perf_counter()\n"
        "index = build_index(files, root)\n"
        "seconds = time.perf_counter() - start\n"
        "routes = {(r.file, r.line, r.endpoint) for r in index.rows if r.kind != 'mount'}\n"
        "print(seconds, len(files), len(routes), len(index.apps))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), int(out[3])


def time_parse(project: Path) -> float:
    """Seconds for `libcst.parse_module` of every file (decoding included), in a child."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import libcst\n"
        "files = sorted(p for p in Path(sys.argv[1]).rglob('*.py') if p.is_file())\n"
        "start = time.perf_counter()\n"
        "for f in files:\n"
        "    try:\n"
        "        libcst.parse_module(f.read_bytes())\n"
        "    except Exception:\n"
        "        pass\n"
        "print(time.perf_counter() - start)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[0])


def _check(target: str, cwd: Path, cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["fastapi-lint", "check", target, "--cache-dir", str(cache), "--exit-zero", "-q"],
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def one_changed_file(lnbits: Path) -> tuple[float, float]:
    """Cold (empty caches) and warm (caches full, the file touched) single-file checks."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "lnbits"
        shutil.copytree(lnbits, project)
        (project / "pyproject.toml").write_text('[project]\nname = "lnbits"\n')
        cache = Path(scratch) / "cache"
        cold = _check(LNBITS_FILE, project, cache)
        _check(".", project, cache)  # fills both caches
        changed = project / LNBITS_FILE
        changed.write_text(changed.read_text() + "\n# changed\n")
        warm = _check(LNBITS_FILE, project, cache)
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".corpus")
    parser.add_argument("--projects", nargs="*", help="names under CORPUS/src (default: all)")
    args = parser.parse_args()
    source = args.corpus / "src"
    if not source.is_dir():
        print(f"no corpus at {args.corpus}: run ../shared/corpus/fetch.sh {args.corpus}")
        return 2
    projects = sorted(p for p in source.iterdir() if p.is_dir())
    if args.projects:
        projects = [p for p in projects if p.name in args.projects]
    total_index = total_parse = 0.0
    print(
        f"{'project':<28} {'files':>6} {'routes':>7} {'apps':>5} {'index s':>8} "
        f"{'parse s':>8} {'ratio':>6}"
    )
    for project in projects:
        index_s, files, routes, apps = time_index(project)
        parse_s = time_parse(project)
        total_index += index_s
        total_parse += parse_s
        print(
            f"{project.name:<28} {files:>6} {routes:>7} {apps:>5} {index_s:>8.2f} "
            f"{parse_s:>8.2f} {index_s / parse_s:>6.2f}"
        )
    print(
        f"{'all':<28} {'':>6} {'':>7} {'':>5} {total_index:>8.2f} {total_parse:>8.2f} "
        f"{total_index / total_parse:>6.2f}  (target < 0.30)"
    )
    lnbits = next((p for p in projects if p.name.startswith("lnbits")), None)
    if lnbits is not None:
        cold, warm = one_changed_file(lnbits)
        print(f"one changed lnbits file, all cold: {cold:.2f} s (target < 2 s)")
        print(f"one changed lnbits file, index warm: {warm:.2f} s (target < 1 s)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
