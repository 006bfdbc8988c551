r"""`superres`: conditional diffusion super-resolution with ensembles (the CloudDiff setting) on
synthetic cloud scenes, against a deterministic regression network and bicubic upsampling; and the
same machinery on $\phi^4$ lattice configurations (block-averaged -> fine).

1. Synthetic scenes (`dphys.superres.generate_scenes`, periodic, documented formulas): coarse
   (2 km) condition = 3 brightness temperatures + cos(viewing zenith angle); fine (1 km) target =
   cloud-top height (km), ln optical thickness, effective radius (um), phase (clear/liquid/ice).
2. Training with `dphys.superres.train_regression` / `train_diffusion` (on `dphys.fit`; checkpoints
   in `out/checkpoints/*`): a `RegressionNet` (U-Net on the
   bicubic-upsampled condition) by mean squared error, the deterministic baseline; the same U-Net
   on the coarse grid trained on the block-averaged properties (a 2 km retrieval, the source of
   the bicubic baseline); and a `ConditionalScore` (U-Net on [noisy target, upsampled condition,
   flag], EDM preconditioning and weighting) by conditional denoising score matching with
   condition dropout `p_uncond` (classifier-free guidance). With `--residual` (default) the
   diffusion model learns the residual target - regression output (CorrDiff, Mardani et al.
   2023), with the EDM data scale set to the residual's RMS, and the members are regression output
   + sampled residual; otherwise it learns the target itself.
3. Evaluation on held-out scenes (`dphys.superres.retrieval_scores`, `power_spectra`), for
   `bicubic` (the 2 km retrieval upsampled bicubically: the 2 km product at 1 km, from the same
   radiances), `bicubic_oracle` (the block-averaged TRUE
   properties upsampled bicubically: knows the coarse truth, so not a fair competitor; shown as
   the limit of coarse information), `det` (regression), `mean` (the ensemble mean; phase from the
   mean of the phase channels) and `member` (each ensemble member, metrics averaged over members):
   MAE/RMSE per continuous variable over the pixels that are cloudy in the truth, in physical
   units; phase accuracy, POD/FAR/CSI per class and the cloud mask CSI over all pixels; power
   spectra of each continuous variable (clear pixels at their fixed values) and their mean
   absolute log ratio to the truth's at high wavenumbers $k > n/4$ (`spec_hi_*`, 0 = perfect);
   ensemble spread against the error of the mean (Pearson correlation and spread-error ratio) and
   the CRPS of the ensemble (the MAE is the CRPS of a deterministic retrieval).
   `rmse_ratio_*` = RMSE(mean)/RMSE(det) and `csi_ratio_*` = CSI(mean)/CSI(det) summarise the
   comparison with the baseline; `bicubic_ratio_*` = RMSE(mean)/RMSE(bicubic) and
   `det_bicubic_ratio_*` = RMSE(det)/RMSE(bicubic) (< 1: beats bicubic). Every ratio carries a
   paired scene-bootstrap standard error (`error`, `--n-boot` replicates: resample the test scenes,
   recompute both scores) and its 68 % interval (`*_p16`, `*_p84`; `dphys.superres.rmse_ratio`,
   `csi_ratio`).
   Decomposition (`dphys.superres.ensemble_mean_decomposition`): the mean of m independent members
   has MSE = MSE$_\infty$ + spread$^2/m$, MSE$_\infty$ the error of the model's conditional mean;
   reported `mse_*_mean`, `spread2_over_m_*`, `rmse_*_mean_inf` and `rmse_ratio_inf_*` =
   RMSE$_\infty$/RMSE(det) (what an infinite ensemble would give), and the decomposition's test on
   the two 15-member halves, `mse_*_half_excess` (MSE of the half means minus MSE$_\infty$ +
   spread$^2/(m/2)$, 0 within its error for exchangeable members). Reliability diagram
   (`dphys.superres.reliability_diagram`, 8 spread bins over the cloudy pixels):
   `reliability_*_bin{b}_spread` and `reliability_*_bin{b}_rmse` (RMSE of the mean, bootstrap
   error, reference $\sqrt{(m+1)/m}$ x spread = a consistent ensemble), figure `spread_skill`.
4. Lattice part (`--lattice`): HMC ensemble of 2D $\phi^4$ (`dphys.superres.phi4_hmc_ensemble`, on
   `dphys.mcmc.adapted_ensemble`), pairs (block average over `factor` x `factor`, configuration),
   conditional diffusion trained with random translations by multiples of `factor` and
   $\phi\to-\phi$ (`dphys.superres.lattice_augment`); on held-out coarse configurations, one
   generated fine configuration each; compared (`dphys.superres.two_point_comparison`) by the fine
   site correlator $C(r) = \langle\phi_x\phi_{x+r}\rangle$ (`site_correlator`) and the
   zero-momentum connected $G_c(t)$ of generated, true and upsampled (piecewise constant
   `nearest`, `bicubic`) configurations with jackknife errors;
   reported: the largest deviation from the truth over $r$ (or $t$) in combined standard errors,
   and for $C(r)$ also paired (per configuration $C_{gen} - C_{true}$, jackknifed), which removes
   the magnetisation fluctuations common to both and is the stricter test.

Figures: `scene` (condition, truth, deterministic, two members, ensemble mean and spread for one
scene, per variable), `power_spectra`, `spread_skill`, `lattice_two_point`.

Run time: `--quick` (16x16 fine / 8x8 coarse, 2048 training scenes, 600 regression steps on each
grid + 1500 diffusion steps, 24 test scenes x 30 members, Heun 18 steps = 37 score evaluations per
member; lattice L = 8) took 2 min 31 s wall, 146 s of CPU, with another job on the second core
(regression 25 s, diffusion 67 s, ensembles 14 s, lattice part 22 s). The defaults (32x32 /
16x16, 2048 scenes, 3000 + 3000 regression and 6000 diffusion steps, 64 test scenes) took about
28 minutes with `--lattice false` on the 2 cores shared with two or three other jobs (regression
7.7 min, diffusion 16.8 min, ensembles 1.6 min); the lattice part at L = 16 adds its own training
(3000 steps) and was not part of that run.

Results (seed 0, residual mode; the numbers are in report.json; quick-mode errors: paired
scene bootstrap over the 24 test scenes, 2000 replicates). Order: cloud-top height / ln tau /
effective radius, and liquid / ice / cloud-mask CSI. Quick-mode figures are asserted by
`tests/workflows/test_superres.py::test_quick_mode_reproduces_the_readme_figures` (slow), within
2 standard errors; the full-mode column is from one earlier run without the bootstrap. The default
test run (`python -m pytest`) asserts the figures of a smaller configuration (8x8, 1024 training
scenes, 600 + 600 + 600 steps, 16 test scenes x 16 members, 500 bootstrap replicates; 67-75 s
measured at load 13-15 on the 2 shared cores):
mean / regression 1.017(12) / 1.022(13) / 1.050(10), infinite ensemble 0.979(11) / 0.979(14) /
1.020(11), regression / bicubic 0.981(13) / 1.001(10) / 0.992(9), members' high-k spectral error
0.28-0.62 against the regression's 4.3-4.6.

| | full (32x32) | `--quick` (16x16) |
|---|---|---|
| RMSE ratio ensemble mean / regression | 1.027 / 1.016 / 1.022 | 1.015(7) / 1.026(6) / 0.997(8) |
| same, infinite ensemble (spread$^2/m$ removed) | | 0.999(7) / 1.010(6) / 0.981(8) |
| spread$^2/m$ / MSE of the 30-member mean | | 0.032 / 0.031 / 0.032 |
| CSI ratio ensemble mean / regression | 0.986 / 0.992 / 0.994 | 1.000(19) / 0.996(12) / 0.999(7) |
| RMSE regression / bicubic | 0.947 / 0.937 / 0.967 | 0.976(10) / 0.982(9) / 0.986(7) |
| RMSE ensemble mean / bicubic | 0.972 / 0.953 / 0.988 | 0.990(8) / 1.008(12) / 0.983(10) |
| CSI bicubic, regression, mean (liquid) | 0.602, 0.636, 0.627 | 0.433, 0.450, 0.450 |
| high-k spectral error members / regression | 0.05-0.10 / 1.85-2.21 | 0.04-0.11 / 2.82-3.27 |
| spread-error correlation | 0.25-0.40 | 0.165(32) / 0.083(36) / 0.162(18) |
| spread-error ratio | 0.98-1.06 | 0.996(42) / 0.976(21) / 1.001(29) |

Where and why the ensemble mean does not beat the regression. In quick mode the 30-member mean is
2.3 and 4.2 standard errors worse than the regression on cloud-top height and ln tau and level on
effective radius (0.4 sigma). Of that excess the Monte Carlo term spread$^2/30$ is 3.1-3.2 % of the
MSE (1.6 % of the RMSE, the 1/(m+1) of a calibrated ensemble); the two 15-member halves confirm
the decomposition (`mse_*_half_excess` -0.4, -1.1, +0.8 sigma from 0). Without it, the infinite
ensemble's conditional mean is level with the regression on CTH (0.999 +- 0.007), 1.0 % worse on
ln tau (1.8 sigma) and 1.9 % better on CER (2.6 sigma): all within 3 sigma of the regression. This
is what the residual target implies: the diffusion model learns target - regression output, whose
conditional mean is zero to the extent that the MSE-trained regression has learned the conditional
mean, so the ensemble mean is the regression plus a small learned correction plus Monte Carlo noise;
more members remove only the noise. The converse is measured too: with an under-trained regression
(300 steps on 512 scenes, 8x8, 16 members; `test_residual_diffusion_corrects_an_underfit_regression`,
slow), worse than bicubic by 2 % (1.5-2.7 sigma), the residual model corrects it: infinite ensemble /
regression 0.940(13) / 0.992(16) / 0.994(9) (4.5 sigma better on CTH), 16-member mean 0.978(13) /
1.038(18) / 1.019(10). So the ensemble mean beats the deterministic model where that model has not
learned the conditional mean, which is one reading of arXiv:2405.04483's result; with the
regression trained for 600 steps on 1024 scenes (the default-test configuration) it is level again:
infinite ensemble 0.979(11) / 0.979(14) / 1.020(11) (`test_small_config_reproduces_the_readme_figures`,
default run). Measured with `--members 100` (quick, seed 0, 103 s): mean /
regression 1.001(4) / 1.022(5) / 0.988(4), as the 30-member decomposition predicts (1.003 / 1.015 /
0.986, within 0.9 combined sigma), infinite ensemble 0.996(4) / 1.017(4) / 0.983(4): with 100
members the ensemble mean beats the regression on effective radius (2.8 sigma), is level on
cloud-top height and stays worse on ln tau (4.8 sigma), where the diffusion model's conditional
mean itself is 1.7 % off (`test_more_members_follow_the_decomposition`, slow). Seed 1 (quick,
`test_quick_mode_seed_1`, slow): mean / regression 1.017(4) / 1.030(7) / 1.013(7), infinite ensemble
0.999(4) / 1.015(7) / 0.997(7): the ln tau deficit recurs (2.1 sigma), seed 0's CER advantage of the
infinite ensemble (2.6 sigma) does not (0.4 sigma), so only "level with the regression at best" is
robust across seeds. RMSE, a quadratic score, is minimised by the conditional mean, which a well-trained
regression already approximates; the ensemble's value is in its members (small-scale power,
CRPS, spread), not in beating the regression's RMSE. Reliability (`spread_skill`, quick): averaged
over pixels spread = error (ratio within 1.2 sigma of 1), but binned by spread the RMSE of the mean varies far
less than the spread: in the lowest-spread bin it exceeds the consistent value by 3.5 / 3.9 / 5.3
standard errors (under-dispersive where the ensemble is confident), in the highest it is at or
below it (-0.2 / -4.8 / -4.9 sigma): the spread's pixel-to-pixel variation is too large, hence the
weak spread-error correlation.
Against bicubic upsampling of the 2 km retrieval the margins are small and, in quick mode, not
significant: regression / bicubic 2.4 / 1.9 / 1.9 sigma below 1, ensemble mean / bicubic 1.2 sigma
below, 0.6 sigma above, 1.7 sigma below (block-averaged radiances carry little sub-pixel
information). The oracle (bicubic of the coarse truth) beats everything, as it must. Without the
residual mode (the diffusion model on the target itself) the quick ensemble mean was 1.12 / 1.06
/ 1.01 of the regression RMSE with a liquid CSI ratio of 0.70 (384 training scenes, one earlier run).
Phi^4 (quick, L = 8, factor 2, seed 0; HMC by `dphys.superres.phi4_hmc_ensemble`, 36 Heun steps):
the generated fine configurations reproduce the site correlator and $G_c(t)$ at every r and t
within 0.41 and 0.12 combined standard errors (nearest / bicubic upsampling: C(r) off by up to
5.3 / 6.5 sigma). The stricter paired test (C_gen - C_true per configuration): C(0) +0.007 +-
0.006 (1.2 sigma), where nearest and bicubic miss it by -0.342 and -0.413 (61 and 79 sigma); the
paired differences at r = 0..4 are +0.007(6), -0.015(3), +0.003(5), +0.029(6), +0.019(7), so a
learning error of 1-2 % remains at r = 1 and 3 (5.2 and 4.8 sigma). Separating discretisation
from learning (the same trained model, one run each, not asserted): with 18 Heun steps C(0) was
+0.031(6) (5.2 sigma, a 1.9 % bias), with 72 steps +0.001(6), while the r = 1 and 3 differences
stay at -0.015 / +0.028 for 18, 36 and 72 steps; with 1500 instead of 600 training steps (18
sampler steps) C(0) was +0.016(5). `examples/superres_lattice.py` (another training run) gives
C(0) -0.009(13) with 18 and -0.033(12) with 36 steps: the same -0.024 shift from the sampler's
discretisation, on a learning error that differs between training runs (0 to -2 % of C(0)).
"""

