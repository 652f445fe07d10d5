#!/usr/bin/env python3
"""Compare `fastapi-lint routes` with FastAPI itself on every app of FastAPI's docs_src/.

A script to run by hand, not a test. FastAPI's documentation examples (`docs_src/` of the
pinned corpus, `<corpus>/src/fastapi-0.165.0/docs_src`) are ~500 small modules, most of them
one app each, covering nearly every way to declare a route. For each module that imports
with the installed FastAPI and Pydantic and defines an app, the script compares:

- the in-schema `(METHOD, path)` pairs of `app.openapi()["paths"]` with the rows of
  `fastapi-lint routes` whose `in_schema` is true;
- the hidden pairs (served, not in the schema) of the app's route list with the rows whose
  `in_schema` is false;
- plain Starlette routes, websockets and mounts, each as its own table.

Ground truth comes from `tests/routes_probe.py`, which imports the modules in child
interpreters (a few hundred modules per child, each import guarded, a timeout per child;
a module that hangs or kills its child is reported and the rest of the batch goes on in a
new child). The linter runs once per top-level package of docs_src (and once per loose
file), as `fastapi-lint routes <package dir or file> --output-format json`; an app is
matched by its `app` key, `module:name`, the module named from the `__init__.py` layout
(`docs_src/` has none, so `docs_src/first_steps/tutorial001.py` is `first_steps.tutorial001`).

Both run on a scratch copy of docs_src, so nothing is ever written into the corpus.

    python bench/docs_src_routes.py                       # corpus: $FASTAPI_LINT_BENCH_CORPUS
    python bench/docs_src_routes.py --corpus /work/corpus
    python bench/docs_src_routes.py --docs-src path/to/docs_src --only bigger_applications
    python bench/docs_src_routes.py --probe-only          # FastAPI's side only
    python bench/docs_src_routes.py --json > report.json  # every app, every difference

Output: how many modules imported, how many apps were compared, how many match exactly,
and for the others the differences by category, with a few examples each (`--examples N`,
`--verbose` for all of them). Exit status: 0 when every compared app matches, 1 when some
differ, 2 when the linter could not be run at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = Path(os.environ.get("FASTAPI_LINT_BENCH_CORPUS") or REPO_ROOT / ".corpus")
FASTAPI_DIST = "fastapi-0.165.0"
FETCH_SCRIPT = REPO_ROOT.parent / "shared" / "corpus" / "fetch.sh"


def _load_probe():
    """tests/routes_probe.py, loaded by path (it needs no FastAPI in this interpreter)."""
    path = REPO_ROOT / "tests" / "routes_probe.py"
    spec = importlib.util.spec_from_file_location("routes_probe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rp = _load_probe()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Modules of docs_src, named as the linter names them


def module_of(path: Path) -> tuple[Path, str, Path]:
    """`(import root, dotted module name, lint target)` of a `.py` file.

    Packages are found from `__init__.py` files, as the linter does: the import root is
    the directory above the outermost package, and the lint target is that package's
    directory (the file itself when it is in no package).
    """
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    top = None
    while (directory / "__init__.py").is_file() and directory != directory.parent:
        parts.insert(0, directory.name)
        top, directory = directory, directory.parent
    return directory, ".".join(parts), top or path


def discover(docs_src: Path, only: list[str]) -> list[tuple[Path, str, Path]]:
    found = []
    for path in sorted(docs_src.rglob("*.py")):
        relative = path.relative_to(docs_src).as_posix()
        if only and not any(part in relative for part in only):
            continue
        root, module, target = module_of(path)
        if module and all(part.isidentifier() for part in module.split(".")):
            found.append((root, module, target))
    return found


# --------------------------------------------------------------------------------------
# FastAPI's side


def probe_all(modules, *, batch: int, timeout: float, python: str) -> dict[str, dict]:
    """Probe reports by module, batches of `batch` modules per child, by import root."""
    by_root: dict[Path, list[str]] = defaultdict(list)
    for root, module, _ in modules:
        by_root[root].append(module)
    reports: dict[str, dict] = {}
    for root, names in by_root.items():
        for start in range(0, len(names), batch):
            remaining = names[start : start + batch]
            while remaining:
                results = rp.probe(
                    remaining, sys_path=[root], cwd=root, timeout=timeout, python=python, chdir=True
                )
                missing = [m for m in remaining if results[m].get("reported") is False]
                for module in remaining:
                    if module not in missing:
                        reports[module] = results[module]
                if not missing:
                    break
                # The child stopped at the first module it did not report: blame that one,
                # and go on with the rest in a fresh child.
                culprit = missing[0]
                reports[culprit] = results[culprit]
                log(f"  probe: {culprit}: {results[culprit]['error']}")
                remaining = missing[1:]
            log(f"  probe: {root.name}/ {min(start + batch, len(names))}/{len(names)} modules")
    return reports


# --------------------------------------------------------------------------------------
# The linter's side


def run_linter(command: list[str], target: Path, cwd: Path, timeout: float) -> dict:
    """`{"rows": [...]}` or `{"error": "..."}` for one `fastapi-lint routes TARGET` run."""
    argv = [*command, "routes", str(target), "--output-format", "json"]
    try:
        completed = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    except OSError as error:
        return {"error": f"cannot run {shlex.join(argv)}: {error}"}
    try:
        rows = json.loads(completed.stdout)
    except json.JSONDecodeError:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        return {"error": f"exit {completed.returncode}: {' | '.join(detail[-3:])[:500]}"}
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "app" in r for r in rows):
        return {"error": f"exit {completed.returncode}: not a JSON array of route rows"}
    return {"rows": rows, "exit": completed.returncode}


def default_linter_command() -> list[str]:
    script = Path(sys.executable).with_name("fastapi-lint")
    if script.exists():
        return [str(script)]
    found = shutil.which("fastapi-lint")
    return [found] if found else [sys.executable, "-m", "fastapi_lint"]


# --------------------------------------------------------------------------------------
# Comparison and categories


def categorize(expected: dict[str, set], actual: dict[str, set]) -> dict[str, list]:
    """The differences of one app, each under a category that says what went wrong."""
    diff = rp.compare(expected, actual)
    categories: dict[str, list] = defaultdict(list)
    schema_missing = set(diff.get("schema: missing", []))
    hidden_missing = set(diff.get("hidden: missing", []))
    schema_extra = set(diff.get("schema: extra", []))
    hidden_extra = set(diff.get("hidden: extra", []))
    # A route found, but with the wrong in_schema.
    for pair in sorted(schema_missing & hidden_extra):
        categories["in_schema false, FastAPI has it in the schema"].append(pair)
    for pair in sorted(hidden_missing & schema_extra):
        categories["in_schema true, FastAPI hides it"].append(pair)
    missing = (schema_missing - hidden_extra) | (hidden_missing - schema_extra)
    extra = (schema_extra - hidden_missing) | (hidden_extra - schema_missing)
    # A route found at another path: unresolved parts, or a prefix lost or doubled.
    for pair in sorted(extra):
        method, path = pair
        if "{?}" in path:
            categories["path with an unresolved part {?}"].append(pair)
            continue
        twin = next(
            (
                m
                for m in sorted(missing)
                if m[0] == method and (m[1].endswith(path) or path.endswith(m[1]))
            ),
            None,
        )
        if twin is not None:
            missing.discard(twin)
            label = "prefix missing" if twin[1].endswith(path) else "prefix extra"
            categories[label].append(f"{method} {path} (FastAPI: {twin[1]})")
        else:
            categories["route the linter invents"].append(pair)
    for pair in sorted(missing):
        categories["route the linter misses"].append(pair)
    for table in ("plain", "websocket", "mount"):
        for kind in ("missing", "extra"):
            for item in diff.get(f"{table}: {kind}", []):
                categories[f"{table} {kind}"].append(item)
    return dict(categories)


def compare_all(modules, reports, lint_runs) -> dict:
    target_of = {module: target for _, module, target in modules}
    apps = []
    seen_ids = set()
    for _, module, _ in modules:
        report = reports.get(module)
        if not report or not report.get("ok"):
            continue
        for app_id, app in rp.app_ids(report):
            if "error" in app:
                apps.append({"app": app_id, "status": "probe error", "error": app["error"]})
                continue
            seen_ids.add(app_id)
            run = lint_runs.get(target_of[module], {})
            entry = {"app": app_id, "module": module, "target": str(target_of[module])}
            info = []
            if app.get("openapi_error"):
                info.append(f"openapi() failed: {app['openapi_error']}")
            expected = rp.expected_tables(app)
            if app["openapi_url"] is not None and expected["schema"] != rp.declared_schema(app):
                info.append("openapi() paths differ from the route list (custom openapi?)")
            if app.get("webhooks"):
                info.append(
                    f"{len(app['webhooks'])} webhooks (in OpenAPI 'webhooks', not compared)"
                )
            if any(r["kind"] in ("host", "frontend", "other") for r in app["routes"]):
                kinds = sorted({r["kind"] for r in app["routes"]} & {"host", "frontend", "other"})
                info.append(f"not compared: {', '.join(kinds)} routes")
            entry["info"] = info
            entry["expected"] = {k: sorted(v) for k, v in expected.items()}
            if "rows" not in run:
                entry["status"] = "linter error"
                entry["error"] = run.get("error", "not run")
                apps.append(entry)
                continue
            actual = rp.linter_tables(run["rows"], app_id, expected["plain"])
            entry["actual"] = {k: sorted(v) for k, v in actual.items()}
            if not any(r.get("app") == app_id for r in run["rows"]) and any(expected.values()):
                entry["status"] = "differs"
                entry["categories"] = {"app not found by the linter": [app_id]}
            else:
                categories = categorize(expected, actual)
                entry["status"] = "differs" if categories else "match"
                entry["categories"] = categories
            apps.append(entry)
    # Apps the linter reports and FastAPI does not know (wrong name, or not an app).
    unknown = Counter()
    for run in lint_runs.values():
        for row in run.get("rows", []):
            if row.get("app") is not None and row["app"] not in seen_ids:
                module = row["app"].split(":", 1)[0]
                if module in reports and reports[module].get("ok"):
                    unknown[row["app"]] += 1
    return {"apps": apps, "unknown_apps": dict(unknown)}


# --------------------------------------------------------------------------------------
# Report


def summarize(modules, reports, comparison, lint_runs, *, examples: int, verbose: bool) -> str:
    lines = []
    ok = [m for _, m, _ in modules if reports.get(m, {}).get("ok")]
    failed = Counter()
    for _, module, _ in modules:
        report = reports.get(module, {})
        if not report.get("ok"):
            failed[(report.get("error") or "no report").strip().splitlines()[0][:110]] += 1
    lines.append(
        f"modules: {len(modules)}, imported: {len(ok)}, failed to import: {sum(failed.values())}"
    )
    for reason, count in failed.most_common(8):
        lines.append(f"  {count:4d}  {reason[:110]}")
    apps = comparison["apps"]
    lint_errors = Counter(run["error"] for run in lint_runs.values() if "error" in run)
    if lint_runs:
        lines.append(f"linter runs: {len(lint_runs)}, failed: {sum(lint_errors.values())}")
        for error, count in lint_errors.most_common(5):
            lines.append(f"  {count:4d}  {error[:110]}")
    compared = [a for a in apps if a["status"] in ("match", "differs")]
    matches = [a for a in compared if a["status"] == "match"]
    if lint_runs:
        lines.append(
            f"apps found: {len(apps)}, compared: {len(compared)}, match exactly: {len(matches)}"
        )
    else:
        lines.append(f"apps found: {len(apps)} (FastAPI's side only)")
    by_category: dict[str, list] = defaultdict(list)
    for app in compared:
        for category, items in app.get("categories", {}).items():
            by_category[category].append((app["app"], items))
    if by_category:
        lines.append("differences (apps affected, then examples):")
    for category, affected in sorted(by_category.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {category}: {len(affected)} apps")
        shown = affected if verbose else affected[:examples]
        for app_id, items in shown:
            rendered = ", ".join(_render(i) for i in (items if verbose else items[:3]))
            more = "" if verbose or len(items) <= 3 else f", ... ({len(items)} in all)"
            lines.append(f"      {app_id}: {rendered}{more}")
    if comparison["unknown_apps"]:
        lines.append(
            "app keys the linter reports that FastAPI does not know: "
            f"{len(comparison['unknown_apps'])}"
        )
        for app_id, count in sorted(comparison["unknown_apps"].items())[
            : (None if verbose else examples)
        ]:
            lines.append(f"      {app_id} ({count} rows)")
    notes = Counter(note for app in apps for note in app.get("info", []))
    if notes:
        lines.append("notes on the ground truth:")
        for note, count in notes.most_common(10):
            lines.append(f"  {count:4d}  {note[:110]}")
    return "\n".join(lines)


def _render(item) -> str:
    if isinstance(item, (list, tuple)) and len(item) == 2:
        return f"{item[0]} {item[1]}"
    return str(item)


def probe_summary(modules, reports) -> str:
    apps = [(app_id, app) for _, m, _ in modules for app_id, app in rp.app_ids(reports.get(m, {}))]
    tables = Counter()
    for _, app in apps:
        if "routes" not in app or "openapi_url" not in app:
            continue
        for table, items in rp.expected_tables(app).items():
            tables[table] += len(items)
        for route in app["routes"]:
            tables[f"kind {route['kind']}"] += not route["framework"]
    lines = [f"apps: {len(apps)}"]
    lines += [f"  {name}: {count}" for name, count in sorted(tables.items())]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------


def find_docs_src(args) -> Path:
    if args.docs_src:
        docs_src = Path(args.docs_src).resolve()
        if not docs_src.is_dir():
            sys.exit(f"error: {docs_src} is not a directory")
        return docs_src
    docs_src = Path(args.corpus).resolve() / "src" / FASTAPI_DIST / "docs_src"
    done = docs_src.parent / ".done"
    if not done.is_file():
        sys.exit(
            f"error: {docs_src} is not there (or {done} is missing); fetch the corpus with\n"
            f"  bash {FETCH_SCRIPT} {args.corpus}\n"
            "or pass --docs-src DIR"
        )
    return docs_src


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="the corpus directory")
    parser.add_argument("--docs-src", help="a docs_src directory (instead of the corpus one)")
    parser.add_argument("--only", action="append", default=[], help="only paths containing this")
    parser.add_argument("--batch", type=int, default=200, help="modules per probe child")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per probe child")
    parser.add_argument("--lint-timeout", type=float, default=120, help="seconds per linter run")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that imports")
    parser.add_argument("--fastapi-lint", help="the linter command, split like a shell would")
    parser.add_argument("--probe-only", action="store_true", help="only FastAPI's side")
    parser.add_argument("--examples", type=int, default=5, help="examples per category")
    parser.add_argument("--verbose", action="store_true", help="every app of every category")
    parser.add_argument("--json", action="store_true", help="the full report as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy; print where")
    args = parser.parse_args(argv)

    source = find_docs_src(args)
    scratch = Path(tempfile.mkdtemp(prefix="docs_src_routes-"))
    try:
        docs_src = scratch / "docs_src"
        shutil.copytree(source, docs_src, ignore=shutil.ignore_patterns("__pycache__"))
        modules = discover(docs_src, args.only)
        log(f"{len(modules)} modules under {source}")
        started = time.perf_counter()
        env_note = f"python {args.python}"
        log(f"probing with {env_note} ...")
        reports = probe_all(modules, batch=args.batch, timeout=args.timeout, python=args.python)
        log(f"probed in {time.perf_counter() - started:.1f} s")
        if args.probe_only:
            comparison = compare_all(modules, reports, {})
            if args.json:
                print(json.dumps({"reports": reports, "comparison": comparison}, indent=1))
            else:
                print(
                    summarize(
                        modules,
                        reports,
                        comparison,
                        {},
                        examples=args.examples,
                        verbose=args.verbose,
                    )
                )
                print(probe_summary(modules, reports))
            return 0
        command = shlex.split(args.fastapi_lint) if args.fastapi_lint else default_linter_command()
        targets = {}
        for root, module, target in modules:
            if reports.get(module, {}).get("apps"):
                targets.setdefault(target, root)
        lint_runs = {}
        started = time.perf_counter()
        for index, (target, root) in enumerate(sorted(targets.items()), 1):
            lint_runs[target] = run_linter(
                command, target.relative_to(root), root, args.lint_timeout
            )
            if index % 20 == 0 or index == len(targets):
                log(f"  linter: {index}/{len(targets)} targets")
        log(f"linted in {time.perf_counter() - started:.1f} s")
        comparison = compare_all(modules, reports, lint_runs)
        if args.json:
            print(
                json.dumps(
                    {
                        "comparison": comparison,
                        "lint_errors": {
                            str(t): r["error"] for t, r in lint_runs.items() if "error" in r
                        },
                    },
                    indent=1,
                )
            )
        else:
            print(
                summarize(
                    modules,
                    reports,
                    comparison,
                    lint_runs,
                    examples=args.examples,
                    verbose=args.verbose,
                )
            )
        if lint_runs and all("error" in run for run in lint_runs.values()):
            return 2
        differs = any(a["status"] != "match" for a in comparison["apps"])
        return 1 if differs else 0
    finally:
        if args.keep:
            log(f"scratch copy kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
