"""The command line, in ruff's image. Click only: parse flags, call the api, set the exit code.

Exit codes: 0 no violations, 1 violations, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from fastapi_lint import __version__
from fastapi_lint.api import (
    FixMode,
    RunResult,
    add_noqa_paths,
    lint_paths,
    lint_source,
    route_table,
)
from fastapi_lint.baseline import UNBASELINABLE, load_baseline, write_baseline
from fastapi_lint.config import (
    ConfigError,
    Selection,
    Settings,
    apply_overrides,
    describe_settings,
    expand_selector,
    load_settings,
)
from fastapi_lint.docs import render_page
from fastapi_lint.report import (
    EDIT_FORMATS,
    HUMAN_FORMATS,
    OUTPUT_FORMATS,
    hidden_fixes_note,
    render,
    render_fixed,
    render_statistics,
)
from fastapi_lint.reporters.routes import render_routes
from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE
from fastapi_lint.timings import render_timings

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


class _FastapiLintGroup(click.Group):
    """Runs the subcommands: `fastapi-lint src/` means `fastapi-lint check src/` (as with
    ruff); a subcommand's return value is the exit code; errors become one line and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> None:
        try:
            code = super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"fastapi-lint: error: {error}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug of ours: one line, not a traceback
            click.echo(f"fastapi-lint: internal error: {type(error).__name__}: {error}", err=True)
            ctx.exit(EXIT_ERROR)
        ctx.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=_FastapiLintGroup, no_args_is_help=True)
@click.version_option(__version__, prog_name="fastapi-lint")
def cli() -> None:
    """A linter for FastAPI codebases."""


