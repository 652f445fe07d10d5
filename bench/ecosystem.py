#!/usr/bin/env python3
"""Ecosystem check: lint every project of the pinned corpus and track the findings.

What ruff's ecosystem check does on every change, for fastapi-lint: the findings on real
FastAPI code are recorded in a snapshot committed in the repo (``bench/ecosystem/
snapshot.json``), and a change to a rule shows up as findings added and removed.

Modes (they combine; see ``--help`` and bench/README.md):

- no mode flag: lint each project of ``CORPUS/src/`` with one ``fastapi-lint check PROJECT
  --output-format json --no-cache --exit-zero`` and write the snapshot (``--snapshot``);
- ``--compare``: lint again and print what is added and removed against the snapshot, per
  rule, with before/after counts; the snapshot is rewritten only with ``--update``;
- ``--report``: the keep rate of each rule over the reviewed findings of
  ``bench/ecosystem/reviewed.csv`` still present in the snapshot, with warnings for a known
  false positive ("drop") that is still reported and a true positive ("keep") that is gone;
- ``--sample CODE``: a random sample of a rule's findings, outside test suites and docs, as
  CSV rows ready to be judged, each followed by its source lines as ``#`` comments.

It uses only the standard library and never imports fastapi_lint: the linter runs as a
subprocess (``--linter``, ``--src``), from an empty scratch directory, so that no
configuration file or ``.gitignore`` of the repo changes what it reports. fetch.sh keeps only
the ``.py`` files of each package, so the scratch directory gets a ``requirements.txt`` with
the package's own pydantic and fastapi requirements (``Requires-Dist`` in the archive's
metadata): the Pydantic rules then see the version the project declares, as in its checkout.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import json
import os
import random
import re
import shlex
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "ecosystem"
DEFAULT_SNAPSHOT = DATA_DIR / "snapshot.json"
DEFAULT_REVIEWED = DATA_DIR / "reviewed.csv"
DEFAULT_CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO_ROOT / ".corpus")
FETCH_SCRIPT = REPO_ROOT.parent / "shared" / "corpus" / "fetch.sh"
LINTER_ENV = "FASTAPI_LINT_ECOSYSTEM_LINTER"
# Environment variables that change what the linter prints; the children run without them.
TOOL_ENVIRONMENT = (
    "FASTAPI_LINT_OUTPUT_FORMAT",
    "FASTAPI_LINT_OUTPUT_FILE",
    "FASTAPI_LINT_CACHE_DIR",
)

SNAPSHOT_FORMAT = "fastapi-lint-ecosystem-snapshot"
SNAPSHOT_VERSION = 1
REVIEW_HEADER = ("project", "path", "line", "code", "verdict", "reason")
VERDICTS = ("keep", "drop")
DEFAULT_LINE_TOLERANCE = 3
# Test suites and documentation examples: --sample leaves them out unless --exclude says
# otherwise. An entry ending in "/" matches a directory name anywhere in the path, any other
# entry matches the file name; both are fnmatch globs.
DEFAULT_SAMPLE_EXCLUDE = "tests/,test/,test_*.py,*_test.py,conftest.py,docs_src/,docs/,examples/"
# Prints the version and the file of the fastapi_lint package the linter runs.
PROBE = "import fastapi_lint as m; print(m.__version__); print(m.__file__)"
# --sample's context: from a decorator, how far down to look for the decorated function.
DECORATOR_REACH = 30
DEF_RE = re.compile(r"\s*(async\s+)?def\s")
PROJECT_DIR_RE = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*)$")


class Finding(NamedTuple):
    project: str
    path: str  # relative to the project dir, with "/"
    line: int
    col: int
    code: str
    message: str


class EcosystemError(Exception):
    """A fatal problem: printed as ``error: ...`` and exit code 2."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Corpus


class Project(NamedTuple):
    name: str  # the package name, without its version: the key in the snapshot
    dir: Path
    version: str


def split_project_dir(dirname: str) -> tuple[str, str]:
    """``apache-airflow-core-3.3.2`` -> (``apache-airflow-core``, ``3.3.2``)."""
    match = PROJECT_DIR_RE.match(dirname)
    if match is None:
        return dirname, ""
    return match["name"], match["version"]


def corpus_projects(corpus: Path, only: list[str] | None) -> list[Project]:
    """The projects under ``CORPUS/src/``, each of which must carry fetch.sh's ``.done``."""
    src = corpus / "src"
    fetch = f"bash {FETCH_SCRIPT} {corpus}"
    if not src.is_dir():
        raise EcosystemError(f"no corpus at {corpus} (no src/ directory); fetch it first: {fetch}")
    projects, incomplete = [], []
    for d in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (d / ".done").is_file():
            incomplete.append(d.name)
            continue
        name, version = split_project_dir(d.name)
        projects.append(Project(name, d.resolve(), version))
    if incomplete:
        raise EcosystemError(
            f"corpus {corpus} is incomplete (no .done stamp in {', '.join(incomplete)}); "
            f"finish the fetch first: {fetch}"
        )
    if not projects:
        raise EcosystemError(f"corpus {corpus} has no projects; fetch it first: {fetch}")
    if only:
        known = {p.name: p for p in projects} | {p.dir.name: p for p in projects}
        unknown = [n for n in only if n not in known]
        if unknown:
            names = ", ".join(p.name for p in projects)
            raise EcosystemError(f"unknown project {', '.join(unknown)}; the corpus has {names}")
        wanted = {known[n].name for n in only}
        projects = [p for p in projects if p.name in wanted]
    return projects


