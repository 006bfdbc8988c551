"""The package's architecture, read from the source with `ast` (nothing is imported):

- layers point down only: a module of `dphys` imports only packages of a lower layer, its own, or
  one of the shared solvers listed in `SIDEWAYS`;
- nothing but the CLI imports a workflow (tests of workflows go through `dphys.workflows.get_workflow`);
- no module imports another module's private (underscore) names, and a private module
  (`dphys/x/_y.py`) is imported only inside its own package (`dphys/_checks.py`, `dphys/_io.py`:
  anywhere in dphys);
- the code is ruff-clean (E, F, I, UP: the configuration in pyproject.toml), and the low layers
  type-check with pyright (`[tool.pyright]` in pyproject.toml).

The layer order is DESIGN.md's; README.md ("Architecture") lists it with the sideways edges.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# lower number = lower layer (DESIGN.md: workflows -> generative -> domain packages -> mcmc, nn, sde,
# stats, train -> jax stack); a package may import packages of a strictly lower layer, and, within the
# domain layer, only the shared solvers listed in SIDEWAYS
LAYERS = {
    0: {"constants", "_checks", "_io", "_version"},
    1: {"stats", "report", "sde", "train", "nn", "mcmc"},
    2: {"diffusion", "scattering", "lattice", "autoregressive", "distributed", "femto", "halqcd", "superres"},
    3: {"generative"},
    4: {"workflows"},
    5: {"cli"},
    6: {"__main__"},
}
SIDEWAYS = {
    "femto": {"scattering"},  # the radial solver and potentials behind the Koonin-Pratt kernels
    "halqcd": {"scattering"},  # phase shifts and bound states of the extracted potentials
    "superres": {"diffusion", "lattice"},  # the conditional diffusion model; the phi^4 fields it upsamples
}
RANK = {name: rank for rank, names in LAYERS.items() for name in names}


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import statement in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the file's package
                base = ".".join(package[: len(package) - node.level + 1] + ((base,) if base else ()))
            names = [alias.name for alias in node.names]
            if base == "dphys":  # `from dphys import mcmc` imports the package dphys.mcmc
                out.extend((node.lineno, f"dphys.{name}", []) for name in names if name != "__version__")
                names = [name for name in names if name == "__version__"]
                if not names:
                    continue
            out.append((node.lineno, base, names))
    return out


def _layer_of(module: str) -> str:
    """The top-level unit of a `dphys.x.y` module: `x` (`dphys` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "dphys"


def test_every_package_has_a_layer():
    units = {p.name if p.is_dir() else p.stem for p in (ROOT / "dphys").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert units == set(RANK), f"packages without a layer: {units - set(RANK)}; stale layers: {set(RANK) - units}"


def test_layers_point_down_and_only_the_cli_imports_workflows():
    upward = []
    for path in _python_files("dphys"):
        source = path.relative_to(ROOT).with_suffix("").parts
        if source[-1] == "__init__" and len(source) == 2:
            continue  # dphys/__init__.py re-exports the public packages
        own = source[1]
        for line, module, _ in _imports(path):
            if not module.startswith("dphys.") and module != "dphys":
                continue
            target = _layer_of(module)
            if target == own:
                continue
            if target in SIDEWAYS.get(own, ()):
                continue
            if target == "dphys" or RANK[target] >= RANK[own]:
                where = f"{path.relative_to(ROOT)}:{line}"
                upward.append(f"{where} imports {module} (layer {RANK.get(target)} >= {RANK[own]})")
    assert not upward, "imports that do not point down:\n" + "\n".join(upward)
    outside = [f"{p.relative_to(ROOT)}:{line} imports {module}"
               for p in _python_files("dphys", "examples", "benchmarks") for line, module, _ in _imports(p)
               if module.startswith("dphys.workflows") and "workflows" not in p.relative_to(ROOT).parts
               and p.name not in ("cli.py", "__main__.py")]
    tests = [f"{p.relative_to(ROOT)}:{line} imports {module}.{name}"
             for p in _python_files("tests") for line, module, names in _imports(p)
             for name in names if module.startswith("dphys.workflows.")]
    assert not outside + tests, "workflows imported outside the CLI (tests: use get_workflow):\n" + "\n".join(
        outside + tests)


def test_no_private_names_cross_modules():
    crossing = []
    for path in _python_files("dphys", "tests", "examples", "benchmarks"):
        rel = path.relative_to(ROOT)
        for line, module, names in _imports(path):
            if not module.startswith("dphys"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                crossing.append(f"{rel}:{line} imports {', '.join(private)} from {module}")
            parts = module.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = parts[:i]  # a private module belongs to its package (dphys/_x: all of dphys)
                    if tuple(rel.with_suffix("").parts[: len(owner)]) != tuple(owner):
                        crossing.append(f"{rel}:{line} imports the private module {module}")
    assert not crossing, "private names used outside their module:\n" + "\n".join(crossing)


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed: it is in the `test` extra (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "--no-cache", "dphys", "tests", "examples", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_the_low_layers_type_check():
    """pyright (standard mode) on the paths `[tool.pyright] include` lists in pyproject.toml: the
    foundations (layers 0 and 1) every other package builds on."""
    pyright = shutil.which("pyright") or str(Path(sys.executable).with_name("pyright"))
    if not Path(pyright).exists():
        pytest.fail("pyright is not installed: it is in the `test` extra (pip install -e '.[test]')")
    result = subprocess.run([pyright], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
