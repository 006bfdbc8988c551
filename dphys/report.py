"""What a workflow leaves behind: `report.json` with its configuration and metrics, and figures.

Every metric is a value with an optional standard error, an optional reference (an exact or
published value to compare with) and a unit, so a reader (or a test) can judge agreement in
standard errors:

```json
{"workflow": "langevin-0d", "config": {...},
 "metrics": {"x2": {"value": 14.2, "error": 0.05, "reference": 14.23, "unit": "1"}},
 "runtime_s": 12.3, "versions": {"dphys": "0.1.0", "jax": "...", ...}}
```
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from dphys._io import atomic_write

__all__ = ["Metric", "Report", "versions"]

_PACKAGES = ("dphys", "jax", "jaxlib", "equinox", "diffrax", "optimistix", "optax", "numpy")


class Metric(NamedTuple):
    """One reported number: value, standard error (or None), reference value (or None), unit."""

    value: float
    error: float | None = None
    reference: float | None = None
    unit: str = "1"

    def sigmas(self) -> float | None:
        """|value - reference| / error, or None when either is missing."""
        if self.error is None or self.reference is None or self.error == 0:
            return None
        return abs(self.value - self.reference) / self.error


def versions() -> dict[str, str]:
    """Python and package versions, recorded in every report for reproducibility."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _float_or_none(x: Any) -> float | None:
    return None if x is None else float(x)



class Report:
    """Collects a workflow's metrics and figures in `out_dir` and writes `report.json`.

    **Arguments:** `workflow` name, `config` (every parameter, JSON-serialisable), `out_dir`
    (created if needed).
    """

    def __init__(self, workflow: str, config: dict[str, Any], out_dir: str | os.PathLike):
        self.workflow = workflow
        self.config = dict(config)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.metrics: dict[str, Metric] = {}
        self.figures: list[Path] = []
        self._start = time.perf_counter()

    def add(self, name: str, value: float, error: float | None = None,
            reference: float | None = None, unit: str = "1") -> Metric:
        """Record a metric; `error` is one standard error; `reference` an exact or published value."""
        metric = Metric(float(value), _float_or_none(error), _float_or_none(reference), unit)
        if not math.isfinite(metric.value):
            raise ValueError(f"metric {name!r} is not finite: {metric.value}")
        self.metrics[name] = metric
        return metric

    @contextlib.contextmanager
    def figure(self, name: str, **subplots_kw) -> Iterator[Any]:
        """`with report.figure("histogram") as (fig, ax): ...` saves `out_dir/histogram.png`."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(**subplots_kw)
        try:
            yield fig, ax
            path = self.out_dir / f"{name}.png"
            fig.tight_layout()
            fig.savefig(path, dpi=120)
            self.figures.append(path)
        finally:
            plt.close(fig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "config": self.config,
            "metrics": {k: m._asdict() for k, m in self.metrics.items()},
            "runtime_s": time.perf_counter() - self._start,
            "versions": versions(),
        }

    def write(self) -> Path:
        """Write `out_dir/report.json` (atomically) and return its path."""
        path = self.out_dir / "report.json"
        atomic_write(path, lambda f: f.write((json.dumps(self.to_dict(), indent=2) + "\n").encode()))
        return path

    def summary(self) -> str:
        """A table of the metrics: value +- error, reference, deviation in standard errors."""
        lines = [f"{'metric':<16} {'value':>14} {'error':>10} {'reference':>12} {'sigmas':>7}  unit"]
        for name, m in self.metrics.items():
            err = "" if m.error is None else f"{m.error:.3g}"
            ref = "" if m.reference is None else f"{m.reference:.6g}"
            sig = "" if m.sigmas() is None else f"{m.sigmas():.2f}"
            lines.append(f"{name:<16} {m.value:>14.6g} {err:>10} {ref:>12} {sig:>7}  {m.unit}")
        return "\n".join(lines)
