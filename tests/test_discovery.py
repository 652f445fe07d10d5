from __future__ import annotations

import os
from pathlib import Path

import pytest

from fastapi_lint.discovery import DEFAULT_EXCLUDES, Discovery, discover_files


def touch(root: Path, *rel_paths: str) -> None:
    for rel in rel_paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def found(root: Path, *paths: str, **options: object) -> list[str]:
    """Discovered files as posix paths relative to ``root``."""
    given = [root / path for path in paths] if paths else [root]
    result = discover_files(given, root=root, **options)  # type: ignore[arg-type]
    return [file.relative_to(root).as_posix() for file in result.files]


# --- defaults and extensions ---------------------------------------------------------------------


def test_default_excludes_skip_tool_and_vcs_directories(tmp_path: Path) -> None:
    skipped = ["venv", ".venv", "node_modules", "build", "dist", "__pycache__", ".git"]
    touch(tmp_path, "app/main.py", *(f"{name}/mod.py" for name in skipped))
    touch(tmp_path, "app/venv/inner.py", "app/__pycache__/main.py")

    assert found(tmp_path) == ["app/main.py"]


def test_default_excludes_contains_ruff_defaults_and_own_cache() -> None:
    assert {".git", ".venv", "__pycache__", "node_modules", "build", "dist"} <= set(
        DEFAULT_EXCLUDES
    )
    assert ".fastapi_lint_cache" in DEFAULT_EXCLUDES


def test_stub_files_are_included_and_other_extensions_ignored(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "b.pyi", "c.txt", "d.pyc", "e.pyx", "f.py.bak", "py")

    assert found(tmp_path) == ["a.py", "b.pyi"]


def test_returns_discovery_with_paths(tmp_path: Path) -> None:
    touch(tmp_path, "a.py")

    result = discover_files([tmp_path], root=tmp_path)

    assert result == Discovery(files=[tmp_path / "a.py"], missing=[])


# --- explicit paths ------------------------------------------------------------------------------


def test_explicit_file_and_dir_excluded_by_default_are_linted(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py", "dist/pkg/mod.py", "dist/pkg/__pycache__/mod.py")

    assert found(tmp_path, "build/gen.py", "dist") == ["build/gen.py", "dist/pkg/mod.py"]


def test_explicit_file_is_returned_whatever_its_extension(tmp_path: Path) -> None:
    touch(tmp_path, "script")

    assert found(tmp_path, "script") == ["script"]


def test_explicit_gitignored_file_is_linted(tmp_path: Path) -> None:
    touch(tmp_path, "generated.py")
    write(tmp_path / ".gitignore", "generated.py\n")

    assert found(tmp_path) == []
    assert found(tmp_path, "generated.py") == ["generated.py"]


def test_user_exclude_beats_explicit_file(tmp_path: Path) -> None:
    touch(tmp_path, "legacy_api.py", "api.py")

    assert found(tmp_path, "legacy_api.py", "api.py", extend_exclude=["legacy_*.py"]) == ["api.py"]
    assert found(tmp_path, "legacy_api.py", exclude=["legacy_api.py"]) == []


def test_user_excluded_directory_excludes_explicit_file_inside(tmp_path: Path) -> None:
    touch(tmp_path, "tests/fixtures/bad.py")

    assert found(tmp_path, "tests/fixtures/bad.py", extend_exclude=["tests/fixtures"]) == []


def test_user_exclude_beats_explicit_directory(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py")

    assert found(tmp_path, "build", exclude=["build"]) == []


def test_missing_path_is_reported(tmp_path: Path) -> None:
    touch(tmp_path, "a.py")

    result = discover_files([tmp_path / "a.py", tmp_path / "nope.py"], root=tmp_path)

    assert result.files == [tmp_path / "a.py"]
    assert result.missing == [tmp_path / "nope.py"]


def test_results_sorted_and_deduplicated(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/b.py", "pkg/a.py", "z.py")

    result = discover_files(
        [tmp_path / "z.py", tmp_path / "pkg", tmp_path / "pkg" / "a.py", tmp_path],
        root=tmp_path,
    )

    assert result.files == [tmp_path / "pkg/a.py", tmp_path / "pkg/b.py", tmp_path / "z.py"]


def test_relative_paths_are_kept_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "src/pkg/mod.py", "main.py")
    monkeypatch.chdir(tmp_path)

    result = discover_files(["src", "./main.py"], root=Path("."))

    assert result.files == [Path("main.py"), Path("src/pkg/mod.py")]


def test_same_file_keeps_the_path_it_was_first_reached_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path, "main.py")
    monkeypatch.chdir(tmp_path)

    result = discover_files(["main.py", tmp_path], root=tmp_path)

    assert result.files == [Path("main.py")]


def test_symlinked_directory_is_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "real/mod.py")
    try:
        os.symlink(tmp_path / "real", tmp_path / "link", target_is_directory=True)
    except OSError:
        pytest.skip("symlinks unsupported")

    assert found(tmp_path) == ["real/mod.py"]


