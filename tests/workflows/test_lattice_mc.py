"""lattice-mc end to end: HMC ensembles against exact finite-volume results (3 standard errors)."""

import json

import numpy as np
import pytest

from dphys.cli import main
from dphys.lattice.ensemble import load_ensemble


def run(tmp_path, *flags):
    out = tmp_path / "run"
    assert main(["run", "lattice-mc", "--quick", "--out", str(out), *flags]) == 0
    return out, json.loads((out / "report.json").read_text())["metrics"]


def assert_agrees(metrics, names, n_sigma=3.0):
    for name in names:
        m = metrics[name]
        assert m["reference"] is not None and m["error"] > 0, (name, m)
        assert abs(m["value"] - m["reference"]) < n_sigma * m["error"], (name, m)


@pytest.mark.parametrize("beta", [1.0, 3.0])
def test_u1_8x8_plaquette_and_topological_susceptibility_match_character_expansion(tmp_path, beta):
    out, metrics = run(tmp_path, "--theory", "u1", "--L", "8", "--beta", str(beta))
    assert_agrees(metrics, ["plaquette", "wilson_1x2", "wilson_2x2", "chi_t"])
    assert metrics["Q_changes_per_sample"]["value"] > 0.05  # topology moves at these couplings
    ensemble = load_ensemble(out / "ensemble.npz", theory="u1")
    assert ensemble.samples.shape[1:] == (8, 2, 8, 8) and ensemble.params["beta"] == beta
    assert (out / "Q_history.png").exists()


def test_double_well_gap_and_x2_match_the_transfer_matrix(tmp_path):
    _, metrics = run(tmp_path, "--theory", "qm")
    assert_agrees(metrics, ["x2", "gap"])
    assert metrics["kinks"]["value"] > 0


def test_free_phi4_matches_exact_susceptibility_and_equipartition(tmp_path):
    out, metrics = run(tmp_path, "--theory", "phi4", "--lam", "0", "--kappa", "0.1")
    assert_agrees(metrics, ["M", "chi2", "action_density"])
    assert 0.6 < metrics["acceptance"]["value"] <= 1.0
    ensemble = load_ensemble(out / "ensemble.npz", theory="phi4")
    assert ensemble.sampler["name"] == "hmc" and np.all(np.isfinite(ensemble.samples))


@pytest.mark.slow
def test_hmc_freezes_topology_at_beta_7_on_16x16(tmp_path):
    """The baseline the diffusion work must beat: chi_t far below the exact value."""
    out = tmp_path / "frozen"
    assert main(["run", "lattice-mc", "--theory", "u1", "--beta", "7", "--L", "16", "--out", str(out)]) == 0
    metrics = json.loads((out / "report.json").read_text())["metrics"]
    assert metrics["chi_t"]["value"] < 0.25 * metrics["chi_t"]["reference"]
    assert metrics["Q_changes_per_sample"]["value"] < 0.01
