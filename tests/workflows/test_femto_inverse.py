"""femto-inverse end to end through the CLI with a small training set: the network predicts held-out
potentials and source sizes better than the mean, the scattering length of the predicted potentials
follows the true one, accuracy degrades with noise, and the figures are written."""

import json

import pytest

from dphys.cli import main
from dphys.workflows import get_workflow


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("femto-inverse")
    args = ["--train-potentials", "192", "--radii-per-potential", "8", "--test-potentials", "64", "--nk", "12",
            "--steps", "1500", "--width", "48"]
    assert main(["run", "femto-inverse", "--quick", "--out", str(out), *args]) == 0
    return out, json.loads((out / "report.json").read_text())


def test_held_out_accuracy_beats_predicting_the_mean(small_report):
    _, report = small_report
    m = report["metrics"]
    assert m["n_train"]["value"] == 192 * 8 and m["n_test"]["value"] == 64
    for name in ("s", "R"):  # strength and source size are well determined by C(k)
        nrmse = m[f"nrmse_{name}"]
        # better than the mean (NRMSE = 1) by many standard errors
        assert nrmse["value"] + 5 * nrmse["error"] < 1.0, (name, nrmse)
    assert m["nrmse_b"]["value"] < 1.0  # the range only through the effective range: weaker
    assert m["r2_s"]["value"] > 0.8


def test_scattering_length_of_predicted_potentials_follows_the_truth(small_report):
    _, report = small_report
    m = report["metrics"]
    assert m["a_true_max"]["value"] < 0 and m["a_true_min"]["unit"] == "fm"  # no bound state in the box
    # measured (seed 0, this small training set): median |a_pred / a_true - 1| = 0.040, of r 0.098,
    # NRMSE of 1/a 0.079 (1 = predicting the mean)
    assert m["median_rel_error_a"]["value"] < 0.08
    assert m["nrmse_inv_a"]["value"] < 0.2
    assert m["median_rel_error_r"]["value"] < 0.2


def test_accuracy_degrades_with_noise(small_report):
    _, report = small_report
    m = report["metrics"]
    levels = [m[f"nrmse_mean_noise_{lv}"]["value"] for lv in ("0", "0.5", "1", "2", "4")]
    # measured 0.21, 0.28, 0.33, 0.50, 0.70: monotonic in the noise level, still below 1 at 4x the noise
    assert all(lo < hi for lo, hi in zip(levels, levels[1:])) and levels[-1] < 1.0, levels


def test_report_records_every_parameter_and_writes_figures(small_report):
    out, report = small_report
    params = {p.name for p in get_workflow("femto-inverse").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("predicted_vs_true", "phase_shifts", "noise"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_bound_state_box_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "femto-inverse", "--s-max", "3.0", "--out", str(tmp_path)]) == 2
    assert "s_max=3.0" in capsys.readouterr().err