def test_path_outside_root_is_matched_by_basename_only(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "other"
    touch(outside, "tests/fixtures/a.py", "skip_me.py")
    root.mkdir()

    result = discover_files([outside], root=root, extend_exclude=["tests/fixtures", "skip_me.py"])

    assert result.files == [outside / "tests/fixtures/a.py"]


# --- exclude patterns ----------------------------------------------------------------------------


def test_extend_exclude_keeps_defaults(tmp_path: Path) -> None:
    touch(tmp_path, "venv/a.py", "gen/b.py", "app.py")

    assert found(tmp_path, extend_exclude=["gen"]) == ["app.py"]


def test_exclude_replaces_defaults(tmp_path: Path) -> None:
    touch(tmp_path, "venv/a.py", "gen/b.py", "app.py")

    assert found(tmp_path, exclude=["gen"]) == ["app.py", "venv/a.py"]


@pytest.mark.parametrize(
    "pattern",
    ["tests/fixtures", "tests/fixtures/", "./tests/fixtures", "tests/fixtures/*", "fixtures"],
)
def test_exclude_pattern_matches_relative_path_or_basename(tmp_path: Path, pattern: str) -> None:
    touch(tmp_path, "tests/fixtures/bad.py", "tests/test_ok.py")

    assert found(tmp_path, extend_exclude=[pattern]) == ["tests/test_ok.py"]


def test_exclude_pattern_anchored_to_root(tmp_path: Path) -> None:
    touch(tmp_path, "tests/fixtures/bad.py", "pkg/tests/fixtures/kept.py")

    assert found(tmp_path, extend_exclude=["tests/fixtures"]) == ["pkg/tests/fixtures/kept.py"]


def test_double_star_exclude_matches_at_any_depth(tmp_path: Path) -> None:
    touch(tmp_path, "generated/a.py", "pkg/generated/b.py", "pkg/sub/generated/c.py", "ok.py")

    assert found(tmp_path, extend_exclude=["**/generated/**"]) == ["ok.py"]


@pytest.mark.parametrize("pattern", ["pkg/generated", "pkg/generated/*", "**/generated/**"])
def test_excluded_directory_is_not_descended_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str
) -> None:
    touch(tmp_path, "pkg/generated/deep/a.py", "pkg/ok.py", "node_modules/x/b.py")
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: str) -> object:
        scanned.append(Path(path).relative_to(tmp_path).as_posix())
        return real_scandir(path)

    monkeypatch.setattr("fastapi_lint.discovery.os.scandir", recording_scandir)

    assert found(tmp_path, extend_exclude=[pattern]) == ["pkg/ok.py"]
    assert sorted(scanned) == [".", "pkg"]


def test_absolute_exclude_pattern_under_root(tmp_path: Path) -> None:
    touch(tmp_path, "gen/a.py", "ok.py")

    assert found(tmp_path, extend_exclude=[str(tmp_path / "gen")]) == ["ok.py"]