# The requirements that decide what the linter reports (the Pydantic version).
DECLARED_REQUIREMENTS = ("pydantic", "fastapi")
_REQUIRES_DIST = re.compile(r"^Requires-Dist:\s*([A-Za-z0-9._-]+)\s*(\(?[^;]*?\)?)\s*(?:;.*)?$")


def declared_requirements(corpus: Path, project: Project) -> list[str]:
    """The package's own requirements on pydantic and fastapi, from the metadata of the
    archive fetch.sh downloaded (``CORPUS/dl/``); [] when there is none."""
    stem = f"{project.name}-{project.version}".replace("-", "_").lower()
    for archive in sorted((corpus / "dl").glob("*")):
        if archive.name.replace("-", "_").lower().startswith(stem):
            return _requirements(_metadata(archive))
    return []


def _metadata(archive: Path) -> str:
    try:
        if archive.name.endswith(".tar.gz"):
            with tarfile.open(archive) as tar:
                member = next(
                    m for m in tar if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
                )
                handle = tar.extractfile(member)
                return handle.read().decode("utf-8", "replace") if handle else ""
        with zipfile.ZipFile(archive) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            return wheel.read(name).decode("utf-8", "replace")
    except (OSError, StopIteration, tarfile.TarError, zipfile.BadZipFile):
        return ""


def _requirements(metadata: str) -> list[str]:
    wanted = []
    for line in metadata.splitlines():
        match = _REQUIRES_DIST.match(line.strip())
        if match and ";" not in line and match[1].lower() in DECLARED_REQUIREMENTS:
            wanted.append(match[1] + match[2].strip("() "))
    return wanted


# --------------------------------------------------------------------------------------------
# The linter


class Linter:
    """How to run fastapi-lint: the command, and the environment of the child."""

    def __init__(self, command: str | None, src: Path | None, jobs: int | None) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in TOOL_ENVIRONMENT}
        if src is not None:
            src = src.resolve()
            if not (src / "fastapi_lint").is_dir():
                raise EcosystemError(f"--src {src} has no fastapi_lint package")
            old = self.env.get("PYTHONPATH")
            self.env["PYTHONPATH"] = str(src) + (os.pathsep + old if old else "")
        self.src = src
        command = command or os.environ.get(LINTER_ENV)
        if command:
            argv = shlex.split(command)
            # "python -m fastapi_lint" means this interpreter, not whichever python is on PATH.
            if argv and argv[0] in ("python", "python3"):
                argv[0] = sys.executable
        elif src is not None:
            argv = [sys.executable, "-m", "fastapi_lint"]
        else:
            argv = default_linter()
        self.argv = argv
        self.pythonic = argv == [sys.executable, "-m", "fastapi_lint"] or argv == default_linter()
        self.jobs = jobs

    def display(self) -> str:
        """The command as recorded in the snapshot: no machine-specific directories."""
        argv = list(self.argv)
        if argv and (argv[0] == sys.executable or os.path.isabs(argv[0])):
            argv[0] = "python" if argv[0] == sys.executable else os.path.basename(argv[0])
        text = shlex.join(argv)
        return f"PYTHONPATH=<src> {text}" if self.src is not None else text

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [*self.argv, *args],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
            )
        except OSError as exc:
            raise EcosystemError(f"cannot run {shlex.join(self.argv)}: {exc}") from exc

    def identify(self, cwd: Path) -> tuple[str, str | None]:
        """The linter's version, and the git commit of its source (None when unknown).

        A Python linter (``python -m fastapi_lint``, or the script of this interpreter's
        environment) is asked by importing the package, which is faster than ``--version``
        and tells where the package lives; any other command answers ``--version``.
        """
        if self.pythonic:
            proc = subprocess.run(
                [sys.executable, "-c", PROBE],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            lines = proc.stdout.split("\n")
            if proc.returncode != 0 or len(lines) < 2:
                raise EcosystemError(
                    f"cannot import fastapi_lint with {sys.executable}: {proc.stderr.strip()}"
                )
            return lines[0].strip(), git_source(Path(lines[1].strip()).parent)
        proc = self.run(["--version"], cwd)
        if proc.returncode != 0:
            raise EcosystemError(
                f"`{shlex.join(self.argv)} --version` failed (exit {proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
            )
        words = proc.stdout.split()
        return (words[-1] if words else "?"), None

    def has_option(self, option: str, cwd: Path) -> bool:
        proc = self.run(["check", "--help"], cwd)
        if proc.returncode != 0:
            raise EcosystemError(
                f"`{shlex.join(self.argv)} check --help` failed (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}"
            )
        return re.search(rf"(^|\s){re.escape(option)}\b", proc.stdout) is not None


def git_source(package: Path) -> str | None:
    """``<commit>``, or ``<commit>+dirty`` when the package's files differ from it."""
    git = ["git", "--no-optional-locks", "-C", str(package)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return None
    status = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True
    )
    dirty = status.returncode != 0 or bool(status.stdout.strip())
    return head.stdout.strip() + ("+dirty" if dirty else "")


def default_linter() -> list[str]:
    """The ``fastapi-lint`` script next to this interpreter, else ``python -m fastapi_lint``."""
    for d in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        exe = d / ("fastapi-lint.exe" if os.name == "nt" else "fastapi-lint")
        if exe.is_file():
            return [str(exe)]
    return [sys.executable, "-m", "fastapi_lint"]


def relative_path(filename: str, project_dir: Path, cwd: Path) -> str:
    path = Path(filename)
    if not path.is_absolute():
        path = cwd / path
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.resolve(), project_dir)).as_posix()


