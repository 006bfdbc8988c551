"""report.json schema and figures."""

import json
import math

import pytest

from dphys.report import Metric, Report


def test_report_json_has_the_documented_schema(tmp_path):
    report = Report("demo", {"a": 1.5, "name": "x"}, tmp_path / "out")
    report.add("x2", 1.0, 0.1, 1.2)
    report.add("count", 7)
    with report.figure("curve") as (fig, ax):
        ax.plot([0, 1], [0, 1])
    data = json.loads(report.write().read_text())
    assert set(data) == {"workflow", "config", "metrics", "runtime_s", "versions"}
    assert data["workflow"] == "demo" and data["config"] == {"a": 1.5, "name": "x"}
    assert data["metrics"]["x2"] == {"value": 1.0, "error": 0.1, "reference": 1.2, "unit": "1"}
    assert data["metrics"]["count"] == {"value": 7.0, "error": None, "reference": None, "unit": "1"}
    assert data["runtime_s"] >= 0 and {"jax", "dphys", "diffrax"} <= set(data["versions"])
    assert (tmp_path / "out" / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert math.isclose(Metric(1.0, 0.1, 1.2).sigmas(), 2.0)
    assert "x2" in report.summary()


def test_non_finite_metric_is_refused(tmp_path):
    with pytest.raises(ValueError, match="metric 'bad' is not finite: nan"):
        Report("demo", {}, tmp_path).add("bad", float("nan"))