# --- gitignore -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gitignore", "ignored", "kept"),
    [
        pytest.param("secret.py\n", ["secret.py", "a/secret.py"], ["other.py"], id="plain-name"),
        pytest.param("*.pyi\n", ["a.pyi", "d/b.pyi"], ["a.py"], id="star"),
        pytest.param("gen/\n", ["gen/a.py", "x/gen/b.py"], ["gen.py"], id="dir-only"),
        pytest.param("m.py/\n", ["m.py/a.py"], ["x/m.py"], id="dir-only-spares-files"),
        pytest.param("/top.py\n", ["top.py"], ["sub/top.py"], id="leading-slash-anchors"),
        pytest.param("a/b.py\n", ["a/b.py"], ["x/a/b.py"], id="middle-slash-anchors"),
        pytest.param(
            "**/cache\n",
            ["cache/a.py", "x/y/cache/b.py"],
            ["cache.py", "mycache/c.py"],
            id="lead-**",
        ),
        pytest.param("out/**\n", ["out/a.py", "out/x/b.py"], ["o/out.py"], id="trailing-**"),
        pytest.param(
            "a/**/z.py\n", ["a/z.py", "a/b/c/z.py"], ["b/z.py", "a/xz.py"], id="middle-**"
        ),
        pytest.param("*.py\n!keep.py\n", ["drop.py"], ["keep.py", "d/keep.py"], id="negation"),
        pytest.param("!keep.py\n*.py\n", ["keep.py"], [], id="later-rule-wins"),
        pytest.param("# a.py\na.py\n", ["a.py"], ["# a.py", "b.py"], id="comment"),
        pytest.param("\n\n  \nb.py\n", ["b.py"], ["a.py"], id="blank-lines"),
        pytest.param("\\#x.py\n", ["#x.py"], ["x.py"], id="escaped-hash"),
        pytest.param("\\!x.py\n", ["!x.py"], ["x.py"], id="escaped-bang"),
        pytest.param("a.py   \n", ["a.py"], [], id="trailing-spaces-trimmed"),
        pytest.param("d\\ \n", ["d /a.py"], ["d/a.py"], id="escaped-trailing-space"),
        pytest.param("m?.py\n", ["m1.py"], ["m12.py", "m/.py"], id="question-mark"),
        pytest.param("m[0-4].py\n", ["m3.py"], ["m7.py"], id="char-class"),
        pytest.param("m[!0-4].py\n", ["m7.py"], ["m3.py"], id="negated-char-class"),
        pytest.param("a*.py\n", ["ab.py"], ["a/b.py"], id="star-does-not-cross-slash"),
        pytest.param("/*\n!/src/\n", ["top.py", "lib/a.py"], ["src/a.py"], id="whitelist"),
        pytest.param("pkg\n!pkg/keep.py\n", ["pkg/keep.py"], [], id="no-reinclude-in-ignored"),
        pytest.param("m[z-a].py\nx.py\n", ["x.py"], ["m[z-a].py"], id="invalid-rule-skipped"),
    ],
)
def test_gitignore_semantics(
    tmp_path: Path, gitignore: str, ignored: list[str], kept: list[str]
) -> None:
    touch(tmp_path, *ignored, *kept)
    write(tmp_path / ".gitignore", gitignore)
    # Explicit paths would bypass gitignore, so discover by walking root.
    result = discover_files([tmp_path], root=tmp_path, exclude=[])
    rel = {file.relative_to(tmp_path).as_posix() for file in result.files}

    assert rel == {path for path in kept if path.endswith((".py", ".pyi"))}


def test_nested_gitignore_applies_to_its_subtree(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/local.py", "pkg/sub/local.py", "local.py", "pkg/top.py")
    write(tmp_path / "pkg/.gitignore", "local.py\n/top.py\n")

    assert found(tmp_path) == ["local.py"]


def test_nested_gitignore_negation_overrides_parent(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/gen_keep.py", "gen_x.py")
    write(tmp_path / ".gitignore", "gen_*.py\n")
    write(tmp_path / "pkg/.gitignore", "!gen_keep.py\n")

    assert found(tmp_path) == ["pkg/gen_keep.py"]


def test_explicit_subdirectory_inherits_parent_gitignore(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/sub/drop.py", "pkg/sub/keep.py")
    write(tmp_path / "pkg/.gitignore", "/sub/drop.py\n")

    assert found(tmp_path, "pkg/sub") == ["pkg/sub/keep.py"]


def test_root_gitignore_applies_to_explicit_subdirectory(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/sub/gen.py", "pkg/sub/keep.py")
    write(tmp_path / ".gitignore", "gen.py\n")

    assert found(tmp_path, "pkg/sub") == ["pkg/sub/keep.py"]


def test_git_info_exclude_is_honoured(tmp_path: Path) -> None:
    touch(tmp_path, "scratch.py", "app.py")
    write(tmp_path / ".git/info/exclude", "scratch.py\n")

    assert found(tmp_path) == ["app.py"]


def test_respect_gitignore_false_lints_ignored_files(tmp_path: Path) -> None:
    touch(tmp_path, "gen/a.py", "b.py")
    write(tmp_path / ".gitignore", "gen/\nb.py\n")
    write(tmp_path / ".git/info/exclude", "*.py\n")

    assert found(tmp_path) == []
    assert found(tmp_path, respect_gitignore=False) == ["b.py", "gen/a.py"]