def lint_project(
    linter: Linter, project: Project, options: list[str], cwd: Path, corpus: Path
) -> list[Finding]:
    """Lint one project from its own directory under the scratch `cwd`, holding the
    requirements the package declares (see `declared_requirements`)."""
    cwd = cwd / project.name
    cwd.mkdir(exist_ok=True)
    requirements = declared_requirements(corpus, project)
    (cwd / "requirements.txt").write_text("".join(f"{line}\n" for line in requirements))
    # A configuration file makes this directory the project root, where the linter reads
    # the requirements; the package is its source root, so modules keep their names.
    (cwd / "fastapi-lint.toml").write_text(f"src = [{json.dumps(str(project.dir))}]\n")
    args = [
        "check",
        str(project.dir),
        "--config",
        str(cwd / "fastapi-lint.toml"),
        "--output-format",
        "json",
        "--no-cache",
        "--exit-zero",
        *options,
    ]
    proc = linter.run(args, cwd)
    if proc.stderr.strip():
        for line in proc.stderr.strip().splitlines():
            log(f"  [{project.name}] {line}")
    if proc.returncode != 0:
        raise EcosystemError(
            f"the linter failed on {project.name} (exit {proc.returncode}): "
            f"{shlex.join([*linter.argv, *args])}"
        )
    try:
        diagnostics = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise EcosystemError(f"the linter's output on {project.name} is not JSON: {exc}") from exc
    return [
        Finding(
            project=project.name,
            path=relative_path(d["filename"], project.dir, cwd),
            line=int((d.get("location") or {}).get("row") or 0),
            col=int((d.get("location") or {}).get("column") or 0),
            code=d["code"],
            message=d["message"],
        )
        for d in diagnostics
    ]


def lint_corpus(
    linter: Linter, projects: list[Project], select: str | None, preview: bool, corpus: Path
) -> dict:
    """Run the linter on every project and return the snapshot."""
    options: list[str] = []
    if select is not None:
        options += ["--select", select]
    if linter.jobs is not None:
        options += ["--jobs", str(linter.jobs)]
    with tempfile.TemporaryDirectory(prefix="fastapi-lint-ecosystem-") as scratch:
        cwd = Path(scratch)
        version, source = linter.identify(cwd)
        if preview:
            if not linter.has_option("--preview", cwd):
                raise EcosystemError(f"--preview: `{linter.display()} check` has no --preview")
            options.append("--preview")
        log(f"linter: {linter.display()} ({version})")
        findings: dict[str, list[Finding]] = {}
        start = time.perf_counter()
        for project in projects:
            t0 = time.perf_counter()
            found = lint_project(linter, project, options, cwd, corpus)
            findings[project.name] = found
            log(
                f"  {project.name} {project.version}: {len(found)} findings "
                f"in {time.perf_counter() - t0:.1f} s"
            )
        elapsed = time.perf_counter() - start
    log(f"linted {len(projects)} projects in {elapsed:.1f} s")
    return build_snapshot(
        findings,
        projects,
        linter={"command": linter.display(), "version": version, "source": source},
        options={"select": select, "preview": preview},
    )


# --------------------------------------------------------------------------------------------
# Snapshots


def build_snapshot(
    findings: dict[str, list[Finding]], projects: list[Project], *, linter: dict, options: dict
) -> dict:
    out: dict = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "linter": linter,
        "options": options,
        "projects": {},
    }
    for project in sorted(projects, key=lambda p: p.name):
        files = sum(1 for _ in project.dir.rglob("*.py"))
        out["projects"][project.name] = project_entry(
            findings[project.name], project.dir.name, project.version, files
        )
    return finish_snapshot(out)