def _selectors(values: Sequence[str], flag: str) -> tuple[str, ...]:
    """Comma-separated selectors from repeatable flags, validated."""
    selectors = tuple(s.strip() for value in values for s in value.split(",") if s.strip())
    for selector in selectors:
        try:
            expand_selector(selector)
        except ConfigError as error:
            raise ConfigError(f"{error} in `{flag}`") from None
    return selectors


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--select",
    multiple=True,
    help="Rule codes or prefixes to enable (replaces the configured set).",
)
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option(
    "--extend-select",
    multiple=True,
    help="Rule codes or prefixes to enable on top of the selection.",
)
@click.option(
    "--output-format",
    type=click.Choice(OUTPUT_FORMATS),
    default=None,
    envvar="FASTAPI_LINT_OUTPUT_FORMAT",
    help="How to print violations (config: `output-format`; default: `full` on a terminal, "
    "else `concise`; `text` is an alias of `concise`).",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="FASTAPI_LINT_OUTPUT_FILE",
    help="Write the report to this file instead of stdout.",
)
@click.option("--fix/--no-fix", default=None, help="Apply safe fixes (config: `fix`).")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply (or show as fixable) unsafe fixes (config: `unsafe-fixes`).",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply the excludes (default and configured) to paths passed explicitly too: for "
    "pre-commit, which passes every file by name (config: `force-exclude`).",
)
@click.option(
    "--preview/--no-preview",
    default=None,
    help="Enable the preview rules that the selection matches (config: `preview`).",
)
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--fix-only", is_flag=True, help="Apply fixes without reporting what remains.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit with 1 when any fix was applied.")
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when violations are found.")
@click.option("-q", "--quiet", is_flag=True, help="Print violations only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of violations per rule.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only the findings this baseline file does not record (config: `baseline`).",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record the current findings in this baseline file, then exit 0.",
)
@click.option(
    "--add-noqa", is_flag=True, help="Add a `# noqa: CODE` to the line of every current finding."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A pyproject.toml (its [tool.fastapi-lint] table) or a TOML file of settings.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Check files in up to N processes (default: one per core; 1: in this process only). "
    "Runs of a handful of files always use one.",
)
@click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the result cache for this run."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FASTAPI_LINT_CACHE_DIR",
    help="Where to keep the result cache (config: `cache-dir`; default: "
    "`.fastapi_lint_cache` in the project root).",
)
@click.option(
    "--timings",
    is_flag=True,
    help="Print (to stderr) the time spent per phase and per rule, summed over files.",
)
@click.option(
    "--no-screen",
    is_flag=True,
    help="Parse every file the byte prefilter lets through, even those in which no enabled "
    "rule can report (env: FASTAPI_LINT_NO_SCREEN=1). The findings are the same: for "
    "checking that, and for timing.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=str),
    help="Read the source from stdin (PATHS: `-` or none) and check it as this file: its "
    "configuration, per-file-ignores and excludes. With --fix the fixed source goes to "
    "stdout, and the report to stderr.",
)
def check(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    output_format: str | None,
    output_file: Path | None,
    fix: bool | None,
    unsafe_fixes: bool | None,
    force_exclude: bool | None,
    preview: bool | None,
    diff: bool,
    fix_only: bool,
    show_fixes: bool,
    exit_non_zero_on_fix: bool,
    exit_zero: bool,
    quiet: bool,
    statistics: bool,
    baseline_file: Path | None,
    write_baseline: Path | None,
    add_noqa: bool,
    config_file: Path | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    timings: bool,
    no_screen: bool,
    stdin_filename: str | None,
) -> int:
    """Lint PATHS (files or directories; default: the current directory; `-`: stdin)."""
    stdin = _stdin_path(paths, stdin_filename, add_noqa or write_baseline is not None)
    cli_layer = Selection(
        select=_selectors(select, "--select") or None,
        ignore=_selectors(ignore, "--ignore"),
        extend_select=_selectors(extend_select, "--extend-select"),
    )
    settings = apply_overrides(
        load_settings(
            config_file, cli_layer, preview=preview, paths=[stdin] if stdin else paths or ["."]
        ),
        force_exclude=force_exclude,
        cache_dir=Path(os.path.abspath(cache_dir)) if cache_dir is not None else None,
    )
    _print_warnings(settings.warnings)
    # Plain checks only: fixing runs write files, which the next check hashes anyway.
    cache = None if no_cache else settings.effective_cache_dir
    if add_noqa or write_baseline is not None:
        _check_alone(
            add_noqa=add_noqa, write_baseline=write_baseline, fix=fix, diff=diff, fix_only=fix_only
        )
        if add_noqa:
            return _add_noqa(paths or ["."], settings)
        assert write_baseline is not None
        return _write_baseline(paths or ["."], settings, write_baseline, jobs=jobs, cache_dir=cache)
    baseline_file = baseline_file or settings.baseline
    baseline = load_baseline(baseline_file) if baseline_file is not None else None
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    fixing = diff or fix_only or (settings.fix if fix is None else fix)
    mode = FixMode(unsafe=unsafe, write=not diff) if fixing else None
    output_format = _output_format(output_format, settings, output_file)
    with_edits = output_format in EDIT_FORMATS
    if stdin is not None:
        source_run = lint_source(
            sys.stdin.buffer.read(),
            stdin,
            settings,
            fix=mode,
            with_edits=with_edits,
            baseline=baseline,
            cache_dir=cache,
        )
        run = source_run.run
    else:
        run = lint_paths(
            paths or ["."],
            settings,
            fix=mode,
            with_edits=with_edits,
            baseline=baseline,
            jobs=jobs,
            cache_dir=cache if mode is None else None,
            screen=not no_screen,
        )
    _report_problems(run, settings, timings)
    if diff:
        return _report_diff(run, unsafe)
    report = ""
    if not fix_only:
        report = _render(run, settings, output_format, quiet, statistics, unsafe, fixing)
    elif not quiet:
        report = f"Fixed {run.fixed_count} {'error' if run.fixed_count == 1 else 'errors'}.\n"
    if show_fixes and run.fixed and (fix_only or statistics or output_format in HUMAN_FORMATS):
        report += render_fixed(run.fixed)
    source_out = stdin is not None and fixing  # stdout is for the fixed source
    if source_out:
        sys.stdout.buffer.write(source_run.output)
        sys.stdout.buffer.flush()
    _write(report, output_file, err=source_out)
    if not (quiet or fixing or statistics) and output_format in HUMAN_FORMATS:
        click.echo(_routes_note(run), err=True)
    if baseline is not None and not quiet:
        click.echo(_baseline_note(run, baseline_file), err=True)  # type: ignore[arg-type]
    if run.internal_errors:
        return EXIT_ERROR
    if exit_non_zero_on_fix and run.fixed_count:
        return EXIT_VIOLATIONS
    if fix_only or exit_zero:
        return EXIT_OK
    return EXIT_VIOLATIONS if run.diagnostics else EXIT_OK


