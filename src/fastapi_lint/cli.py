"""The command line, in ruff's image. Click only: parse flags, call the api, set the exit code.

Exit codes: 0 no violations, 1 violations, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from fastapi_lint import __version__
from fastapi_lint.api import FixMode, RunResult, lint_paths
from fastapi_lint.config import ConfigError, Selection, expand_selector, load_settings
from fastapi_lint.docs import render_page
from fastapi_lint.report import (
    OUTPUT_FORMATS,
    hidden_fixes_note,
    render_fixed,
    render_json,
    render_statistics,
    render_text,
)
from fastapi_lint.rules import ALL_RULES, RULES_BY_CODE

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
    default="text",
    envvar="FASTAPI_LINT_OUTPUT_FORMAT",
    show_default=True,
    help="How to print violations.",
)
@click.option("--fix/--no-fix", default=None, help="Apply safe fixes (config: `fix`).")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply (or show as fixable) unsafe fixes (config: `unsafe-fixes`).",
)
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--fix-only", is_flag=True, help="Apply fixes without reporting what remains.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit with 1 when any fix was applied.")
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when violations are found.")
@click.option("-q", "--quiet", is_flag=True, help="Print violations only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of violations per rule.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A pyproject.toml (its [tool.fastapi-lint] table) or a TOML file of settings.",
)
def check(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    output_format: str,
    fix: bool | None,
    unsafe_fixes: bool | None,
    diff: bool,
    fix_only: bool,
    show_fixes: bool,
    exit_non_zero_on_fix: bool,
    exit_zero: bool,
    quiet: bool,
    statistics: bool,
    config_file: Path | None,
) -> int:
    """Lint PATHS (files or directories; default: the current directory)."""
    cli_layer = Selection(
        select=_selectors(select, "--select") or None,
        ignore=_selectors(ignore, "--ignore"),
        extend_select=_selectors(extend_select, "--extend-select"),
    )
    settings = load_settings(config_file, cli_layer)
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    fixing = diff or fix_only or (settings.fix if fix is None else fix)
    mode = FixMode(unsafe=unsafe, write=not diff) if fixing else None
    run = lint_paths(paths or ["."], settings, fix=mode, with_edits=output_format == "json")
    for error in run.internal_errors:
        click.echo(f"fastapi-lint: error: {error}", err=True)
    if diff:
        return _report_diff(run, unsafe)
    if not fix_only:
        click.echo(_render(run, output_format, quiet, statistics, unsafe, fixing), nl=False)
    elif not quiet:
        click.echo(f"Fixed {run.fixed_count} {'error' if run.fixed_count == 1 else 'errors'}.")
    if show_fixes and run.fixed:
        click.echo(render_fixed(run.fixed), nl=False)
    if run.internal_errors:
        return EXIT_ERROR
    if exit_non_zero_on_fix and run.fixed_count:
        return EXIT_VIOLATIONS
    if fix_only or exit_zero:
        return EXIT_OK
    return EXIT_VIOLATIONS if run.diagnostics else EXIT_OK


def _render(
    run: RunResult, output_format: str, quiet: bool, statistics: bool, unsafe: bool, fixing: bool
) -> str:
    if statistics:
        return render_statistics(run.diagnostics, unsafe_fixes=unsafe)
    if output_format == "json":
        return render_json(run.diagnostics)
    fixed = run.fixed_count if fixing else None
    return render_text(run.diagnostics, quiet=quiet, unsafe_fixes=unsafe, fixed=fixed)


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
    "--output-format", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True
)
def rules(output_format: str) -> int:
    """List every rule: code, name, enabled by default, fixable."""
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "default": r.default_enabled,
            "fixable": r.fixable,
            "summary": r.summary(),
        }
        for r in ALL_RULES
    ]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return EXIT_OK
    click.echo(f"{'code':<8} {'name':<34} {'default':<8} {'fixable':<8} summary")
    for row in rows:
        default = "on" if row["default"] else "off"
        fixable = "yes" if row["fixable"] else "no"
        click.echo(f"{row['code']:<8} {row['name']:<34} {default:<8} {fixable:<8} {row['summary']}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fastapi-lint` script and of `python -m fastapi_lint`."""
    try:
        code = cli.main(args=argv, prog_name="fastapi-lint", standalone_mode=False)
    except click.ClickException as error:  # bad flags or arguments
        error.show()
        return EXIT_ERROR
    except click.Abort:
        return EXIT_ERROR
    return code if isinstance(code, int) else EXIT_OK