def project_entry(findings: list[Finding], dirname: str, version: str, files: int) -> dict:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_rule[f.code].append(f)
    rules = {}
    for code in sorted(by_rule):
        items = sorted(by_rule[code], key=lambda f: (f.path, f.line, f.col, f.message))
        rules[code] = {
            "count": len(items),
            "findings": [
                {"path": f.path, "line": f.line, "col": f.col, "code": f.code, "message": f.message}
                for f in items
            ],
        }
    return {
        "dir": dirname,
        "version": version,
        "files": files,
        "total": len(findings),
        "rules": rules,
    }


def finish_snapshot(snapshot: dict) -> dict:
    """Sort the projects and recompute the per-rule totals over all projects."""
    snapshot["projects"] = dict(sorted(snapshot["projects"].items()))
    totals: Counter[str] = Counter()
    for entry in snapshot["projects"].values():
        for code, rule in entry["rules"].items():
            totals[code] += rule["count"]
    ordered = {"format": snapshot["format"], "version": snapshot["version"]}
    ordered |= {k: snapshot[k] for k in ("linter", "options")}
    ordered["totals"] = dict(sorted(totals.items()))
    ordered["total"] = sum(totals.values())
    ordered["projects"] = snapshot["projects"]
    return ordered


def snapshot_findings(snapshot: dict, projects: Iterable[str] | None = None) -> list[Finding]:
    wanted = None if projects is None else set(projects)
    out = []
    for name, entry in snapshot["projects"].items():
        if wanted is not None and name not in wanted:
            continue
        for code, rule in entry["rules"].items():
            for f in rule["findings"]:
                out.append(Finding(name, f["path"], f["line"], f["col"], code, f["message"]))
    return out