def _stdin_path(paths: Sequence[str], filename: str | None, one_off: bool) -> Path | None:
    """The file that the source on stdin stands for, when it is read: `-` (or no path) with
    `--stdin-filename`, or `-` alone (the file is then named `-`)."""
    if filename is None and tuple(paths) != ("-",):
        if "-" in paths:
            raise ConfigError("`-` (stdin) cannot be combined with other paths")
        return None
    if any(path != "-" for path in paths):
        raise ConfigError("`--stdin-filename` takes no paths but `-`")
    if one_off:
        raise ConfigError("`--add-noqa` and `--write-baseline` cannot read stdin")
    return Path(filename if filename is not None else "-")


def _check_alone(**flags: object) -> None:
    """`--add-noqa` and `--write-baseline` are runs of their own: no fixing beside them."""
    given = [f"--{name.replace('_', '-')}" for name, value in flags.items() if value]
    if len(given) > 1:
        raise ConfigError(f"`{given[0]}` cannot be combined with `{given[1]}`")


def _add_noqa(paths: Sequence[str], settings: Settings) -> int:
    """`--add-noqa`: the count on stderr, as ruff; exit 0 (2 if a file could not be done)."""
    run = add_noqa_paths(paths, settings)
    for error in run.errors:
        click.echo(f"fastapi-lint: error: {error}", err=True)
    added, skipped = run.outcome.added, run.outcome.skipped
    click.echo(f"Added {added} noqa {'directive' if added == 1 else 'directives'}.", err=True)
    if skipped:
        findings = "finding" if skipped == 1 else "findings"
        click.echo(
            f"Skipped {skipped} {findings} whose line ends inside a multi-line string or with "
            "a backslash continuation: no comment can go there.",
            err=True,
        )
    return EXIT_ERROR if run.errors else EXIT_OK


def _write_baseline(
    paths: Sequence[str],
    settings: Settings,
    file: Path,
    *,
    jobs: int | None = None,
    cache_dir: Path | None = None,
) -> int:
    """`--write-baseline FILE`: record every current finding (any configured baseline is
    ignored), unless a file could not be checked, which would drop its findings."""
    run = lint_paths(paths, settings, jobs=jobs, cache_dir=cache_dir)
    _report_problems(run, settings, timings=False)
    if run.internal_errors:
        click.echo(f"fastapi-lint: error: {file} not written", err=True)
        return EXIT_ERROR
    recorded = write_baseline(file, run.diagnostics)
    count = len(recorded)
    click.echo(f"Recorded {count} {'finding' if count == 1 else 'findings'} in {file}.", err=True)
    outside = sum(1 for entry in recorded if not entry.portable)
    if outside:
        click.echo(
            f"fastapi-lint: warning: {outside} {'finding lies' if outside == 1 else 'findings lie'}"
            f" outside {file.parent}, so their paths are absolute: keep the baseline at the root"
            " of the project to share it.",
            err=True,
        )
    left_out = sum(1 for d in run.diagnostics if d.code in UNBASELINABLE)
    if left_out:
        click.echo(
            f"Not recorded: {left_out} invalid-syntax or unreadable-file "
            f"{'finding' if left_out == 1 else 'findings'} (they cannot be baselined).",
            err=True,
        )
    return EXIT_OK


def _print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        click.echo(f"fastapi-lint: warning: {warning}", err=True)


def _report_problems(run: RunResult, settings: Settings, timings: bool) -> None:
    """On stderr: internal errors, warnings, and the `--timings` table when asked."""
    for error in run.internal_errors:
        click.echo(f"fastapi-lint: error: {error}", err=True)
    _print_warnings(run.warnings)
    if timings:
        table = render_timings(
            run.timings,
            [(rule.code, rule.name) for rule in settings.rules],
            files=run.files_checked,
            prefiltered=run.prefiltered,
            cache_hits=run.cache_hits,
            workers=run.workers,
            seconds=run.seconds,
            screened=run.screened,
        )
        click.echo(table, err=True, nl=False)


