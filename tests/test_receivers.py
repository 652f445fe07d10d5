"""Receiver typing (`receivers.py`), through FAPI201: the forms that type a receiver, the
ones that must leave it unknown, and code that must not crash or hang the inference."""

from __future__ import annotations

import textwrap

import pytest

HEADER = """\
import httpx
from pathlib import Path
from typing import Optional, Union
"""


def _reported_lines(run_cli, tmp_path, body: str) -> list[int]:
    path = tmp_path / "app.py"
    path.write_text(HEADER + textwrap.dedent(body))
    config = tmp_path / "fastapi-lint.toml"  # every coroutine function, not only routes
    config.write_text('[rules.FAPI201]\nscope = "all"\nfile-io = true\n')
    args = ("--select", "FAPI201", "--config", str(config), "--output-format", "json")
    result = run_cli("check", *args, str(path))
    assert result.exit_code in (0, 1), result.stderr
    offset = HEADER.count("\n")
    return sorted(d["location"]["row"] - offset for d in result.diagnostics)


@pytest.mark.parametrize(
    "annotation",
    [
        "httpx.Client",
        '"httpx.Client"',
        "Optional[httpx.Client]",
        "Union[httpx.Client, None]",
        "None | httpx.Client",
        '"Optional[httpx.Client]"',
    ],
)
def test_annotations_that_type_a_parameter(run_cli, tmp_path, annotation):
    body = f"""\
        async def f(client: {annotation}):
            client.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == [2]


@pytest.mark.parametrize(
    "annotation",
    ["Union[httpx.Client, httpx.AsyncClient]", "list[httpx.Client]", '"not a type("', "object"],
)
def test_annotations_that_do_not(run_cli, tmp_path, annotation):
    body = f"""\
        async def f(client: {annotation}):
            client.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == []


def test_alias_of_a_class_and_of_an_annotated_type(run_cli, tmp_path):
    body = """\
        from typing import Annotated

        ClientDep = Annotated[httpx.Client, "meta"]
        Client = httpx.Client


        async def f(a: ClientDep, b: Client):
            a.get("/")
            b.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == [8, 9]


def test_class_attributes_and_annotated_self_attributes(run_cli, tmp_path):
    body = """\
        class Service:
            shared = httpx.Client()
            declared: httpx.Client

            def __init__(self):
                self.own: httpx.Client = make()

            async def run(self):
                self.shared.get("/")
                self.declared.get("/")
                self.own.get("/")

            @classmethod
            async def on_class(cls):
                cls.shared.get("/")
                cls.own.get("/")  # only set on instances
        """
    assert _reported_lines(run_cli, tmp_path, body) == [9, 10, 11, 15]


def test_self_attribute_unpacked_or_augmented_is_unknown(run_cli, tmp_path):
    body = """\
        class Service:
            def __init__(self, other):
                self.a = httpx.Client()
                self.a, self.b = other
                self.c = httpx.Client()
                self.c += other

            async def run(self):
                self.a.get("/")
                self.c.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == []


def test_self_reassigned_in_the_method_is_not_the_instance(run_cli, tmp_path):
    body = """\
        class Service:
            def __init__(self):
                self.client = httpx.Client()

            async def run(self):
                self = other()
                self.client.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == []


def test_path_derived_from_itself(run_cli, tmp_path):
    body = """\
        async def f(name: str):
            path = Path("/data")
            path = path / name
            path = path.with_suffix(".txt")
            path.read_text()
            text = path.read_text()
            text = text.strip()
            text.read_text()
        """
    assert _reported_lines(run_cli, tmp_path, body) == [5, 6]


def test_cycles_and_self_references_terminate(run_cli, tmp_path):
    body = """\
        a = b
        b = a
        c = c.d


        class Loop:
            def __init__(self):
                self.x = self.x
                self.y = self.z
                self.z = self.y


        def dep(x=Depends(dep)):
            yield x


        async def f(p=Depends(dep)):
            a.get("/")
            c.get("/")
            Loop().x.get("/")
            p.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == []


def test_deep_expressions_do_not_overflow(run_cli, tmp_path):
    divisions = " / ".join(['"x"'] * 600)
    attributes = ".".join(["a"] * 600)
    body = f"""\
        async def f():
            (Path("/") / {divisions}).read_text()
            {attributes}.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == []


def test_dependency_that_returns_instead_of_yielding(run_cli, tmp_path):
    body = """\
        from fastapi import Depends


        def get_client():
            return httpx.Client()


        def get_either(flag: bool):
            if flag:
                return httpx.Client()
            return httpx.AsyncClient()


        async def f(a=Depends(get_client), b=Depends(get_either)):
            a.get("/")
            b.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == [15]


def test_placeholder_none_does_not_hide_the_type(run_cli, tmp_path):
    body = """\
        client = None
        client = httpx.Client()


        async def f():
            client.get("/")
        """
    assert _reported_lines(run_cli, tmp_path, body) == [6]


def test_a_file_opened_elsewhere_is_reported_at_each_use(run_cli, tmp_path):
    body = """\
        LOG = open("app.log", "a")


        async def f(path: Path):
            LOG.write("x")
            with path.open() as handle:
                handle.read()
            path.open().read()
        """
    assert _reported_lines(run_cli, tmp_path, body) == [5, 6, 8]
