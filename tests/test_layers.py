"""Import direction: lower layers never import higher ones, and packages never import each other
in a cycle.

Every ``import`` / ``from ... import`` statement in ``xstyle/`` counts (module level, inside
functions, under ``if TYPE_CHECKING:``): a function-level import is still a dependency, only a
deferred one. Each module maps to a layer (low -> high):

0  private helpers (``_checks``, ``_limits``, ``_checkpoint_fields``, ``_stats``, ``_plotting``, any
   other ``_name``) and ``atomic``, ``safeload``, ``rng``
1  ``images``, ``data``
2  ``models`` (networks, generators and shipped models), ``hooks``, ``losses``
3  the cores: ``transfer``, ``transfer_plots``, ``gan``, ``stylizer``
4  ``explain``
5  ``batch`` (collections: runs the cores and explainers per item)
6  ``report``
7  ``cli``

``xstyle/__init__.py`` is the public façade and may import anything; it counts as layer 7, so only
``cli`` may import it (``from xstyle import __version__``). A module may import its own layer (except in a
cycle between packages) and any lower one. Inside ``explain/`` the modules' own import graph must
have no cycle either (imports under ``if TYPE_CHECKING:`` excluded there: they never run).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest

import xstyle

PACKAGE_ROOT = Path(xstyle.__file__).parent

#: top-level name (module or subpackage of xstyle) -> layer
LAYERS: dict[str, int] = {
    **dict.fromkeys(("atomic", "safeload", "rng"), 0),  # and every private "_name" (see layer_of)
    **dict.fromkeys(("images", "data"), 1),
    **dict.fromkeys(("models", "hooks", "losses"), 2),
    **dict.fromkeys(("transfer", "transfer_plots", "gan", "stylizer"), 3),
    "explain": 4,
    "batch": 5,
    "report": 6,
    "cli": 7,
}
LAYER_NAMES = {
    0: "helpers",
    1: "io",
    2: "nets+losses",
    3: "cores",
    4: "explain",
    5: "batch",
    6: "report",
    7: "cli",
}

#: subpackages whose own modules must not import each other in a cycle
ACYCLIC_PACKAGES = ("explain",)

#: groups inside a package and their order: a group may import a strictly lower one only (style and
#: latent both build on attribution, and never on each other); the package's __init__ is exempt
SUBLAYERS: dict[str, dict[str, int]] = {"explain": {"attribution": 0, "style": 1, "gan": 1}}

#: the layer of the façade ``xstyle/__init__.py`` when imported from inside the package
FACADE_LAYER = 7

#: (importer, imported, reason): module prefixes allowed to break the rules for now ("xstyle" alone:
#: the façade itself, not every module). test_allowed_exceptions_are_still_needed drops stale ones.
ALLOWED_EXCEPTIONS: list[tuple[str, str, str]] = [
    (
        "xstyle._runinfo",
        "xstyle",
        "versions() reads xstyle.__version__ at call time (the package is imported by then); a leaf "
        "xstyle/_version.py would remove this",
    ),
]


def layer_of(top: str) -> int | None:
    """The layer of a top-level name under xstyle (None: not mapped)."""
    if top in LAYERS:
        return LAYERS[top]
    if top.startswith("_") and top != "__init__":
        return 0
    return None


def module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of statements inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def collect_imports(root: Path, package: str) -> list[tuple[str, str, int, bool, str]]:
    """Every import of a ``package`` module found under ``root``: (importer, imported, line,
    type_checking_only, file). ``from pkg.sub import name`` counts as importing ``pkg.sub.name``
    when that is a module, else ``pkg.sub``."""
    modules = {module_name(p, root, package) for p in root.rglob("*.py")}
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        importer = module_name(path, root, package)
        is_pkg = path.name == "__init__.py"
        tc_lines = _type_checking_lines(tree)
        rel = str(path.relative_to(root.parent))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join([*base, node.module] if node.module else base)
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    found.append((importer, target, node.lineno, node.lineno in tc_lines, rel))
    return found


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _matches(module: str, prefix: str) -> bool:
    if "." not in prefix:  # the façade: that module only
        return module == prefix
    return module == prefix or module.startswith(prefix + ".")


def _allowed(importer: str, imported: str, exceptions=None) -> bool:
    exceptions = ALLOWED_EXCEPTIONS if exceptions is None else exceptions
    return any(_matches(importer, a) and _matches(imported, b) for a, b, _ in exceptions)


def _cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def find_violations(
    root: Path, package: str = "xstyle", acyclic: Iterable[str] = ACYCLIC_PACKAGES, exceptions=None
) -> list[str]:
    """Readable descriptions of every upward import and every cycle (empty: all is well)."""
    if exceptions is None:
        exceptions = ALLOWED_EXCEPTIONS if package == "xstyle" else []
    problems: list[str] = []
    package_edges: dict[tuple[str, str], str] = {}
    imports = collect_imports(root, package)
    for importer, imported, line, _, file in imports:
        src, dst = _top(importer), _top(imported)
        if src == "__init__":
            continue  # the public façade may import anything
        where = f"{file}:{line}: {importer} imports {imported}"
        ls, ld = layer_of(src), (FACADE_LAYER if dst == "__init__" else layer_of(dst))
        for name, layer in ((src, ls), (dst, ld)):
            if layer is None:
                problems.append(f"{where}: '{name}' has no layer; add it to LAYERS in tests/test_layers.py")
        if ls is None or ld is None or _allowed(importer, imported, exceptions):
            continue
        if ld > ls:
            problems.append(
                f"{where}: layer {ls} ({LAYER_NAMES.get(ls, ls)}) must not import "
                f"layer {ld} ({LAYER_NAMES.get(ld, ld)})"
            )
        if src != dst and dst != "__init__":
            package_edges.setdefault((src, dst), where)
    for comp in _cycles(package_edges):
        members = set(comp)
        via = sorted(w for (a, b), w in package_edges.items() if a in members and b in members)
        problems.append(f"cycle between packages {' <-> '.join(comp)}:\n    " + "\n    ".join(via))
    for sub, groups in (SUBLAYERS if package == "xstyle" else {}).items():
        prefix = f"{package}.{sub}."
        for importer, imported, line, _, file in imports:
            if not (importer.startswith(prefix) and imported.startswith(prefix)):
                continue
            gs, gd = importer[len(prefix) :].split(".")[0], imported[len(prefix) :].split(".")[0]
            if gs != gd and gs in groups and gd in groups and groups[gd] >= groups[gs]:
                problems.append(
                    f"{file}:{line}: {importer} imports {imported}: {sub}/{gs} may not import {sub}/{gd}"
                )
    for sub in acyclic:
        prefix = f"{package}.{sub}"
        edges = {}
        for importer, imported, line, type_only, file in imports:
            inside = importer.startswith(prefix + ".") and imported.startswith(prefix + ".")
            if inside and not type_only and importer != imported:
                edges.setdefault((importer, imported), f"{file}:{line}: {importer} imports {imported}")
        for comp in _cycles(edges):
            members = set(comp)
            via = sorted(w for (a, b), w in edges.items() if a in members and b in members)
            problems.append(f"cycle inside {prefix}: {' <-> '.join(comp)}:\n    " + "\n    ".join(via))
    return problems


def test_import_layers_and_cycles():
    problems = find_violations(PACKAGE_ROOT)
    assert not problems, f"{len(problems)} import-direction problem(s):\n" + "\n".join(problems)


def test_allowed_exceptions_are_still_needed():
    """An exception that no import uses any more should be removed."""
    imports = collect_imports(PACKAGE_ROOT, "xstyle")
    for a, b, reason in ALLOWED_EXCEPTIONS:
        used = any(_matches(i, a) and _matches(j, b) for i, j, *_ in imports)
        assert used, f"ALLOWED_EXCEPTIONS ({a} -> {b}: {reason}) is not needed any more; remove it"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "fake"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.parents:
            if parent == root.parent:
                break
            (parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(text))
    return root


def test_checker_accepts_downward_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "images.py": "from fake import _checks\n",
            "_checks.py": "",
            "explain/gram.py": "from fake.transfer import x\nfrom fake.explain import plots\n",
            "explain/plots.py": "def f():\n    from fake._checks import y\n",
            "transfer.py": "import fake.images\n",
            "report/builders.py": "from fake.explain.gram import g\n",
        },
    )
    assert find_violations(root, "fake") == []


def test_checker_flags_upward_import_even_inside_a_function(tmp_path):
    root = _tree(
        tmp_path,
        {
            "explain/gram.py": "def plot():\n    from fake.report import displays\n",
            "report/displays.py": "",
        },
    )
    (problem,) = find_violations(root, "fake")
    assert "explain/gram.py:2" in problem
    assert "layer 4 (explain) must not import layer 6 (report)" in problem


def test_checker_flags_relative_and_type_checking_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "losses.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .transfer import T\n",
            "transfer.py": "",
            "stylizer/train.py": "from ..cli import main\n",
            "cli.py": "",
        },
    )
    problems = find_violations(root, "fake")
    assert len(problems) == 2
    assert any("fake.losses imports fake.transfer" in p for p in problems)
    assert any("fake.stylizer.train imports fake.cli" in p for p in problems)


def test_checker_flags_import_of_the_facade_below_cli(tmp_path):
    root = _tree(tmp_path, {"cli.py": "from fake import __version__\n", "rng.py": "import fake\n"})
    (problem,) = find_violations(root, "fake")
    assert "fake.rng imports fake: layer 0 (helpers) must not import layer 7 (cli)" in problem


@pytest.mark.slow
def test_checker_flags_the_real_upward_import_named_in_the_brief(tmp_path):
    """A copy of the real tree plus ``from xstyle.report import ...`` in explain/style/gram.py fails."""
    import shutil

    root = tmp_path / "xstyle"
    shutil.copytree(PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("assets", "__pycache__"))
    gram = root / "explain" / "style" / "gram.py"
    gram.write_text(gram.read_text() + "\n\ndef _bad():\n    from xstyle.report import TransferLossDisplay\n")
    new = sorted(set(find_violations(root)) - set(find_violations(PACKAGE_ROOT)))
    assert len(new) == 2, new  # the upward import, and the explain <-> report cycle it makes
    assert (
        "xstyle.explain.style.gram imports xstyle.report: layer 4 (explain) must not import layer 6" in new[1]
    )
    assert new[0].startswith("cycle between packages explain <-> report")


def test_checker_flags_cycles_and_unmapped_modules(tmp_path):
    root = _tree(
        tmp_path,
        {
            "gan/train.py": "from fake.stylizer import model\n",
            "stylizer/model.py": "def f():\n    import fake.gan.train\n",
            "explain/gan.py": "def f():\n    from fake.explain.traversal import t\n",
            "explain/traversal.py": "from fake.explain.gan import g\n",
            "mystery.py": "from fake import images\n",
            "images.py": "",
        },
    )
    problems = find_violations(root, "fake")
    assert any(p.startswith("cycle between packages gan <-> stylizer") for p in problems)
    assert any(
        p.startswith("cycle inside fake.explain: fake.explain.gan <-> fake.explain.traversal")
        for p in problems
    )
    assert any("'mystery' has no layer" in p for p in problems)


def test_explain_groups_build_on_attribution_only(tmp_path):
    """explain/style and explain/gan may import explain/attribution, never each other; attribution
    imports neither."""
    import shutil

    root = tmp_path / "xstyle"
    shutil.copytree(PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("assets", "__pycache__"))
    for rel, line in [
        ("style/gram.py", "from xstyle.explain.gan.probes import ATTRIBUTES"),
        ("attribution/engine.py", "from xstyle.explain.style import gram"),
    ]:
        f = root / "explain" / rel
        f.write_text(f.read_text() + f"\n\ndef _bad():\n    {line}\n")
    new = sorted(set(find_violations(root)) - set(find_violations(PACKAGE_ROOT)))
    assert any("explain/style may not import explain/gan" in p for p in new), new
    assert any("explain/attribution may not import explain/style" in p for p in new), new
