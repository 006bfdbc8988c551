"""langevin-0d end to end through the CLI: exact moments within 3 standard errors."""

import json

import numpy as np
import pytest

from dphys.cli import main
from dphys.workflows import get_workflow


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("langevin-0d")
    assert main(["run", "langevin-0d", "--quick", "--out", str(out), "--seed", "1"]) == 0
    return out, json.loads((out / "report.json").read_text())


def test_quick_run_reproduces_exact_moments_within_three_standard_errors(quick_report):
    _, report = quick_report
    for name in ("x2", "x4", "abs_x"):
        m = report["metrics"][name]
        assert m["error"] > 0 and m["reference"] is not None
        assert abs(m["value"] - m["reference"]) < 3 * m["error"], (name, m)


def test_errors_account_for_autocorrelation(quick_report):
    _, report = quick_report
    tau = report["metrics"]["tau_int_x2"]["value"]
    assert tau > 1.0  # measurements every 0.2 Langevin time are correlated
    # the error is the naive one inflated by sqrt(2 tau): recompute the naive error from it
    n = report["metrics"]["samples"]["value"]
    x2 = report["metrics"]["x2"]
    naive = x2["error"] / np.sqrt(2 * tau)
    assert naive * np.sqrt(n) == pytest.approx(np.sqrt(report["metrics"]["x4"]["value"] - x2["value"] ** 2), rel=0.05)


def test_report_records_every_parameter_and_writes_figures(quick_report):
    out, report = quick_report
    params = {p.name for p in get_workflow("langevin-0d").params}
    assert params | {"quick", "seed"} == set(report["config"])
    assert report["config"]["quick"] is True
    assert (out / "histogram.png").stat().st_size > 10_000 and (out / "trajectory.png").exists()
