"""superres end to end. Default run: a small configuration (8x8 fine grid, 1024 training scenes, 16 test
scenes x 16 members, seed 0; 67-75 s at load 13-15) whose figures the README quotes, each asserted within 2 of its
scene-bootstrap standard errors, with the physics they show (the infinite ensemble level with the regression,
the decomposition MSE_m = MSE_inf + spread^2/m on the two halves, the members' small-scale power), and every
method's metrics, ratios with errors, figures and checkpoints; bad configurations are rejected before anything
runs. Slow: the quick mode (seed 0 with 30 and 100 members, seed 1), the lattice part on a tiny configuration."""

import json

import pytest

from dphys.superres import CONTINUOUS
from dphys.workflows import get_workflow

WORKFLOW = get_workflow("superres")

SMALL = dict(size=8, n_train=1024, n_test=16, width=8, levels=1, train_steps=600, reg_steps=600, members=16,
             sample_steps=8, lattice=False, n_boot=500)
TINY = dict(size=8, n_train=48, n_test=3, width=4, levels=1, train_steps=20, reg_steps=10, batch=16, members=3,
            sample_steps=2, lattice=False)
LATTICE = dict(TINY, lattice=True, lattice_L=4, lattice_samples=64, lattice_width=4, lattice_train_steps=10)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("superres")
    WORKFLOW(str(out), quick=True, seed=0, **SMALL)
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
        assert m[f"spread_error_corr_{var}"]["error"] > 0
        assert m[f"rmse_ratio_{var}"]["value"] == pytest.approx(
            m[f"rmse_{var}_mean"]["value"] / m[f"rmse_{var}_det"]["value"])
    assert m["rmse_cth_det"]["unit"] == "km" and m["mae_cer_mean"]["unit"] == "um"
    for method in ("bicubic", "det", "mean", "member"):
        assert 0 <= m[f"phase_accuracy_{method}"]["value"] <= 1
    assert m["score_evals_per_member"]["value"] == 17
    for var in CONTINUOUS:
        # every ratio carries its scene-bootstrap error and 68 % interval
        for name in (f"rmse_ratio_{var}", f"bicubic_ratio_{var}", f"det_bicubic_ratio_{var}",
                     f"rmse_ratio_inf_{var}", f"spread_error_ratio_{var}"):
            r = m[name]
            assert r["error"] > 0 and m[f"{name}_p16"]["value"] <= r["value"] <= m[f"{name}_p84"]["value"], name
        mse = m[f"mse_{var}_mean"]["value"]
        assert mse == pytest.approx(m[f"rmse_{var}_mean"]["value"] ** 2)
        assert m[f"spread2_over_m_{var}"]["value"] > 0 and m[f"reliability_{var}_bin0_rmse"]["error"] > 0
    for cls in ("liquid", "ice", "cloud"):
        assert m[f"csi_ratio_{cls}"]["error"] > 0, cls


# The README's default-test figures (SMALL, seed 0): value and scene-bootstrap standard error, order cth, log_cot,
# cer. A figure holds when the run reproduces it within 2 of its standard errors (and the error within 30 %).
SMALL_FIGURES = {
    "rmse_ratio": ((1.0171, 0.0115), (1.0216, 0.0131), (1.0495, 0.0103)),
    "rmse_ratio_inf": ((0.9791, 0.0113), (0.9787, 0.0136), (1.0196, 0.0108)),
    "det_bicubic_ratio": ((0.9814, 0.0134), (1.0013, 0.0097), (0.9917, 0.0087)),
}


def test_small_config_reproduces_the_readme_figures(report):
    """The README's default-test figures within 2 bootstrap SE; the physics they state: the infinite ensemble
    (spread^2/m removed) within 2 SE of the regression on every variable, i.e. the 16-member mean's excess
    (1.7 / 2.2 / 5.0 %) is the Monte Carlo term; the decomposition's half-ensemble test within 3 SE of 0; the
    members' high-k spectral error below 15 % of the regression's (the regression, a conditional mean, is
    smooth)."""
    _, m = report
    for name, per_var in SMALL_FIGURES.items():
        for var, (value, error) in zip(CONTINUOUS, per_var):
            got = m[f"{name}_{var}"]
            assert got["error"] == pytest.approx(error, rel=0.3), (name, var, got)
            assert abs(got["value"] - value) <= 2 * error, (name, var, got["value"], value)
    for var in CONTINUOUS:
        inf = m[f"rmse_ratio_inf_{var}"]
        assert abs(inf["value"] - 1) <= 2 * inf["error"], (var, inf)
        half = m[f"mse_{var}_half_excess"]
        assert abs(half["value"]) <= 3 * half["error"], (var, half)
        assert m[f"spec_hi_{var}_member"]["value"] < 0.15 * m[f"spec_hi_{var}_det"]["value"], var


