"""The public API is documented where it is imported: every package `__init__` has a module docstring that
names every name it exports (each `from ... import X as X`) in an inline code span, grouped under headers,
and one ```python usage block (valid Python that imports the package). The blocks are executed under
`-m slow`: each compiles solvers or trains tiny networks, 5-12 s of CPU time even for the cheapest (`dphys`,
`dphys.mcmc`, `dphys.distributed`), over the 2 s budget of the default run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jax
import pytest

DPHYS = Path(__file__).resolve().parents[1] / "dphys"
PACKAGES = ["dphys"] + sorted(f"dphys.{p.parent.name}" for p in DPHYS.glob("*/__init__.py"))

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_SPAN = re.compile(r"`([^`\n]+)`")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _init(package: str) -> Path:
    parts = package.split(".")[1:]
    return DPHYS.joinpath(*parts, "__init__.py")


def _tree(package: str) -> ast.Module:
    return ast.parse(_init(package).read_text())


def _exports(tree: ast.Module) -> list[str]:
    """Every name the `__init__` binds with `import ... as name` (the re-export convention), and the
    names of its `__all__` (dphys.workflows defines its API in the `__init__` itself)."""
    names = [alias.asname for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
             for alias in node.names if alias.asname is not None]
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names += [ast.literal_eval(element) for element in node.value.elts]
    return names


def _docstring(package: str) -> str:
    doc = ast.get_docstring(_tree(package), clean=True)
    assert doc, f"{package}/__init__.py has no module docstring"
    return doc


def test_every_package_found():
    assert len(PACKAGES) >= 13 and "dphys.scattering" in PACKAGES and "dphys.workflows" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_lists_every_export(package):
    """Each exported name appears in an inline code span outside the usage block (the grouped list)."""
    doc = _docstring(package)
    listed = {word for span in _SPAN.findall(_BLOCK.sub("", doc)) for word in _WORD.findall(span)}
    exports = _exports(_tree(package))
    assert exports, f"{package} exports nothing"
    missing = [name for name in exports if name not in listed]
    assert not missing, f"{package}: exported but not listed in the docstring: {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_has_usage_block(package):
    blocks = _BLOCK.findall(_docstring(package))
    assert len(blocks) == 1, f"{package}: expected one ```python usage block, found {len(blocks)}"
    ast.parse(blocks[0])  # valid Python
    short = package.rpartition(".")[2]
    imports = (f"import {package}", f"from {package} import", f"from dphys import {short}")
    assert any(text in blocks[0] for text in imports), f"{package}: the usage block does not import it"


def _run_block(package: str) -> None:
    """Execute the usage block in a fresh namespace (it fails on any exception); restore float64 mode."""
    (block,) = _BLOCK.findall(_docstring(package))
    namespace: dict = {"__name__": f"usage_{package.replace('.', '_')}"}
    x64 = jax.config.jax_enable_x64
    try:
        exec(compile(block, f"<{package} usage block>", "exec"), namespace)
    finally:
        jax.config.update("jax_enable_x64", x64)


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_usage_block_runs(package):
    _run_block(package)