def _routes_note(run: RunResult) -> str:
    """`Checked 212 routes in 3 apps.`: a project where nothing was recognised shows."""
    routes = f"{run.routes_checked} {'route' if run.routes_checked == 1 else 'routes'}"
    return f"Checked {routes} in {run.apps_checked} {'app' if run.apps_checked == 1 else 'apps'}."


def _baseline_note(run: RunResult, file: Path) -> str:
    baselined, stale = run.baselined, run.stale_baseline_entries
    return (
        f"{baselined} {'finding' if baselined == 1 else 'findings'} baselined, "
        f"{stale} stale baseline {'entry' if stale == 1 else 'entries'} ({file})."
    )


def _output_format(flag: str | None, settings: Settings, output_file: Path | None) -> str:
    """The flag (or FASTAPI_LINT_OUTPUT_FORMAT), else the configured `output-format`, else
    `full` when printing to a terminal and `concise` otherwise (pipes, files, CI logs)."""
    if flag is not None:
        return flag
    if settings.output_format is not None:
        return settings.output_format
    terminal = output_file is None and sys.stdout is not None and sys.stdout.isatty()
    return "full" if terminal else "concise"


def _render(
    run: RunResult,
    settings: Settings,
    output_format: str,
    quiet: bool,
    statistics: bool,
    unsafe: bool,
    fixing: bool,
) -> str:
    if statistics:
        return render_statistics(run.diagnostics, unsafe_fixes=unsafe)
    return render(
        output_format,
        run.diagnostics,
        root=settings.root,
        rules=settings.rules,
        quiet=quiet,
        unsafe_fixes=unsafe,
        fixed=run.fixed_count if fixing else None,
    )


def _write(report: str, output_file: Path | None, err: bool = False) -> None:
    """The report on stdout (stderr with `err`), or in `output_file` (creating its
    directory), as ruff's `-o`."""
    if output_file is None:
        click.echo(report, nl=False, err=err)
        return
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(report, encoding="utf-8", newline="")
    except OSError as error:
        raise ConfigError(f"cannot write {output_file}: {error.strerror or error}") from None


def _report_diff(run: RunResult, unsafe: bool) -> int:
    """`--diff`: the diffs on stdout, a count on stderr; exit 1 when anything would change."""
    for patch in run.diffs:
        click.echo(patch, nl=False)
    if run.fixed_count:
        errors = "error" if run.fixed_count == 1 else "errors"
        click.echo(f"Would fix {run.fixed_count} {errors}.", err=True)
    else:
        note = hidden_fixes_note(run.diagnostics, unsafe)
        click.echo(f"No errors would be fixed{note}.", err=True)
    if run.internal_errors:
        return EXIT_ERROR
    return EXIT_VIOLATIONS if run.diffs else EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--output-format", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A pyproject.toml (its [tool.fastapi-lint] table) or a TOML file of settings.",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the index cache.")
def routes(
    paths: tuple[str, ...], output_format: str, config_file: Path | None, no_cache: bool
) -> int:
    """Print every route of every app found under PATHS (default: the current directory):
    methods, full path, endpoint, status code, response model, file:line, in the schema.
    To lint a directory named `routes`, write `fastapi-lint check routes` or
    `fastapi-lint ./routes`."""
    settings = load_settings(config_file, paths=paths or ["."])
    cache = None if no_cache else settings.effective_cache_dir
    table = route_table(paths or ["."], settings, cache_dir=cache)
    if output_format == "json":
        click.echo(json.dumps([row.as_json(settings.root) for row in table], indent=2))
    else:
        click.echo(render_routes(table, settings.root), nl=False)
    return EXIT_OK


@cli.command()
def server() -> int:
    """Run the language server (LSP over stdin and stdout) for editors. Needs the `server`
    extra: pip install 'fastapi-lint[server]'."""
    from fastapi_lint.server import serve  # pygls is imported only here

    return serve()


@cli.command()
@click.argument("code")
def rule(code: str) -> int:
    """Print the documentation page of the rule CODE (e.g. FAPI201)."""
    found = RULES_BY_CODE.get(code.upper())
    if found is None:
        raise ConfigError(f"unknown rule code `{code}`")
    click.echo(render_page(found), nl=False)
    return EXIT_OK


