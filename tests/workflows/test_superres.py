"""superres end to end with smaller-than-quick overrides: every method's metrics, the ensemble
scores and spectra are reported (the lattice part in a slow test), the figures and checkpoints written; bad
configurations are rejected before anything runs."""

import json

import pytest

from dphys.superres import CONTINUOUS
from dphys.workflows.superres import WORKFLOW

TINY = dict(size=8, n_train=48, n_test=3, width=4, levels=1, train_steps=20, reg_steps=10, batch=16, members=3,
            sample_steps=2, lattice=False)
LATTICE = dict(TINY, lattice=True, lattice_L=4, lattice_samples=64, lattice_width=4, lattice_train_steps=10)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("superres")
    WORKFLOW(str(out), quick=True, seed=0, **TINY)
    return out, json.loads((out / "report.json").read_text())["metrics"]


def test_metrics_reported(report):
    _, m = report
    for var in CONTINUOUS:
        for method in ("bicubic", "bicubic_oracle", "det", "mean", "member"):
            assert m[f"rmse_{var}_{method}"]["value"] >= m[f"mae_{var}_{method}"]["value"] > 0
            assert f"spec_hi_{var}_{method}" in m
        assert m[f"bicubic_ratio_{var}"]["value"] == pytest.approx(
            m[f"rmse_{var}_mean"]["value"] / m[f"rmse_{var}_bicubic"]["value"])
        assert m[f"crps_{var}"]["value"] > 0 and -1 <= m[f"spread_error_corr_{var}"]["value"] <= 1
        assert m[f"rmse_ratio_{var}"]["value"] == pytest.approx(
            m[f"rmse_{var}_mean"]["value"] / m[f"rmse_{var}_det"]["value"])
    assert m["rmse_cth_det"]["unit"] == "km" and m["mae_cer_mean"]["unit"] == "um"
    for method in ("bicubic", "det", "mean", "member"):
        assert 0 <= m[f"phase_accuracy_{method}"]["value"] <= 1
    assert m["score_evals_per_member"]["value"] == 5


def test_figures_and_checkpoints_written(report):
    out, _ = report
    for name in ("scene", "power_spectra", "spread_skill"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    for part in ("diffusion", "regression", "coarse_retrieval"):
        assert (out / "checkpoints" / part / "checkpoint.eqx").exists(), part


@pytest.mark.slow
def test_lattice_part(tmp_path):
    WORKFLOW(str(tmp_path), quick=True, seed=0, **LATTICE)
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    for name in ("diffusion", "nearest", "bicubic"):
        c0 = m[f"lattice_C0_{name}"]
        assert c0["error"] > 0 and c0["reference"] > 0
        assert m[f"lattice_C_maxdev_sigma_{name}"]["value"] >= 0
    assert (tmp_path / "lattice_two_point.png").stat().st_size > 1000
    assert (tmp_path / "checkpoints" / "lattice" / "checkpoint.eqx").exists()


def test_bad_configuration_is_rejected_before_running():
    with pytest.raises(ValueError, match="divisible by factor"):
        WORKFLOW.config(quick=True, size=18, factor=4)
    with pytest.raises(ValueError, match="members"):
        WORKFLOW.config(quick=True, members=1)
    with pytest.raises(ValueError, match="p-uncond"):
        WORKFLOW.config(quick=True, guidance=1.0, p_uncond=0.0)
