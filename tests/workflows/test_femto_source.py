"""femto-source end to end through the CLI with a small ensemble: the neural source beats the Gaussian
in chi^2/ndf on the default pseudo-data, the core + tail fit recovers the true source parameters, and
the figures are written. The band's coverage of the true source is checked at the quick settings
(slow)."""

import json

import numpy as np
import pytest

from dphys.cli import main
from dphys.femto.data import DEFAULT_SOURCE
from dphys.workflows import get_workflow


def run(out, *extra):
    assert main(["run", "femto-source", "--quick", "--out", str(out), *extra]) == 0
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("femto-source")
    return out, run(out, "--members", "4", "--steps", "600")


def test_neural_source_fits_better_than_a_gaussian(small_report):
    _, report = small_report
    m = report["metrics"]
    assert m["n_points"]["value"] == 50
    # a Gaussian cannot describe a core + tail source: chi^2/ndf ~ 5; the neural source ~ 1
    assert m["gauss_chi2_ndf"]["value"] > 3.0 and m["gauss_p_value"]["value"] < 1e-10
    assert m["neural_chi2_ndf"]["value"] < 1.6 < m["gauss_chi2_ndf"]["value"]
    assert 1.0 < m["neural_effective_params"]["value"] < 20.0
    # the Gaussian fit's radius: between the core (1.2 fm) and the tail, with a small error
    assert 1.2 < m["gauss_radius"]["value"] < 1.7 and 0 < m["gauss_radius"]["error"] < 0.02
    assert m["gauss_radius"]["unit"] == "fm"


def test_core_tail_fit_recovers_the_true_source_within_three_errors(small_report):
    _, report = small_report
    m = report["metrics"]
    for name in ("radius", "tail_length", "tail_fraction"):
        metric = m[f"coretail_{name}"]
        assert metric["reference"] == DEFAULT_SOURCE[name]
        assert abs(metric["value"] - metric["reference"]) < 3 * metric["error"], (name, metric)
    assert m["coretail_chi2_ndf"]["value"] < 2.0


def test_chi2_of_the_correct_descriptions_follows_the_chi2_distribution(small_report):
    # chi^2/ndf of a correct description of data with these (ALICE-like) errors is 1 +- sqrt(2/ndf): the
    # true source (no fitted parameter), the core + tail fit (3 parameters) and the neural source (its
    # effective number of parameters) within 3 of those standard deviations; the Gaussian more than 10 out.
    # Measured (seed 0, 4 members, 600 steps): 1.188, 1.219, 1.274 (0.9, 1.1, 1.3 sigma); Gaussian 5.13.
    m = small_report[1]["metrics"]
    n = m["n_points"]["value"]
    ndf = {"true_source": n, "coretail": n - 3, "neural": n - m["neural_effective_params"]["value"]}
    for name, dof in ndf.items():
        assert abs(m[f"{name}_chi2_ndf"]["value"] - 1) < 3 * np.sqrt(2 / dof), (name, m[f"{name}_chi2_ndf"])
    assert m["gauss_chi2_ndf"]["value"] - 1 > 10 * np.sqrt(2 / (n - 1))
    assert m["neural_p_value"]["value"] > 0.0027  # not rejected at 3 sigma


def test_report_records_every_parameter_and_writes_figures(small_report):
    out, report = small_report
    params = {p.name for p in get_workflow("femto-source").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("correlation", "source", "source_log"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_bad_members_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "femto-source", "--members", "1", "--out", str(tmp_path)]) == 2
    assert "--members=1" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_band_covers_the_true_source(tmp_path):
    # For a calibrated band the pull (mean - truth)/sd is about N(0, 1) at every r, strongly correlated
    # along r (a handful of independent regions on 0.2 ... 12 fm): nearly all points within 2 sigma and
    # none beyond 3. (A plain bootstrap ensemble, or the network without the tail cutoff, fails both:
    # pulls of 5-10 in the 8-11 fm tail.)
    m = run(tmp_path)["metrics"]
    assert m["neural_band_coverage_2sigma"]["value"] >= 0.9
    assert m["neural_max_pull"]["value"] < 3.0
    assert m["gauss_max_pull"]["value"] > 5.0  # the Gaussian fit is far outside the band
