"""Timing a dphys function against a baseline in the same process (see run.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax


@dataclass
class Case:
    """`dphys()` and `baseline()` take no arguments (close over the inputs) and return arrays."""

    name: str
    dphys: Callable[[], object]
    baseline_name: str
    baseline: Callable[[], object]
    repeats: int = 7
    target: float | None = None  # the largest acceptable ratio, if the case has one


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def measure(case: Case) -> dict:
    _time(case.dphys), _time(case.baseline)  # compile and warm up
    ours, theirs = [], []
    for _ in range(case.repeats):
        ours.append(_time(case.dphys))
        theirs.append(_time(case.baseline))
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    ratio = t_ours / t_theirs
    return {
        "name": case.name,
        "dphys_s": t_ours,
        "baseline": case.baseline_name,
        "baseline_s": t_theirs,
        "ratio": ratio,
        "target": case.target,
        "meets_target": None if case.target is None else ratio <= case.target,
        "repeats": case.repeats,
    }
