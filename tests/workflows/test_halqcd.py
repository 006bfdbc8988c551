"""The `halqcd` workflow end to end through the CLI, with smaller-than-quick settings: the neural
non-local potential reproduces the true phase shifts where the LO local extraction does not."""

import json

import pytest

from dphys.cli import main
from dphys.workflows import get_workflow


@pytest.fixture(scope="module")
def yamaguchi_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("halqcd")
    args = ["run", "halqcd", "--quick", "--system", "yamaguchi", "--steps", "1500", "--slices", "7", "--nk", "6",
            "--out", str(out)]
    assert main(args) == 0
    return out, json.loads((out / "report.json").read_text())


def test_neural_nonlocal_beats_the_lo_extraction(yamaguchi_report):
    out, report = yamaguchi_report
    m = report["metrics"]
    assert m["delta_rel_nn"]["value"] < 0.05 < 0.2 < m["delta_rel_lo"]["value"]
    assert m["a_nn"]["unit"] == "fm" and m["a_nn"]["reference"] == pytest.approx(-5.0, rel=1e-9)
    assert abs(m["a_nn"]["value"] / m["a_nn"]["reference"] - 1) < 0.1
    assert m["yamaguchi_solver_check"]["value"] < 1e-6  # non-local solver against the closed form
    params = {p.name for p in get_workflow("halqcd").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("phase_shifts", "potentials"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_too_few_slices_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "halqcd", "--slices", "4", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--slices=4" in err and "at least 5" in err