def dump_snapshot(snapshot: dict) -> str:
    """Indented JSON with one finding per line, so that a changed finding is a one-line diff."""

    def dumps(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    top = list(snapshot.items())
    for i, (key, value) in enumerate(top):
        comma = "," if i < len(top) - 1 else ""
        if key != "projects":
            lines.append(f"  {dumps(key)}: {dumps(value)}{comma}")
            continue
        lines.append('  "projects": {')
        projects = list(value.items())
        for j, (name, entry) in enumerate(projects):
            lines.append(f"    {dumps(name)}: {{")
            for key2 in ("dir", "version", "files", "total"):
                lines.append(f"      {dumps(key2)}: {dumps(entry[key2])},")
            lines.append('      "rules": {')
            rules = list(entry["rules"].items())
            for k, (code, rule) in enumerate(rules):
                lines.append(f"        {dumps(code)}: {{")
                lines.append(f'          "count": {rule["count"]},')
                lines.append('          "findings": [')
                items = rule["findings"]
                for m, f in enumerate(items):
                    lines.append(f"            {dumps(f)}{',' if m < len(items) - 1 else ''}")
                lines.append("          ]")
                lines.append(f"        }}{',' if k < len(rules) - 1 else ''}")
            lines.append("      }")
            lines.append(f"    }}{',' if j < len(projects) - 1 else ''}")
        lines.append(f"  }}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_snapshot(snapshot: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_snapshot(snapshot), encoding="utf-8")
    os.replace(tmp, path)
    log(f"wrote {path} ({snapshot['total']} findings in {len(snapshot['projects'])} projects)")


def load_snapshot(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EcosystemError(f"no snapshot at {path}; run bench/ecosystem.py first") from None
    except json.JSONDecodeError as exc:
        raise EcosystemError(f"{path} is not valid JSON: {exc}") from exc
    if data.get("format") != SNAPSHOT_FORMAT or data.get("version") != SNAPSHOT_VERSION:
        raise EcosystemError(f"{path} is not a version {SNAPSHOT_VERSION} ecosystem snapshot")
    return data


def merge_snapshot(old: dict | None, new: dict) -> dict:
    """The new run's projects replace the old ones; the old snapshot's other projects stay."""
    if old is None:
        return new
    merged = dict(new)
    merged["projects"] = {**old["projects"], **new["projects"]}
    return finish_snapshot(merged)


# --------------------------------------------------------------------------------------------
# --compare


def compare(
    before: dict, after: dict, projects: list[str] | None, limit: int, reworded: bool = False
) -> str:
    """The findings ``after`` adds and removes, grouped by rule, with per-rule counts.

    A finding that stays at the same place (project, path, line, column, code) with another
    message is counted as reworded, not as one removal and one addition, so that rewording a
    rule's message does not hide what else changed; ``reworded`` lists them too.
    """
    if projects is None:
        names = sorted(set(before["projects"]) | set(after["projects"]))
    else:
        names = sorted(projects)
    old = Counter(snapshot_findings(before, names))
    new = Counter(snapshot_findings(after, names))
    added, removed, changed = split_changes(
        sorted((new - old).elements(), key=sort_key),
        sorted((old - new).elements(), key=sort_key),
    )
    out = io.StringIO()

    def p(text: str = "") -> None:
        out.write(text + "\n")

    for note in compare_notes(before, after, names):
        p(f"note: {note}")
    scope = "all projects" if projects is None else ", ".join(names)
    if not added and not removed and not changed:
        p(f"No changes: {sum(new.values())} findings in {scope}.")
        return out.getvalue()
    p(
        f"{len(added)} added, {len(removed)} removed, {len(changed)} reworded "
        f"({sum(old.values())} -> {sum(new.values())} findings in {scope})"
    )
    p()
    codes = sorted({f.code for f in old.elements()} | {f.code for f in new.elements()})
    count_old = Counter(f.code for f in old.elements())
    count_new = Counter(f.code for f in new.elements())
    count_added = Counter(f.code for f in added)
    count_removed = Counter(f.code for f in removed)
    count_changed = Counter(f.code for f, _ in changed)
    header = ("before", "after", "added", "removed", "reworded")
    rows = [("rule", *header)]
    for code in codes:
        rows.append(
            (
                code,
                str(count_old[code]),
                str(count_new[code]),
                f"+{count_added[code]}",
                f"-{count_removed[code]}",
                str(count_changed[code]),
            )
        )
    rows.append(
        (
            "total",
            str(sum(old.values())),
            str(sum(new.values())),
            f"+{len(added)}",
            f"-{len(removed)}",
            str(len(changed)),
        )
    )
    for line in table(rows, right={1, 2, 3, 4, 5}):
        p(line)
    p()
    proj_rows = [("project", *header)]
    for name in names:
        b = sum(n for f, n in old.items() if f.project == name)
        a = sum(n for f, n in new.items() if f.project == name)
        ad = sum(1 for f in added if f.project == name)
        rm = sum(1 for f in removed if f.project == name)
        ch = sum(1 for f, _ in changed if f.project == name)
        if ad or rm or ch:
            proj_rows.append((name, str(b), str(a), f"+{ad}", f"-{rm}", str(ch)))
    for line in table(proj_rows, right={1, 2, 3, 4, 5}):
        p(line)
    for code in codes:
        changes = [("+", f) for f in added if f.code == code]
        changes += [("-", f) for f in removed if f.code == code]
        rewords = [(f, new_message) for f, new_message in changed if f.code == code]
        if not changes and not rewords:
            continue
        changes.sort(key=lambda c: (sort_key(c[1]), c[0]))
        p()
        p(
            f"{code}: {count_old[code]} -> {count_new[code]} "
            f"(+{count_added[code]} -{count_removed[code]}, {count_changed[code]} reworded)"
        )
        shown = changes if limit <= 0 else changes[:limit]
        for sign, f in shown:
            p(f"  {sign} {f.project}: {f.path}:{f.line}: {f.message}")
        if len(shown) < len(changes):
            p(f"  ... and {len(changes) - len(shown)} more (--limit 0 shows all)")
        if rewords and reworded:
            shown_rewords = rewords if limit <= 0 else rewords[:limit]
            for f, new_message in shown_rewords:
                p(f"  ~ {f.project}: {f.path}:{f.line}: {f.message}")
                p(f"    now: {new_message}")
            if len(shown_rewords) < len(rewords):
                p(f"  ... and {len(rewords) - len(shown_rewords)} more reworded")
        elif rewords:
            f, new_message = rewords[0]
            p(f"  ~ {len(rewords)} reworded (--reworded lists them), e.g. {f.path}:{f.line}:")
            p(f"    was: {f.message}")
            p(f"    now: {new_message}")
    return out.getvalue()


def split_changes(
    added: list[Finding], removed: list[Finding]
) -> tuple[list[Finding], list[Finding], list[tuple[Finding, str]]]:
    """Pair an added and a removed finding at the same place: (old finding, new message)."""

    def place(f: Finding) -> tuple:
        return (f.project, f.path, f.line, f.col, f.code)

    gone: dict[tuple, list[Finding]] = defaultdict(list)
    for f in removed:
        gone[place(f)].append(f)
    still_added, changed = [], []
    for f in added:
        candidates = gone.get(place(f))
        if candidates:
            changed.append((candidates.pop(0), f.message))
        else:
            still_added.append(f)
    still_removed = [f for fs in gone.values() for f in fs]
    return still_added, sorted(still_removed, key=sort_key), changed


def compare_notes(before: dict, after: dict, names: list[str]) -> list[str]:
    notes = []
    if before.get("options") != after.get("options"):
        notes.append(
            f"options differ: before {before.get('options')}, after {after.get('options')}"
        )
    for name in names:
        b, a = before["projects"].get(name), after["projects"].get(name)
        if b is None or a is None:
            notes.append(f"{name} is only in the {'after' if b is None else 'before'} snapshot")
        elif b.get("version") != a.get("version"):
            notes.append(f"{name}: corpus version {b.get('version')} -> {a.get('version')}")
    return notes


def sort_key(f: Finding) -> tuple:
    return (f.project, f.path, f.line, f.col, f.code, f.message)


def table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


# --------------------------------------------------------------------------------------------
# Reviewed findings: --report


class Review(NamedTuple):
    project: str
    path: str
    line: int
    code: str
    verdict: str
    reason: str
    row: int  # line number in the CSV file


def load_reviews(path: Path) -> list[Review]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EcosystemError(f"no reviewed findings at {path}") from None
    numbered = [
        (i, line)
        for i, line in enumerate(text.splitlines(keepends=True), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    # One CSV record per line: a reason cannot span lines, so CSV line numbers stay exact.
    rows = [(i, next(csv.reader([line]), [])) for i, line in numbered]
    if not rows or tuple(h.strip() for h in rows[0][1]) != REVIEW_HEADER:
        raise EcosystemError(f"{path}: the header must be {','.join(REVIEW_HEADER)}")
    reviews = []
    for row_no, row in rows[1:]:
        if len(row) != len(REVIEW_HEADER):
            raise EcosystemError(f"{path}:{row_no}: expected {len(REVIEW_HEADER)} columns")
        project, rel, line, code, verdict, reason = (c.strip() for c in row)
        if verdict not in VERDICTS:
            raise EcosystemError(f"{path}:{row_no}: verdict must be keep or drop, not {verdict!r}")
        try:
            line_no = int(line)
        except ValueError:
            raise EcosystemError(f"{path}:{row_no}: line {line!r} is not a number") from None
        reviews.append(Review(project, rel, line_no, code, verdict, reason, row_no))
    return reviews


def match_reviews(
    reviews: list[Review], findings: list[Finding], tolerance: int
) -> dict[int, Finding | None]:
    """Map each review (by index) to the finding it judges, or None when it is not reported.

    A review matches a finding with the same project, path and code on the same line; failing
    that, the nearest unmatched one at most ``tolerance`` lines away (the earlier line on a
    tie). Exact matches are made first, so a shifted match never takes a finding that another
    review names exactly. Each finding is matched at most once.
    """
    free: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for f in sorted(findings, key=sort_key):
        free[(f.project, f.path, f.code)].append(f)
    result: dict[int, Finding | None] = {}
    for i, r in enumerate(reviews):
        candidates = free[(r.project, r.path, r.code)]
        for f in candidates:
            if f.line == r.line:
                candidates.remove(f)
                result[i] = f
                break
    for i, r in enumerate(reviews):
        if i in result:
            continue
        candidates = free[(r.project, r.path, r.code)]
        near = [f for f in candidates if abs(f.line - r.line) <= tolerance]
        if near:
            best = min(near, key=lambda f: (abs(f.line - r.line), f.line))
            candidates.remove(best)
            result[i] = best
        else:
            result[i] = None
    return result


def report(snapshot: dict, reviews: list[Review], tolerance: int, source: str) -> tuple[str, int]:
    """The keep rate per rule and the warnings; returns (text, number of warnings)."""
    findings = snapshot_findings(snapshot)
    matched = match_reviews(reviews, findings, tolerance)
    out = io.StringIO()

    def p(text: str = "") -> None:
        out.write(text + "\n")

    totals = Counter(f.code for f in findings)
    codes = sorted(set(totals) | {r.code for r in reviews})
    p(f"Reviewed findings ({source}: {len(reviews)} entries) in the snapshot:")
    p()
    rows = [("rule", "findings", "reviewed", "present", "keep", "drop", "keep rate", "gone")]
    for code in codes:
        mine = [(r, matched[i]) for i, r in enumerate(reviews) if r.code == code]
        present = [r for r, f in mine if f is not None]
        keep = sum(1 for r in present if r.verdict == "keep")
        drop = len(present) - keep
        rate = f"{keep / len(present):.0%} ({keep}/{len(present)})" if present else "-"
        rows.append(
            (
                code,
                str(totals[code]),
                str(len(mine)),
                str(len(present)),
                str(keep),
                str(drop),
                rate,
                str(len(mine) - len(present)),
            )
        )
    for line in table(rows, right={1, 2, 3, 4, 5, 7}):
        p(line)
    p()
    p(
        "keep rate = keep / present: the share of the reviewed findings still reported that are "
        "worth reporting; gone = reviewed findings no longer reported"
    )
    warnings = []
    shifted = []
    projects = set(snapshot["projects"])
    seen: dict[tuple, int] = {}
    for i, r in enumerate(reviews):
        f = matched[i]
        where = f"{r.project}: {r.path}:{r.line} {r.code}"
        key = (r.project, r.path, r.line, r.code)
        if key in seen:
            warnings.append(f"duplicate review of {where} (CSV lines {seen[key]} and {r.row})")
        seen.setdefault(key, r.row)
        if r.project not in projects:
            warnings.append(f"{where}: project {r.project} is not in the snapshot")
            continue
        if f is not None and r.verdict == "drop":
            at = f" (now line {f.line})" if f.line != r.line else ""
            warnings.append(
                f"known false positive still reported: {where}{at}: {f.message} [drop: {r.reason}]"
            )
        elif f is None and r.verdict == "keep":
            warnings.append(
                f"reviewed true positive no longer reported: {where} [keep: {r.reason}]"
            )
        if f is not None and f.line != r.line:
            shifted.append(f"{where} matched the finding on line {f.line}")
    for line in shifted:
        p(f"note: {line}")
    if warnings:
        p()
    for w in warnings:
        p(f"warning: {w}")
    return out.getvalue(), len(warnings)


# --------------------------------------------------------------------------------------------
# --sample


def parse_excludes(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def excluded(path: str, patterns: list[str]) -> bool:
    """True when a directory of ``path`` matches a ``dir/`` pattern or its name a file one."""
    parts = path.split("/")
    dirs, name = parts[:-1], parts[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            glob = pattern.rstrip("/")
            if "/" in glob:
                if fnmatch.fnmatchcase(path, f"{glob}/*") or fnmatch.fnmatchcase(
                    path, f"*/{glob}/*"
                ):
                    return True
            elif any(fnmatch.fnmatchcase(d, glob) for d in dirs):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def sample(
    snapshot: dict,
    code: str,
    n: int,
    seed: int,
    patterns: list[str],
    reviews: list[Review],
    corpus: Path,
    context: int,
) -> str:
    findings = [f for f in snapshot_findings(snapshot) if f.code == code or f.code.startswith(code)]
    everything = len(findings)
    findings = [f for f in findings if not excluded(f.path, patterns)]
    outside = len(findings)
    reviewed = {(r.project, r.path, r.code, r.line) for r in reviews}
    findings = [f for f in findings if (f.project, f.path, f.code, f.line) not in reviewed]
    findings.sort(key=sort_key)
    picked = random.Random(seed).sample(findings, min(n, len(findings)))
    picked.sort(key=sort_key)
    out = io.StringIO()
    out.write(
        f"# {len(picked)} of {len(findings)} {code} findings not yet reviewed "
        f"({everything} in all, {outside} outside {','.join(patterns) or 'nothing'}); "
        f"seed {seed}\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEW_HEADER)
    dirs = {name: entry["dir"] for name, entry in snapshot["projects"].items()}
    for f in picked:
        writer.writerow([f.project, f.path, f.line, f.code, "", ""])
        if context >= 0:
            out.write(f"#   {f.code} {f.message}\n")
        if context > 0:
            for line in source_context(corpus / "src" / dirs[f.project] / f.path, f.line, context):
                out.write(f"#   {line}\n")
    return out.getvalue()


def source_context(path: Path, line: int, context: int) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return [f"(cannot read {path})"]
    lo, hi = max(1, line - context), min(len(lines), line + context)
    # A route finding is reported on its decorator: show the function's whole signature and
    # its first lines too (the return annotation, the docstring).
    if 0 < line <= len(lines) and lines[line - 1].lstrip().startswith("@"):
        for i in range(line + 1, min(len(lines), line + DECORATOR_REACH) + 1):
            if DEF_RE.match(lines[i - 1]):
                # The signature ends on the first line ending with a colon.
                end = next(
                    (
                        j
                        for j in range(i, min(len(lines), i + DECORATOR_REACH) + 1)
                        if lines[j - 1].split("#")[0].rstrip().endswith(":")
                    ),
                    i,
                )
                hi = max(hi, min(len(lines), end + context))
                break
    width = len(str(hi))
    return [
        f"{'>' if i == line else ' '}{i:>{width}} | {lines[i - 1]}".rstrip()
        for i in range(lo, hi + 1)
    ]


# --------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/ecosystem.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Lint every project of the pinned corpus and record the findings in a snapshot;\n"
            "compare a change against it, report the keep rate of reviewed findings, and\n"
            "sample findings to review. Fetch the corpus first:\n"
            "  bash ../shared/corpus/fetch.sh .corpus"
        ),
        epilog=(
            "examples:\n"
            "  python bench/ecosystem.py                     # lint, write the snapshot\n"
            "  python bench/ecosystem.py --compare           # what the working tree changes\n"
            "  python bench/ecosystem.py --compare --update  # ... and record it\n"
            "  python bench/ecosystem.py --report            # keep rates of reviewed findings\n"
            "  python bench/ecosystem.py --sample FAPI101 --n 30 --seed 1 >> to-review.csv\n"
            "  python bench/ecosystem.py --src /tmp/before/src \\\n"
            "      --snapshot bench/ecosystem/snapshot-before.json   # another checkout's linter"
        ),
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="the corpus directory, as fetch.sh DIR lays it out (default: "
        "$FASTAPI_LINT_BENCH_CORPUS or <repo>/.corpus)",
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        default=DEFAULT_SNAPSHOT,
        help="the snapshot to write, or to compare with (default: bench/ecosystem/snapshot.json)",
    )
    modes = parser.add_argument_group("modes (without one: lint and write the snapshot)")
    modes.add_argument(
        "--compare",
        action="store_true",
        help="lint and print the findings added and removed against --snapshot",
    )
    modes.add_argument(
        "--update",
        action="store_true",
        help="with --compare: also rewrite --snapshot with the new findings",
    )
    modes.add_argument(
        "--current",
        type=Path,
        metavar="FILE",
        help="take the current findings from this saved snapshot instead of running the linter",
    )
    modes.add_argument(
        "--report",
        action="store_true",
        help="keep rate per rule over the reviewed findings (the --compare result if "
        "given, else --snapshot)",
    )
    modes.add_argument(
        "--sample",
        metavar="CODE",
        help="print a random sample of this rule's findings as CSV rows to judge",
    )
    run = parser.add_argument_group("running the linter")
    run.add_argument(
        "--linter",
        metavar="CMD",
        help=f"the fastapi-lint command, split like a shell would; a leading `python` is this "
        f"interpreter (default: ${LINTER_ENV}, else the fastapi-lint script next to this "
        "interpreter, else `python -m fastapi_lint`)",
    )
    run.add_argument(
        "--src",
        type=Path,
        metavar="DIR",
        help="put DIR (a checkout's src/) first on the linter's PYTHONPATH; the default "
        "linter is then `python -m fastapi_lint`",
    )
    run.add_argument(
        "--select", metavar="CODES", help="passed to the linter (default: its defaults)"
    )
    run.add_argument("--preview", action="store_true", help="passed to the linter")
    run.add_argument("--jobs", type=int, metavar="N", help="passed to the linter")
    run.add_argument(
        "--project",
        action="append",
        metavar="NAME",
        help="lint only this project (repeatable); the others keep their findings in the "
        "snapshot file, and --compare looks only at these",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--limit",
        type=int,
        default=0,
        metavar="N",
        help="--compare: at most N changed findings per rule (default 0: all)",
    )
    out.add_argument(
        "--reworded",
        action="store_true",
        help="--compare: list every reworded finding (same place, new message), not only "
        "their count and one example",
    )
    out.add_argument(
        "--reviewed",
        type=Path,
        default=DEFAULT_REVIEWED,
        help="the reviewed findings (default: bench/ecosystem/reviewed.csv)",
    )
    out.add_argument(
        "--line-tolerance",
        type=int,
        default=DEFAULT_LINE_TOLERANCE,
        metavar="N",
        help="--report: a review matches a finding up to N lines away when none is on its "
        f"line (default {DEFAULT_LINE_TOLERANCE}; 0: exact lines only)",
    )
    out.add_argument("--n", type=int, default=30, help="--sample: how many (default 30)")
    out.add_argument("--seed", type=int, default=0, help="--sample: the random seed (default 0)")
    out.add_argument(
        "--exclude",
        default=DEFAULT_SAMPLE_EXCLUDE,
        metavar="PATTERNS",
        help="--sample: comma-separated globs to leave out; `dir/` matches a directory, "
        f"others the file name; '' keeps everything (default: {DEFAULT_SAMPLE_EXCLUDE})",
    )
    out.add_argument(
        "--context",
        type=int,
        default=3,
        metavar="N",
        help="--sample: source lines before and after each finding, printed as # comments "
        "(default 3; 0: only the message; -1: nothing but the CSV)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.current is not None and not (args.compare or args.report or args.sample):
        parser.error("--current needs --compare, --report or --sample")
    if args.update and not args.compare:
        parser.error("--update goes with --compare (without a mode, the snapshot is written)")
    try:
        return run(args)
    except EcosystemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    corpus = args.corpus.resolve()
    write_mode = not (args.compare or args.report or args.sample)
    current: dict | None = None
    if args.current is not None:
        current = load_snapshot(args.current)
    elif write_mode or args.compare:
        projects = corpus_projects(corpus, args.project)
        linter = Linter(args.linter, args.src, args.jobs)
        current = lint_corpus(linter, projects, args.select, args.preview, corpus)
    names = None if not args.project else sorted(current_names(current, args.project))

    if write_mode or (args.compare and args.update):
        old = load_snapshot(args.snapshot) if args.project and args.snapshot.exists() else None
        if args.compare:
            print(
                compare(load_snapshot(args.snapshot), current, names, args.limit, args.reworded),
                end="",
            )
        write_snapshot(merge_snapshot(old, current), args.snapshot)
    elif args.compare:
        print(
            compare(load_snapshot(args.snapshot), current, names, args.limit, args.reworded), end=""
        )

    if args.report or args.sample:
        if current is None:
            current = load_snapshot(args.snapshot)
        reviews = load_reviews(args.reviewed) if args.report or args.reviewed.exists() else []
        if args.report:
            if args.compare:
                print()
            text, _ = report(current, reviews, args.line_tolerance, shown_path(args.reviewed))
            print(text, end="")
        if args.sample:
            if args.compare or args.report:
                print()
            text = sample(
                current,
                args.sample,
                args.n,
                args.seed,
                parse_excludes(args.exclude),
                reviews,
                corpus,
                args.context,
            )
            print(text, end="")
    return 0


def shown_path(path: Path) -> str:
    """``path`` relative to the repo when it is inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def current_names(snapshot: dict, wanted: list[str]) -> set[str]:
    """Project names as the snapshot keys them (``lnbits`` for ``lnbits-1.6.2`` too)."""
    by_dir = {entry["dir"]: name for name, entry in snapshot["projects"].items()}
    return {by_dir.get(n, n) for n in wanted}


if __name__ == "__main__":
    sys.exit(main())
