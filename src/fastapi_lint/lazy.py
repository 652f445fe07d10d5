"""LibCST, imported on first use.

`import libcst` takes about 0.4 s: more than a whole run answered from the cache. The modules
the command line imports before it knows whether any file needs a parse (the rules, the
semantic model, fixes as data) take LibCST from here::

    from fastapi_lint.lazy import libcst as cst

It is LibCST's own module object, in `sys.modules`, whose code runs at the first attribute
access (the standard library's `importlib.util.LazyLoader`): `isinstance(node, cst.Call)`
works as usual, and a module that imports libcst eagerly gets the same object. Code that runs
at import time must not touch `cst.` (no `class X(cst.CSTVisitor)` at module level). Type
checkers see a plain import.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING


def lazy_import(name: str) -> ModuleType:
    """The module `name`, as imported already, else loaded at its first attribute access."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    # What the import system leaves on the spec of a module it has loaded. Without it, every
    # later `import libcst` (LibCST's parser runs some per call) takes the slow path of a
    # module still being imported: parsing was 10-25% slower.
    spec._initializing = False  # type: ignore[attr-defined]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import libcst as libcst
else:
    libcst = lazy_import("libcst")