def test_figures_and_checkpoints_written(report):
    out, _ = report
    for name in ("scene", "power_spectra", "spread_skill"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    for part in ("diffusion", "regression", "coarse_retrieval"):
        assert (out / "checkpoints" / part / "checkpoint.eqx").exists(), part


@pytest.mark.slow
def test_tiny_configuration_without_the_residual_target(tmp_path):
    """The smallest configuration, without the residual target (the diffusion model on the target itself)."""
    WORKFLOW(str(tmp_path), quick=True, seed=0, **dict(TINY, residual=False))
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    assert m["diffusion_sigma_data"]["value"] > 0 and m["rmse_ratio_cth"]["error"] > 0


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


# The README's and the workflow docstring's quick-mode figures (seed 0): value, scene-bootstrap standard error.
# Order cth, log_cot, cer. A figure holds when the run reproduces it within 2 of its standard errors.
QUICK_FIGURES = {
    "rmse_ratio": ((1.0149, 0.0066), (1.0263, 0.0062), (0.9970, 0.0076)),
    "rmse_ratio_inf": ((0.9985, 0.0067), (1.0104, 0.0059), (0.9808, 0.0075)),
    "det_bicubic_ratio": ((0.9757, 0.0099), (0.9819, 0.0093), (0.9857, 0.0072)),
    "bicubic_ratio": ((0.9902, 0.0082), (1.0077, 0.0122), (0.9828, 0.0101)),
    "spread_error_ratio": ((0.9964, 0.0415), (0.9761, 0.0211), (1.0010, 0.0291)),
    "spread_error_corr": ((0.1653, 0.0324), (0.0829, 0.0359), (0.1619, 0.0182)),
}
QUICK_CSI = {"liquid": (0.9997, 0.0191), "ice": (0.9961, 0.0120), "cloud": (0.9986, 0.0070)}


@pytest.mark.slow
def test_quick_mode_reproduces_the_readme_figures(tmp_path):
    """The quick workflow (seed 0, about 2.5 min idle) against the README: every ratio within 2 bootstrap SE of
    the quoted value; the decomposition MSE_30 = MSE_inf + spread^2/30 holds on the two 15-member halves (3 SE);
    the 30-member mean's excess over the regression is the Monte Carlo term (infinite ensemble within 3 SE of
    the regression on every variable); reliability: the lowest-spread bin under-dispersive by > 3 SE, ensembles
    calibrated on average (spread/error within 2 SE of the quoted value and 3 SE of 1); members' high-k
    spectral error < 5 % of the regression's;
    phi^4 (HMC ensemble from dphys.superres.phi4_hmc_ensemble, 36 Heun steps): the generated C(r) and G_c(t)
    within 1 combined SE of the true ones at every r and t, where nearest and bicubic upsampling miss C(r) by
    > 3 SE; the paired C(0) difference within 2 SE of the quoted +0.007 +- 0.006 and within 3 SE of 0, nearest
    and bicubic upsampling > 20 SE off; the largest paired deviation over r (5.2 SE, at r = 1: the learning
    error the paired test resolves) > 3 SE but below a fifth of nearest upsampling's."""
    WORKFLOW(str(tmp_path), quick=True, seed=0)
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    for name, per_var in QUICK_FIGURES.items():
        for var, (value, error) in zip(CONTINUOUS, per_var):
            got = m[f"{name}_{var}"]
            assert got["error"] == pytest.approx(error, rel=0.3), (name, var, got)
            assert abs(got["value"] - value) <= 2 * error, (name, var, got["value"], value)
    for cls, (value, error) in QUICK_CSI.items():
        assert abs(m[f"csi_ratio_{cls}"]["value"] - value) <= 2 * error, (cls, m[f"csi_ratio_{cls}"])
    for var in CONTINUOUS:
        half = m[f"mse_{var}_half_excess"]
        assert abs(half["value"]) <= 3 * half["error"], (var, half)
        inf = m[f"rmse_ratio_inf_{var}"]
        assert abs(inf["value"] - 1) <= 3 * inf["error"], (var, inf)
        share = m[f"spread2_over_m_{var}"]["value"] / m[f"mse_{var}_mean"]["value"]
        assert 0.029 < share < 0.035, (var, share)  # 3.1-3.2 %: ~1/(m+1) for a consistent 30-member ensemble
        low = m[f"reliability_{var}_bin0_rmse"]
        assert low["value"] - low["reference"] > 3 * low["error"], (var, low)
        sp = m[f"spread_error_ratio_{var}"]
        assert abs(sp["value"] - 1) <= 3 * sp["error"], (var, sp)  # calibrated on average
        assert m[f"spec_hi_{var}_member"]["value"] < 0.05 * m[f"spec_hi_{var}_det"]["value"], var
    for label in ("C", "G"):
        assert m[f"lattice_{label}_maxdev_sigma_diffusion"]["value"] < 1.0, label
    c0 = m["lattice_C0_paired_diff_diffusion"]
    assert abs(c0["value"] - 0.007) <= 2 * 0.006 and abs(c0["value"]) <= 3 * c0["error"], c0
    paired = m["lattice_C_paired_maxdev_sigma_diffusion"]["value"]
    assert 3 < paired < 0.2 * m["lattice_C_paired_maxdev_sigma_nearest"]["value"], paired
    for name in ("nearest", "bicubic"):
        assert m[f"lattice_C_maxdev_sigma_{name}"]["value"] > 3, name
        c0 = m[f"lattice_C0_paired_diff_{name}"]
        assert abs(c0["value"]) > 20 * c0["error"], (name, c0)
    assert (tmp_path / "spread_skill.png").stat().st_size > 1000


QUICK_100 = ((1.0007, 0.0042), (1.0215, 0.0045), (0.9877, 0.0044))  # RMSE(100-member mean) / RMSE(regression)


@pytest.mark.slow
def test_more_members_follow_the_decomposition(tmp_path):
    """Quick mode with 100 members (about 2 min idle): the ratios quoted in the README within 2 bootstrap SE;
    each within 3 combined SE of what the 30-member decomposition predicts, sqrt(r_inf^2 + (r_30^2 - r_inf^2)
    30/100); and on the effective radius the 100-member mean beats the regression by more than 2 SE."""
    WORKFLOW(str(tmp_path), quick=True, seed=0, lattice=False, members=100)
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    for var, (value, error), (r30, _), (r_inf, e_inf) in zip(CONTINUOUS, QUICK_100, QUICK_FIGURES["rmse_ratio"],
                                                             QUICK_FIGURES["rmse_ratio_inf"]):
        got = m[f"rmse_ratio_{var}"]
        assert abs(got["value"] - value) <= 2 * error and got["error"] == pytest.approx(error, rel=0.3), (var, got)
        predicted = (r_inf**2 + (r30**2 - r_inf**2) * 30 / 100) ** 0.5
        assert abs(got["value"] - predicted) <= 3 * (got["error"] ** 2 + e_inf**2) ** 0.5, (var, got, predicted)
    cer = m["rmse_ratio_cer"]
    assert cer["value"] + 2 * cer["error"] < 1, cer


# seed 1 (README): the seed-0 conclusions are not a property of one training run
SEED1 = {"rmse_ratio": ((1.0166, 0.0040), (1.0299, 0.0072), (1.0130, 0.0073)),
         "rmse_ratio_inf": ((0.9990, 0.0041), (1.0149, 0.0071), (0.9973, 0.0073))}


@pytest.mark.slow
def test_quick_mode_seed_1(tmp_path):
    """Quick mode, seed 1, no lattice part (about 75 s idle): the quoted ratios within 2 bootstrap SE; the 30-member
    mean worse than the regression by more than 2 SE on CTH and ln tau (CER: 1.8 SE), its infinite ensemble
    within 3 SE of the regression on CTH and CER; the half-split test of the decomposition within 3 SE of 0."""
    WORKFLOW(str(tmp_path), quick=True, seed=1, lattice=False)
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    for name, per_var in SEED1.items():
        for var, (value, error) in zip(CONTINUOUS, per_var):
            got = m[f"{name}_{var}"]
            assert abs(got["value"] - value) <= 2 * error and got["error"] == pytest.approx(error, rel=0.3), (name, var)
    for var in CONTINUOUS:
        r = m[f"rmse_ratio_{var}"]
        assert r["value"] > 1 and (var == "cer" or r["value"] - 1 > 2 * r["error"]), (var, r)
        half = m[f"mse_{var}_half_excess"]
        assert abs(half["value"]) <= 3 * half["error"], (var, half)
    for var in ("cth", "cer"):
        inf = m[f"rmse_ratio_inf_{var}"]
        assert abs(inf["value"] - 1) <= 3 * inf["error"], (var, inf)


# An under-trained regression (300 steps on 512 scenes, otherwise SMALL): where the ensemble mean does beat it
UNDERFIT = dict(SMALL, n_train=512, reg_steps=300)
UNDERFIT_FIGURES = {
    "rmse_ratio": ((0.9778, 0.0130), (1.0378, 0.0175), (1.0189, 0.0095)),
    "rmse_ratio_inf": ((0.9400, 0.0134), (0.9921, 0.0160), (0.9938, 0.0090)),
    "det_bicubic_ratio": ((1.0200, 0.0131), (1.0191, 0.0120), (1.0217, 0.0079)),
}


@pytest.mark.slow
def test_residual_diffusion_corrects_an_underfit_regression(tmp_path):
    """With the regression trained for 300 steps on 512 scenes (worse than bicubic by 1.5-2.7 SE) the residual
    diffusion model's conditional mean is better than the regression on cloud-top height by more than 3 SE
    (infinite ensemble 0.940(13)); the quoted figures within 2 bootstrap SE (about 30 s idle)."""
    WORKFLOW(str(tmp_path), quick=True, seed=0, **UNDERFIT)
    m = json.loads((tmp_path / "report.json").read_text())["metrics"]
    for name, per_var in UNDERFIT_FIGURES.items():
        for var, (value, error) in zip(CONTINUOUS, per_var):
            got = m[f"{name}_{var}"]
            assert abs(got["value"] - value) <= 2 * error and got["error"] == pytest.approx(error, rel=0.3), (name, var)
    inf = m["rmse_ratio_inf_cth"]
    assert inf["value"] + 3 * inf["error"] < 1, inf
    for var in CONTINUOUS:
        assert m[f"det_bicubic_ratio_{var}"]["value"] > 1, var
