"""Given the source text, `node_ranges` replays only the top-level statements that hold the
nodes, each located by finding its code in the text. Its ranges are those of the replay of the
whole module, for every node, alone or all together, whatever the search finds: repeated
statements, short prefixes, CRLF line endings (which fall back to the whole replay)."""

from __future__ import annotations

import libcst as cst
import pytest

from fastapi_lint.positions import node_ranges
from fastapi_lint.semantic import children

from .conftest import FIXTURES

REPEATED = """\
import x

def handler():
    return x.get("/a")

def handler():
    return x.get("/a")
"""
SHORT_PREFIXES = """\
x = 1
x = 2
y = x
if x:
    x = 3
x
"""


def _nodes(module: cst.Module) -> list[cst.CSTNode]:
    found, stack = [], [module]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children(node))
    return found


def _check(text: str, every: int = 1) -> int:
    """Compares the ranges of all nodes together, and of every `every`th node alone, with the
    text and without it; returns how many nodes it compared."""
    module = cst.parse_module(text)
    nodes = _nodes(module)
    replayed = node_ranges(module, nodes)
    assert len(replayed) == len(nodes)
    assert node_ranges(module, nodes, text) == replayed
    for node in nodes[::every]:
        alone = node_ranges(module, [node], text)
        assert alone == {node: replayed[node]}, (type(node).__name__, module.code_for_node(node))
    return len(nodes)


@pytest.mark.parametrize(
    "text",
    [REPEATED, SHORT_PREFIXES, REPEATED.replace("\n", "\r\n"), "# header\n\n" + REPEATED, "x"],
    ids=["repeated-statements", "short-prefixes", "crlf", "header", "no-newline"],
)
def test_ranges_by_statement_equal_the_whole_replay(text):
    assert _check(text)


def test_ranges_by_statement_equal_the_whole_replay_on_every_fixture():
    compared = sum(
        _check(path.read_text("utf-8"), every=60) for path in sorted(FIXTURES.glob("*.py"))
    )
    assert compared > 10_000
