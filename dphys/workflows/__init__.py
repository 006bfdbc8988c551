"""Workflows: script-sized compositions of models, solvers and training that reproduce one
scientific result. Each module here defines one `Workflow` and registers it; `dphys list` and
`dphys run NAME` find them in `WORKFLOWS`.

A workflow declares its parameters (`Param`: default, unit, value under `--quick`, a check), so
that the command line, `--help`, validation and the `config` section of `report.json` all come
from one place. A workflow keeps only its Params, `run` and its figures (the library does the rest);
nothing but the CLI imports a workflow module.

```python
import tempfile

from dphys.workflows import Param, Workflow, positive

def run(config, report):                       # a workflow keeps only its Params, run and figures
    x = config["x"]
    report.add("x_squared", x**2, error=0.0, reference=x**2, unit="1")   # report.json: value, error, ...
    with report.figure("square") as (fig, ax):  # a PNG next to report.json
        ax.plot([0, x], [0, x**2])

demo = Workflow("demo", "the square of x", run,
                params=(Param("x", 2.0, "the input", unit="1", quick=1.0, check=positive),))
config = demo.config(quick=True)               # defaults, quick values, overrides; validated
report = demo(tempfile.mkdtemp(), quick=True)  # validate, run, write report.json
# register(demo) in a module named in _MODULES: `dphys list`, `dphys run demo --quick`, get_workflow("demo")
```

Declaring and finding workflows:
- `Param`: one parameter (name, default, help, unit, quick value, choices, check).
- `Workflow`: name, description, `run(config, report)`, params and a cross-parameter check; `config(...)`
  validates, calling it runs and writes `report.json`.
- `register`: add a workflow to `WORKFLOWS` (the registry, filled by importing the modules in `_MODULES`);
  `get_workflow`: one by name (ValueError listing the known ones).

Parameter checks and parsers (for `Param(check=...)`):
- `positive`, `nonnegative`: numeric checks.
- `parse_complex` / `complex_check`: a complex number from a string parameter (`1+1j`).
- `parse_orders` / `orders_check`: moment orders from a comma-separated list (`2,4,6`).
"""

from __future__ import annotations

import cmath
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dphys.report import Report

__all__ = ["Param", "Workflow", "WORKFLOWS", "register", "positive", "nonnegative", "get_workflow", "parse_complex",
           "complex_check", "parse_orders", "orders_check"]

_MODULES = ("langevin_0d", "lattice_mc", "complex_langevin", "scattering", "cumulants", "femto_source", "femto_inverse", "halqcd", "halqcd_lattice", "phi4_diffusion", "cl_diffusion", "local_sgd", "can_thermal", "superres", "u1_diffusion")  # noqa: E501


def positive(x: float) -> str | None:
    return None if x > 0 else "must be > 0"


def nonnegative(x: float) -> str | None:
    return None if x >= 0 else "must be >= 0"


def parse_complex(text: str) -> complex:
    """A finite complex number written as Python does (`1+1j`, `-0.5j`, `2`; spaces ignored), from a
    string parameter; ValueError naming the text otherwise."""
    try:
        value = complex(text.replace(" ", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a complex number") from None
    if not cmath.isfinite(value):
        raise ValueError(f"{text!r} is not finite")
    return value


def complex_check(text: str) -> str | None:
    """`Param` check of a string parameter holding a complex number (`parse_complex`)."""
    try:
        parse_complex(text)
    except ValueError:
        return "is not a finite complex number: expected e.g. 1+1j"
    return None


def parse_orders(text: str) -> tuple[int, ...]:
    """Moment orders from a comma-separated list of integers in 1..16 (`"2,4,6"`), sorted and without
    repeats; ValueError naming the text otherwise."""
    try:
        orders = tuple(int(o) for o in text.split(",") if o.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of integers") from None
    if not orders or any(not 1 <= o <= 16 for o in orders):
        raise ValueError(f"{text!r}: expected moment orders between 1 and 16")
    return tuple(sorted(set(orders)))


def orders_check(text: str) -> str | None:
    """`Param` check of a string parameter holding moment orders (`parse_orders`)."""
    try:
        parse_orders(text)
    except ValueError:
        return "is not a list of moment orders: expected comma-separated integers in 1..16, e.g. 2,4,6"
    return None


@dataclass(frozen=True)
class Param:
    """A workflow parameter: its `name` (flag `--name`, dashes for underscores), `default`
    (its type is the parameter's type), `help`, physical `unit` ("1" = dimensionless), the value
    under `--quick` (None: same as default), `choices`, and `check(value) -> error or None`."""

    name: str
    default: Any
    help: str
    unit: str = "1"
    quick: Any = None
    choices: Sequence[Any] | None = None
    check: Callable[[Any], str | None] | None = None

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def validate(self, value: Any) -> str | None:
        """An error message naming the value and what was expected, or None when it is valid."""
        if self.choices is not None and value not in self.choices:
            return f"{self.flag}={value!r} is not one of {list(self.choices)}"
        if self.check is not None and (problem := self.check(value)) is not None:
            return f"{self.flag}={value!r} {problem}"
        return None


@dataclass(frozen=True)
class Workflow:
    """A named workflow: `run(config, report)` computes metrics and figures into `report`.

    `config` holds every parameter (validated one by one, then together by `check(config)`, which
    returns an error message or None) plus `quick` and `seed`."""

    name: str
    description: str
    run: Callable[[dict[str, Any], Report], None]
    params: tuple[Param, ...] = field(default_factory=tuple)
    check: Callable[[dict[str, Any]], str | None] | None = None  # checks across parameters

    def config(self, quick: bool = False, seed: int = 0, **overrides: Any) -> dict[str, Any]:
        """Defaults (or quick values), then overrides; validated. Raises ValueError."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"workflow {self.name!r} has no parameter(s) {unknown}; known: {sorted(known)}")
        config: dict[str, Any] = {"quick": quick, "seed": seed}
        for p in self.params:
            value = overrides.get(p.name, p.quick if quick and p.quick is not None else p.default)
            if (problem := p.validate(value)) is not None:
                raise ValueError(problem)
            config[p.name] = value
        if self.check is not None and (problem := self.check(config)) is not None:
            raise ValueError(problem)
        return config

    def execute(self, config: dict[str, Any], out_dir: str) -> Report:
        """Run with a validated `config` (from `config()`); write `out_dir/report.json`."""
        report = Report(self.name, config, out_dir)
        self.run(config, report)
        report.write()
        return report

    def __call__(self, out_dir: str, quick: bool = False, seed: int = 0, **overrides: Any) -> Report:
        """Run the workflow from Python: validate every parameter first, then run and report."""
        return self.execute(self.config(quick=quick, seed=seed, **overrides), out_dir)


WORKFLOWS: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    if workflow.name in WORKFLOWS:
        raise ValueError(f"workflow {workflow.name!r} is registered twice")
    WORKFLOWS[workflow.name] = workflow
    return workflow


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(f"dphys.workflows.{module}")


def get_workflow(name: str) -> Workflow:
    """The registered workflow `name`; ValueError listing the known ones otherwise."""
    _load_all()
    if name not in WORKFLOWS:
        raise ValueError(f"unknown workflow {name!r}; known: {', '.join(sorted(WORKFLOWS))}")
    return WORKFLOWS[name]


def all_workflows() -> dict[str, Workflow]:
    _load_all()
    return dict(WORKFLOWS)