@cli.command()
@click.option(
    "--output-format", type=click.Choice(("text", "json")), default="text", show_default=True
)
def rules(output_format: str) -> int:
    """List every rule: code, name, enabled by default, preview, fix and its safety."""
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "default": r.default_enabled,
            "preview": r.preview,
            "fixable": r.fixable,
            "fix_safety": r.fix_safety,
            "summary": r.summary(),
        }
        for r in ALL_RULES
    ]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return EXIT_OK
    click.echo(f"{'code':<8} {'name':<34} {'default':<8} {'preview':<8} {'fix':<10} summary")
    for row in rows:
        default = "on" if row["default"] else "off"
        preview = "yes" if row["preview"] else "no"
        fix = row["fix_safety"] or "no"
        click.echo(
            f"{row['code']:<8} {row['name']:<34} {default:<8} {preview:<8} {fix:<10} "
            f"{row['summary']}"
        )
    return EXIT_OK


@cli.command("config")
@click.option("--select", multiple=True, help="As for `check`.")
@click.option("--ignore", multiple=True, help="As for `check`.")
@click.option("--extend-select", multiple=True, help="As for `check`.")
@click.option("--fix/--no-fix", default=None, help="As for `check`.")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="As for `check`.")
@click.option("--force-exclude/--no-force-exclude", default=None, help="As for `check`.")
@click.option("--preview/--no-preview", default=None, help="As for `check`.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="As for `check`.",
)
@click.option(
    "--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def config_command(
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    fix: bool | None,
    unsafe_fixes: bool | None,
    force_exclude: bool | None,
    preview: bool | None,
    config_file: Path | None,
    output_format: str,
) -> int:
    """Print the effective configuration, and where each value comes from: the default,
    the configuration file, or the command line."""
    cli_layer = Selection(
        select=_selectors(select, "--select") or None,
        ignore=_selectors(ignore, "--ignore"),
        extend_select=_selectors(extend_select, "--extend-select"),
    )
    settings = apply_overrides(
        load_settings(config_file, cli_layer, preview=preview),
        fix=fix,
        unsafe_fixes=unsafe_fixes,
        force_exclude=force_exclude,
    )
    _print_warnings(settings.warnings)
    described = describe_settings(settings)
    if output_format == "json":
        click.echo(json.dumps(described, indent=2))
    else:
        click.echo(_render_config(described), nl=False)
    return EXIT_OK


def _render_config(described: dict) -> str:
    """TOML-like lines, `key = value  # source`, then one table per rule."""
    lines = []
    for key, item in described.items():
        if key == "rules":
            continue
        source = item["source"]
        if key == "config-file" and source == "default":
            source += " (the nearest pyproject.toml with [tool.fastapi-lint])"
        lines.append(f"{key} = {_toml_value(item['value'])}  # {source}")
    for code, rule in described["rules"].items():
        state = "enabled" if rule["enabled"]["value"] else "disabled"
        lines += ["", f"[rules.{code}]  # {state}: {rule['enabled']['source']}"]
        for name, item in rule["options"].items():
            lines.append(f"{name} = {_toml_value(item['value'])}  # {item['source']}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(key)} = {_toml_value(item)}" for key, item in value.items())
        return "{ " + ", ".join(pairs) + " }" if value else "{}"
    return json.dumps(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fastapi-lint` script and of `python -m fastapi_lint`. As a
    script (no `argv`), it ends the process itself once the output is flushed: freeing the
    project index object by object at exit took half a second on a large project (not
    under a profiler or a tracer, which write their report at exit)."""
    code = _main(argv)
    if argv is None and sys.getprofile() is None and sys.gettrace() is None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(ValueError, OSError):  # the server closes stdout at exit
                stream.flush()
        os._exit(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        code = cli.main(args=argv, prog_name="fastapi-lint", standalone_mode=False)
    except click.ClickException as error:  # bad flags or arguments
        error.show()
        return EXIT_ERROR
    except click.Abort:
        return EXIT_ERROR
    return code if isinstance(code, int) else EXIT_OK