from __future__ import annotations

import math
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import dphys.superres as sr
from dphys.lattice.phi4 import Phi4Action
from dphys.report import Report
from dphys.superres import UNITS
from dphys.workflows import Param, Workflow, nonnegative, positive, register

METHODS = ("bicubic", "bicubic_oracle", "det", "mean", "member")
RELIABILITY_BINS = 8


# --------------------------------------------------------------------------------------------
# lattice part
# --------------------------------------------------------------------------------------------


def _lattice_study(report: Report, config: dict, key) -> dict:
    """phi^4 super-resolution: HMC -> train -> generate on held-out coarse configurations -> C(r), G_c(t)."""
    L, f = config["lattice_L"], config["factor"]
    k_hmc, k_train, k_gen = jax.random.split(key, 3)
    action = Phi4Action(kappa=config["lattice_kappa"], lam=config["lattice_lam"])
    phis, acceptance = sr.phi4_hmc_ensemble(k_hmc, action, L, config["lattice_samples"], chains=8)
    report.add("lattice_hmc_acceptance", acceptance)
    phis = np.asarray(phis)  # (sample, chain, L, L)
    n_test = max(2, phis.shape[0] // 4)
    train = phis[:-n_test].reshape(-1, L, L)
    test = phis[-n_test:]  # (n_test, chains, L, L), MC order kept for the jackknife
    cond, target = sr.lattice_pairs(train, f)
    score, result = sr.train_diffusion(k_train, cond, target, factor=f, channels=_channels(config, lattice=True),
                                       steps=config["lattice_train_steps"], batch_size=config["batch"],
                                       lr=config["lr"], p_uncond=0.0, augment=sr.lattice_augment(f),
                                       checkpoint_dir=report.out_dir / "checkpoints" / "lattice",
                                       desc="superres lattice diffusion")
    report.add("lattice_final_loss", float(np.mean(result.losses[-max(1, len(result.losses) // 10):])))
    c_test, _ = sr.lattice_pairs(test.reshape(-1, L, L), f)
    gen = sr.sample_ensemble(score, k_gen, c_test, 1, steps=config["lattice_sample_steps"], chunk=64)[:, 0, 0]
    gen = np.asarray(gen).reshape(test.shape)
    naive = np.asarray(sr.upsample_condition(c_test[:, 0], f, "nearest")).reshape(test.shape)
    bicubic = np.asarray(sr.upsample_condition(c_test[:, 0], f, "bicubic")).reshape(test.shape)
    cmp = sr.two_point_comparison(test, {"diffusion": gen, "nearest": naive, "bicubic": bicubic}, action,
                                  n_blocks=min(10, n_test))
    corr, g_c = cmp["C"], cmp["G"]
    for name in ("diffusion", "nearest", "bicubic"):
        for label in ("C", "G"):
            report.add(f"lattice_{label}_maxdev_sigma_{name}", cmp["maxdev"][f"{label}_{name}"])
        for r in (0, 1):
            report.add(f"lattice_C{r}_{name}", float(corr[name].value[r]), float(corr[name].error[r]),
                       float(corr["truth"].value[r]))
        # paired: the same coarse configuration fixes M, so C_gen - C_true per configuration removes the
        # common fluctuation and tests the fine structure much more strictly
        diff = cmp["paired"][name]
        report.add(f"lattice_C_paired_maxdev_sigma_{name}", cmp["paired_maxdev"][name])
        report.add(f"lattice_C0_paired_diff_{name}", float(diff.value[0]), float(diff.error[0]), 0.0)
    # consistency of the generated configurations with their condition (block average residual)
    report.add("lattice_block_residual_rms", sr.block_residual_rms(gen.reshape(-1, L, L), c_test[:, 0], f))
    report.add("lattice_coarse_rms", float(np.sqrt(np.mean(np.asarray(c_test) ** 2))))
    with report.figure("lattice_two_point", ncols=2, figsize=(10, 3.8)) as (fig, axes):
        for (name, c), mk in zip(corr.items(), "osd^"):
            axes[0].errorbar(np.arange(L // 2 + 1), c.value, c.error, fmt=mk, ms=4, capsize=2, label=name, alpha=0.8)
            axes[1].errorbar(np.arange(L), g_c[name].value, g_c[name].error, fmt=mk, ms=4, capsize=2, label=name,
                             alpha=0.8)
        axes[0].set(xlabel="r", ylabel=r"$C(r) = \langle\phi_x\phi_{x+r}\rangle$",
                    title=rf"$\phi^4$ L={L} from {L // f}x{L // f} block averages: site correlator")
        axes[1].set(yscale="log", xlabel="t", ylabel=r"$G_c(t)$", title="zero-momentum connected correlator")
        axes[0].legend()
    return cmp["maxdev"]


# --------------------------------------------------------------------------------------------
# the workflow
# --------------------------------------------------------------------------------------------


def _channels(config, lattice=False):
    w = config["lattice_width"] if lattice else config["width"]
    return tuple(w * 2**i for i in range(config["levels"]))


def run(config: dict[str, Any], report: Report) -> None:
    key = jax.random.PRNGKey(config["seed"])
    k_data, k_coarse, k_diff, k_reg, k_gen, k_lat = jax.random.split(key, 6)
    scene_config = sr.SceneConfig(size=config["size"], factor=config["factor"])
    f = config["factor"]
    scenes = sr.generate_scenes(k_data, config["n_train"] + config["n_test"], scene_config)  # one compile
    train = sr.SceneBatch(*(a[:config["n_train"]] for a in scenes))
    test = sr.SceneBatch(*(a[config["n_train"]:] for a in scenes))
    channels = _channels(config)
    clock = time.perf_counter()
    reg, res_r = sr.train_regression(k_reg, train.condition, train.target, factor=f, channels=channels,
                                     steps=config["reg_steps"], batch_size=config["batch"], lr=config["lr"],
                                     checkpoint_dir=report.out_dir / "checkpoints" / "regression")
    report.add("time_train_regression", time.perf_counter() - clock, unit="s")
    # the 2 km retrieval behind the bicubic baseline: the same U-Net on the coarse grid, trained on the
    # block-averaged properties
    coarse, _ = sr.train_regression(k_coarse, train.condition, train.coarse_target, factor=1, channels=channels,
                                    steps=config["reg_steps"], batch_size=config["batch"], lr=config["lr"],
                                    checkpoint_dir=report.out_dir / "checkpoints" / "coarse_retrieval",
                                    desc="superres 2 km retrieval")
    clock = time.perf_counter()
    base_train = np.asarray(sr.predict(reg, train.condition)) if config["residual"] else 0.0
    residual = np.asarray(train.target) - base_train
    sigma_data = float(np.sqrt(np.mean(residual**2)))
    report.add("diffusion_sigma_data", sigma_data)
    score, res_d = sr.train_diffusion(k_diff, train.condition, residual, factor=f, channels=channels,
                                      steps=config["train_steps"], batch_size=config["batch"], lr=config["lr"],
                                      p_uncond=config["p_uncond"], sigma_data=sigma_data,
                                      checkpoint_dir=report.out_dir / "checkpoints" / "diffusion")
    report.add("time_train_diffusion", time.perf_counter() - clock, unit="s")
    clock = time.perf_counter()
    for name, res in (("diffusion", res_d), ("regression", res_r)):
        tail = res.losses[-max(1, len(res.losses) // 10):]
        report.add(f"final_loss_{name}", float(np.mean(tail)), float(np.std(tail) / math.sqrt(len(tail))))

    det = np.asarray(sr.predict(reg, test.condition))
    members = np.asarray(sr.sample_ensemble(score, k_gen, test.condition, config["members"],
                                            steps=config["sample_steps"], guidance=config["guidance"], chunk=8,
                                            base=det if config["residual"] else None))
    report.add("time_sample_ensembles", time.perf_counter() - clock, unit="s")
    truth = np.asarray(test.target)
    preds = {"bicubic": np.asarray(sr.bicubic_upsample(sr.predict(coarse, test.condition), f)),
             "bicubic_oracle": np.asarray(sr.bicubic_upsample(test.coarse_target, f)),
             "det": det,
             "mean": members.mean(axis=1)}
    metrics, rel = sr.retrieval_scores(truth, preds, members, n_boot=config["n_boot"], n_bins=RELIABILITY_BINS)
    for name, value in metrics.items():
        var = next((v for v in sr.CONTINUOUS if f"_{v}" in name), None)
        unit = "1"
        if var is not None and "ratio" not in name:
            if name.startswith(("mae_", "rmse_", "crps_", "reliability_")):
                unit = UNITS[var]
            elif name.startswith(("mse_", "spread2_")):
                unit = "1" if var == "log_cot" else f"{UNITS[var]}^2"
        value, error, ref = value if isinstance(value, tuple) else (value, None, None)
        if math.isfinite(value):  # a POD/FAR/CSI with an empty denominator is NaN: not reported
            report.add(name, value, error, ref, unit=unit)
    specs = sr.power_spectra(truth, preds, members)
    for var, spec in specs.items():
        for method, err in sr.high_k_log_error(spec, config["size"]).items():
            report.add(f"spec_hi_{var}_{method}", err)
    report.add("score_evals_per_member", 2 * config["sample_steps"] + 1)

    _scene_figure(report, test, preds, members, config)
    _spectra_figure(report, specs)
    _spread_figure(report, rel)
    if config["lattice"]:
        clock = time.perf_counter()
        _lattice_study(report, config, k_lat)
        report.add("time_lattice", time.perf_counter() - clock, unit="s")


def _scene_figure(report, test, preds, members, config, scene=0):
    t = sr.decode_target(test.target[scene])
    d = sr.decode_target(preds["det"][scene])
    mem = sr.decode_target(members[scene])
    mean = sr.decode_target(preds["mean"][scene])
    spread = np.std(np.asarray(jnp.stack([mem[v] for v in sr.CONTINUOUS])), axis=1, ddof=1)
    cols = ["condition", "truth", "deterministic", "member 1", "member 2", "ensemble mean", "ensemble spread"]
    rows = list(sr.CONTINUOUS) + ["phase"]
    size = (2.0 * len(cols), 2.0 * len(rows))
    with report.figure("scene", nrows=len(rows), ncols=len(cols), figsize=size) as (fig, axes):
        for i, var in enumerate(rows):
            cond = np.asarray(test.bt[scene, 1]) if i < 3 else np.asarray(test.condition[scene, 3])
            panels = [cond, t[var], d[var], mem[var][0], mem[var][1], mean[var]]
            flips = np.mean(np.asarray(mem["phase"]) != np.asarray(mean["phase"])[None], axis=0)
            panels.append(spread[i] if i < 3 else flips)
            vmin, vmax = (float(np.min(t[var])), float(np.max(t[var]))) if var != "phase" else (0, 2)
            for j, p in enumerate(panels):
                ax = axes[i, j]
                kw = {} if j in (0, 6) else {"vmin": vmin, "vmax": vmax}
                cmap = "tab10" if var == "phase" and 0 < j < 6 else "viridis"
                ax.imshow(np.asarray(p), cmap=cmap, **kw)
                ax.set_xticks([]), ax.set_yticks([])
                if i == 0:
                    ax.set_title(cols[j] if j else "BT 11.2 um (2 km)", fontsize=8)
            axes[i, 0].set_ylabel(var if var != "phase" else "phase (cond: cos VZA)", fontsize=8)
        fig.suptitle(f"synthetic scene {scene}: {config['members']}-member diffusion ensemble", fontsize=9)


def _spectra_figure(report, specs):
    with report.figure("power_spectra", ncols=3, figsize=(12, 3.8)) as (fig, axes):
        for ax, (var, spec) in zip(axes, specs.items()):
            for (method, (k, p)), style in zip(spec.items(), ("k-", "c:", "m:", "b--", "g-.", "r-")):
                ax.loglog(k, p, style, label=method, lw=1.5)
            ax.set(xlabel="wavenumber k [2 pi / n]", ylabel="P(k)", title=var)
        axes[0].legend(fontsize=8)


def _spread_figure(report, rel):
    """Reliability diagram: RMSE of the ensemble mean per spread bin (scene-bootstrap 68 % intervals)
    against the bin's RMS spread; dashed: a consistent ensemble, RMSE = sqrt((m+1)/m) spread."""
    with report.figure("spread_skill", ncols=3, figsize=(12, 3.8)) as (fig, axes):
        for ax, (var, r) in zip(axes, rel.items()):
            yerr = np.stack([r["rmse"] - r["rmse_low"], r["rmse_high"] - r["rmse"]])
            ax.errorbar(r["spread"], r["rmse"], yerr=yerr, xerr=r["spread_error"], fmt="o-", ms=4, capsize=2,
                        label=f"{r['m']}-member ensemble")
            lim = [0, float(np.nanmax([np.nanmax(r["spread"]), np.nanmax(r["rmse_high"])])) * 1.05]
            ax.plot(lim, [math.sqrt((r["m"] + 1) / r["m"]) * v for v in lim], "k--", lw=0.8, label="consistent")
            ax.set(xlabel=f"ensemble spread [{UNITS[var]}]", ylabel=f"RMSE of the ensemble mean [{UNITS[var]}]",
                   title=f"{var}: reliability, {len(r['rmse'])} spread bins")
        axes[0].legend(fontsize=8)


def _check(config: dict[str, Any]) -> str | None:
    f = config["factor"]
    pool = 2 ** (config["levels"] - 1)
    if config["size"] % (f * pool) or config["size"] < 4:
        return (f"--size={config['size']} must be divisible by factor * 2**(levels-1) = {f * pool} (the coarse grid "
                "and the U-Net pooling)")
    if config["lattice"] and config["lattice_L"] % (f * pool):
        return f"--lattice-L={config['lattice_L']} must be divisible by factor * 2**(levels-1) = {f * pool}"
    if config["batch"] > config["n_train"]:
        return f"--batch={config['batch']} must be <= --n-train={config['n_train']}"
    if config["members"] < 2:
        return f"--members={config['members']} must be >= 2 (spread and CRPS need two members)"
    if not 0 <= config["p_uncond"] < 1:
        return f"--p-uncond={config['p_uncond']} must be in [0, 1)"
    if config["guidance"] > 0 and config["p_uncond"] == 0:
        return f"--guidance={config['guidance']} needs a model trained with --p-uncond > 0"
    if config["lattice"] and config["lattice_samples"] < 64:
        return f"--lattice-samples={config['lattice_samples']} must be >= 64"
    return None


def _int_at_least(n):
    return lambda v: None if v >= n else f"must be >= {n}"


WORKFLOW = register(
    Workflow(
        name="superres",
        description="conditional diffusion super-resolution with 30-member ensembles (CloudDiff on synthetic cloud "
        "scenes) against a regression U-Net and bicubic; phi^4 coarse -> fine on the two-point function",
        run=run,
        check=_check,
        params=(
            Param("size", 32, "fine grid points per side (1 km pixels)", quick=16, check=_int_at_least(4)),
            Param("factor", 2, "coarse-graining factor (2 km -> 1 km)", check=positive),
            Param("n_train", 2048, "training scenes", check=positive),
            Param("n_test", 64, "held-out test scenes", quick=24, check=positive),
            Param("width", 16, "U-Net channels at the finest level", quick=16, check=positive),
            Param("levels", 2, "U-Net levels (pooling factor 2**(levels-1))", check=positive),
            Param("train_steps", 6000, "diffusion training steps", quick=1500, check=positive),
            Param("reg_steps", 3000, "regression training steps", quick=600, check=positive),
            Param("batch", 32, "training batch size", check=positive),
            Param("lr", 2e-3, "peak learning rate (warmup + cosine decay)", check=positive),
            Param("residual", True, "the diffusion model learns target - regression output (CorrDiff); "
                  "false: the target itself"),
            Param("p_uncond", 0.1, "condition dropout probability (classifier-free guidance training)",
                  check=nonnegative),
            Param("guidance", 0.0, "classifier-free guidance weight w of the sampler", check=nonnegative),
            Param("members", 30, "ensemble members per scene", check=positive),
            Param("sample_steps", 18, "Heun steps (2 score evaluations each, + 1 denoising)",
                  check=positive),
            Param("n_boot", 2000, "scene-bootstrap replicates of the ratios' errors", check=_int_at_least(2)),
            Param("lattice", True, "also run the phi^4 lattice super-resolution"),
            Param("lattice_L", 16, "phi^4 lattice size", quick=8, check=_int_at_least(4)),
            Param("lattice_kappa", 0.27, "phi^4 hopping parameter", check=nonnegative),
            Param("lattice_lam", 0.022, "phi^4 quartic coupling", check=nonnegative),
            Param("lattice_samples", 2048, "HMC configurations (8 chains; the last quarter held out)", quick=512),
            Param("lattice_width", 16, "lattice U-Net channels at the finest level", quick=8, check=positive),
            Param("lattice_train_steps", 3000, "lattice diffusion training steps", quick=600, check=positive),
            Param("lattice_sample_steps", 36, "Heun steps of the lattice sampler (18 left a 1.9 % bias of C(0) in "
                  "quick mode, a discretisation error)", check=positive),
        ),
    )
)
