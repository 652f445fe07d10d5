"""The JSON `fix` edits, made from the positions of the replaced nodes (`fastapi_lint.
fix_edits`), equal those of the reference: applying the fix alone to the tree (a transform of
the whole tree, and LibCST's AddImportsVisitor for the imports it requires) and diffing the
texts. And `add_imports`, which replaced AddImportsVisitor, adds what it adds.

Compared on every fix of every fixture and of the examples, with every rule enabled (preview
ones too) and the fixture's `# option:` lines; the fixtures of fixes (those with a `.fixed.py`)
also with CRLF line endings and without their final line break.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem

from fastapi_lint.api import build_project
from fastapi_lint.config import load_settings
from fastapi_lint.diagnostics import Applicability
from fastapi_lint.engine import Engine, FileResult
from fastapi_lint.fix_edits import FixEdits
from fastapi_lint.fixes import (
    Fix,
    RequiredImport,
    add_imports,
    apply_fixes,
    replace_nodes,
    text_edits,
)
from fastapi_lint.positions import node_ranges
from fastapi_lint.rules import ALL_RULES

from .conftest import FIXTURES

ROOT = Path(__file__).parents[1]
_OPTION = re.compile(r"^#\s*option:\s*(?P<toml>.+)$", re.MULTILINE)
GROUPS = [
    *sorted(p for p in FIXTURES.iterdir() if p.is_dir() or p.suffix == ".py"),
    ROOT / "examples",
]
VARIANTS = {
    "lf": lambda text: text,
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "no-final-newline": lambda text: text.rstrip("\n"),
}


def reference(module: cst.Module, fix: Fix) -> str:
    """The former way: apply the fix alone to the whole tree, then LibCST's AddImportsVisitor
    for the imports it requires."""
    fixed = replace_nodes(module, fix.replacements)
    if fix.imports:
        items = [ImportItem(i.module, i.obj) for i in dict.fromkeys(fix.imports)]
        fixed = AddImportsVisitor(CodemodContext(), items).transform_module(fixed)
    return fixed.code


def _engine(group: Path, tmp_path: Path) -> tuple[Engine, list[Path]]:
    """An engine with every rule, over a copy of the group as a project of its own."""
    work = tmp_path / group.name
    if group.is_dir():
        shutil.copytree(group, work)
    else:
        work.mkdir(parents=True)
        shutil.copy(group, work / group.name)
    files = sorted(work.rglob("*.py"))
    options = "\n".join(_OPTION.findall(files[0].read_text()))
    rules = f"[tool.fastapi-lint.rules.{group.name[:7]}]\n{options}\n" if options else ""
    config = work / "pyproject.toml"
    config.write_text(f'[tool.fastapi-lint]\nselect = ["ALL"]\npreview = true\n{rules}')
    settings = load_settings(config, cwd=work)
    project = build_project(files, settings, None)
    return Engine(settings.rules, project, settings.ignored_codes), files


def _variants(group: Path) -> tuple[str, ...]:
    """Every variant for the fixtures of fixes; the text as written for the others (the
    reference costs a transform of the whole tree per fix)."""
    fix_fixture = group.with_name(group.name.removesuffix(".py") + ".fixed.py").exists()
    return tuple(VARIANTS) if fix_fixture else ("lf",)


def _checked(
    group: Path, tmp_path: Path, variants: tuple[str, ...]
) -> Iterator[tuple[str, FileResult, list[Fix]]]:
    engine, files = _engine(group, tmp_path)
    for path in files:
        for variant in variants:
            result = engine.check_text(VARIANTS[variant](path.read_text()), path)
            fixes = [d.fix for d in result.diagnostics if isinstance(d.fix, Fix)]
            if fixes:
                yield f"{path.name} ({variant})", result, fixes


@pytest.mark.parametrize("group", GROUPS, ids=lambda path: path.name)
def test_fix_edits_from_node_ranges_equal_the_whole_tree_transform(group, tmp_path):
    for name, result, fixes in _checked(group, tmp_path, _variants(group)):
        assert result.module is not None and result.text is not None
        edits = FixEdits(result.module, result.text, fixes)
        for fix in fixes:
            expected = reference(result.module, fix)
            assert edits.fixed_text(fix) == expected, f"{name}: {fix.title}"
            assert result.fix_edits(fix) == text_edits(result.text, expected), name


def test_the_comparison_covers_every_fixable_rule_and_the_imports_fixes_add(tmp_path):
    fixes: Counter[str] = Counter()
    with_imports = 0
    for group in GROUPS:
        for _, result, found in _checked(group, tmp_path / group.name, ("lf",)):
            fixes.update(d.code for d in result.diagnostics if isinstance(d.fix, Fix))
            with_imports += sum(bool(fix.imports) for fix in found)
    assert set(fixes) >= {rule.code for rule in ALL_RULES if rule.fixable}
    assert sum(fixes.values()) >= 250
    assert with_imports >= 20


# --- cases no fixture has: what a tree transform does around the replaced nodes -------------


def _nodes(module: cst.Module, kind: type, code: str | None = None) -> list[cst.CSTNode]:
    found = []

    def walk(node: cst.CSTNode) -> None:
        if isinstance(node, kind) and (code is None or module.code_for_node(node) == code):
            found.append(node)
        for child in node.children:
            walk(child)

    walk(module)
    return found


def _line(module: cst.Module, code: str) -> cst.CSTNode:
    [line] = _nodes(module, cst.SimpleStatementLine, code)
    return line


def _statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


REMOVE = cst.RemovalSentinel.REMOVE
# name: (source, replacements made from the module, required imports)
CASES = {
    "removal-empties-a-block": (
        "def f():\n    x = 1\n",
        lambda m: {_line(m, "x = 1\n"): REMOVE},
        (),
    ),
    "removal-in-a-block": (
        "def f():\n    a = 1\n    b = 2\n",
        lambda m: {_line(m, "a = 1\n"): REMOVE},
        (),
    ),
    "removal-at-top-level": ("x = 1\ny = 2\n", lambda m: {_line(m, "x = 1\n"): REMOVE}, ()),
    "removal-of-the-last-line-without-line-break": (
        "x = 1\ny = 2",
        lambda m: {_line(m, "y = 2\n"): REMOVE},
        (),
    ),
    "argument-whose-comma-the-call-adds": (
        "f(a, b, c)\n",
        lambda m: {_nodes(m, cst.Arg, "a, ")[0]: cst.Arg(cst.Name("z"))},
        (),
    ),
    "removed-last-argument": ("f(a, b)\n", lambda m: {_nodes(m, cst.Arg, "b")[0]: REMOVE}, ()),
    "elif": (
        "if a:\n    pass\nelif b:\n    pass\n",
        lambda m: {
            _nodes(m, cst.If)[1]: _statement("if c:\n    x = 1\n"),
        },
        (),
    ),
    "statement-before-a-semicolon": (
        "def f():\n    return g(1); y = 2\n",
        lambda m: {_nodes(m, cst.Return)[0]: cst.Raise(cst.parse_expression("g(1)"))},
        (),
    ),
    "small-statement-removed-from-a-line": (
        "x = 1; y = 2\n",
        lambda m: {_nodes(m, cst.Assign)[1]: REMOVE},
        (),
    ),
    "only-small-statement-removed": (
        "def f():\n    x = 1\n    y = 2\n",
        lambda m: {_nodes(m, cst.Assign)[0]: REMOVE},
        (),
    ),
    "tab-indentation": (
        "def f():\n\tif x:\n\t\treturn 1\n",
        lambda m: {_nodes(m, cst.Return)[0]: cst.Raise(cst.Name("E"))},
        (),
    ),
    "decorator-removed": (
        "@a\n@b\ndef f():\n    pass\n",
        lambda m: {_nodes(m, cst.Decorator)[0]: REMOVE},
        (),
    ),
    "comment-line-removed": (
        "def f():\n    # c\n    x = 1\n",
        lambda m: {_nodes(m, cst.EmptyLine)[0]: REMOVE},
        (),
    ),
    "statement-flattened": (
        "x = 1\ny = 2\n",
        lambda m: {
            _line(m, "x = 1\n"): cst.FlattenSentinel([_statement("a = 1\n"), _statement("b = 2\n")])
        },
        (),
    ),
    "import-after-a-docstring": (
        '"""Doc."""\nimport os\n\nx = 1\n',
        lambda m: {_nodes(m, cst.Name, "x")[0]: cst.Name("y")},
        (RequiredImport("asyncio"),),
    ),
    "import-into-a-file-of-imports": (
        "import os\nimport sys",
        lambda m: {_nodes(m, cst.Name, "sys")[0]: cst.Name("re")},
        (RequiredImport("json"),),
    ),
    "import-after-a-header-comment": (
        "# header\n\nimport os\nx = 1\n",
        lambda m: {_nodes(m, cst.Name, "x")[0]: cst.Name("y")},
        (RequiredImport("asyncio"),),
    ),
    "import-before-a-commented-statement": (
        "import os\n# lead\nx = 1\n",
        lambda m: {_nodes(m, cst.Name, "x")[0]: cst.Name("y")},
        (RequiredImport("asyncio"),),
    ),
    "import-merged-into-an-import-from": (
        "from pydantic import BaseModel\n\n\nclass A(BaseModel):\n    x: int = 1\n",
        lambda m: {_nodes(m, cst.Integer)[0]: cst.Integer("2")},
        (RequiredImport("pydantic", "ConfigDict"),),
    ),
    "import-moved-by-the-fix-itself": (
        "from pydantic import BaseSettings, BaseModel\nx = 1\n",
        lambda m: {
            _nodes(m, cst.ImportFrom)[0]: _nodes(m, cst.ImportFrom)[0].with_changes(
                names=[cst.ImportAlias(cst.Name("BaseModel"))]
            )
        },
        (RequiredImport("pydantic_settings", "BaseSettings"),),
    ),
    "import-with-crlf": (
        "import os\r\n\r\nasync def f():\r\n    os.sleep(1)\r\n",
        lambda m: {_nodes(m, cst.Attribute)[0]: cst.parse_expression("asyncio.sleep")},
        (RequiredImport("asyncio"),),
    ),
    "import-into-a-statement-that-follows-the-imports": (
        "import os\nx = 1\n",
        lambda m: {_line(m, "x = 1\n"): _statement("# moved\ny = 2\n")},
        (RequiredImport("asyncio"),),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fix_edits_match_the_transform_around_the_replaced_nodes(case):
    source, make, imports = CASES[case]
    module = cst.parse_module(source)
    replacements = make(module)
    fix = Fix(case, Applicability.SAFE, replacements, imports)
    expected = reference(module, fix)
    assert expected != source
    assert apply_fixes(module, [fix], node_ranges(module, replacements)).module.code == expected
    assert FixEdits(module, source, [fix]).fixed_text(fix) == expected


# --- add_imports does what AddImportsVisitor does -------------------------------------------

MODULES = {
    "empty": "",
    "comment-only": "# nothing\n",
    "code-only": "x = 1\n",
    "docstring": '"""Doc."""\nx = 1\n',
    "docstring-then-imports": '"""Doc."""\n\nimport os\nfrom pydantic import BaseModel\n\nx = 1\n',
    "strict-flag": "__strict__ = True\nimport os\nx = 1\n",
    "concatenated-docstring": '"a" "b"\nimport os\nx = 1\n',
    "future": "from __future__ import annotations\n\nimport os\n",
    "present": "import asyncio\nimport json\nfrom pydantic import ConfigDict, TypeAdapter\nx = 1\n",
    "aliased": "import asyncio as aio\nfrom pydantic import ConfigDict as CD\nx = 1\n",
    "star": "from pydantic import *\nx = 1\n",
    "star-after-names": "from pydantic import BaseModel\nfrom pydantic import *\nx = 1\n",
    "two-froms": "from pydantic import BaseModel\nfrom pydantic import Field\nx = 1\n",
    "parenthesized": "from pydantic import (\n    BaseModel,\n    Field,\n)\nx = 1\n",
    "relative": "from . import pydantic\nfrom .pydantic import BaseModel\nx = 1\n",
    "dotted": "import os.path\nfrom pydantic.v1 import BaseModel\nx = 1\n",
    "imports-after-code": "x = 1\nimport json\n",
    "import-inside-code": "def f():\n    import asyncio\n    from pydantic import ConfigDict\n",
    "two-per-line": "import os; import json\nx = 1\n",
    "commented-first-statement": "import os\n# about x\nx = 1\n",
    "blank-before-first-statement": "import os\n\n\nx = 1\n",
    "imports-only": "import os\nfrom pydantic import BaseModel",
    "crlf": "import os\r\nfrom pydantic import BaseModel\r\nx = 1\r\n",
    "header-comment": "#!/usr/bin/env python\n# header\n\nimport os\nx = 1\n",
}
IMPORT_SETS = {
    "module": (RequiredImport("asyncio"),),
    "name": (RequiredImport("pydantic", "ConfigDict"),),
    "names-and-modules": (
        RequiredImport("pydantic", "TypeAdapter"),
        RequiredImport("json"),
        RequiredImport("pydantic", "ConfigDict"),
        RequiredImport("asyncio"),
        RequiredImport("pydantic_settings", "SettingsConfigDict"),
    ),
    "dotted": (RequiredImport("os.path"), RequiredImport("pydantic.v1", "Field")),
    "future": (RequiredImport("__future__", "annotations"), RequiredImport("json")),
}


@pytest.mark.parametrize("imports", sorted(IMPORT_SETS))
@pytest.mark.parametrize("source", sorted(MODULES))
def test_add_imports_adds_what_add_imports_visitor_adds(source, imports):
    module = cst.parse_module(MODULES[source])
    required = IMPORT_SETS[imports]
    items = [ImportItem(i.module, i.obj) for i in required]
    expected = AddImportsVisitor(CodemodContext(), items).transform_module(module).code
    assert add_imports(module, required).code == expected
