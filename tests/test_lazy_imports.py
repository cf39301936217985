"""Every lazy ``from xstyle... import`` inside a function names something that exists.

Plot methods import their displays only when called, so a wrong module name there escapes every
test that does not happen to call that one method.
"""

import ast
import importlib
from pathlib import Path

import pytest

import xstyle

PACKAGE = Path(xstyle.__file__).parent


def _lazy_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.level == 0
                    and (node.module or "").startswith("xstyle")
                ):
                    for alias in node.names:
                        yield pytest.param(
                            node.module, alias.name, id=f"{path.name}:{node.lineno}:{alias.name}"
                        )


@pytest.mark.parametrize(("module", "name"), list(_lazy_imports()))
def test_lazy_import_resolves(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module} has no {name}"
