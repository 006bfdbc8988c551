r"""`u1-diffusion`: a diffusion model of 2D U(1) gauge theory trained at a small coupling and
sampled at larger ones by physics conditioning, against the exact finite-volume results and
against HMC, which freezes topology at large $\beta$ (DM4U1).

The library pieces are in `dphys.generative.u1` (score, conditioning, samplers, refinement,
training, ensembles), `dphys.lattice.u1` (the noised-plaquette physics, `tau_q`),
`dphys.nn.gauge` (the plaquette network) and `dphys.diffusion.wrapped`; this module keeps the
parameters, the run and the figures.

1. HMC ensemble at $\beta_{train}$ (default 1, L = 16) of $S = -\beta\sum_P\cos\theta_P$
   (`u1_hmc_ensemble`, through `dphys.mcmc.adapted_ensemble`).
2. Score model `dphys.generative.U1Score` (plaquette network, exactly gauge invariant)
   on wrapped VE noise ($s \in$ [`s_min`, `s_max`]), trained by wrapped denoising score matching
   (`u1_dsm_loss`) with `dphys.fit` on batches augmented by random gauge transformations
   (checkpoints in `out/checkpoints`).
3. For every target $\beta$ (`--betas`): `ConditionedU1Score`: the analytic physics field of the
   score (the noised one-plaquette field with the correlations of the plaquette noise, and the
   global topological term) evaluated at the target $\beta$, the residual learned at
   $\beta_{train}$ kept or rescaled (`--conditioning`), the exact drift at small noise; the reverse
   SDE (`--sampler em|pc`, `--steps`), then `--n-refine` HMC trajectories at the exact target action
   from every sample (`hmc_refine`). Reported: plaquette, Wilson loops, $\chi_t$ with errors
   against `u1_exact` (deviations in standard errors) for the refined samples (`*_diff`) and the raw
   diffusion samples (`*_raw`); the same for HMC chains at that $\beta$ from an ordered start
   (`*_hmc`); the integrated autocorrelation time of $Q$ for both (for HMC a lower bound, flagged,
   when the chains are shorter than 50 $\tau$ or frozen); the cost per independent configuration
   (time per sample $\times 2\tau_{int}(Q)$) and its ratio. With `--n-mh` > 0, also an exact
   independence Metropolis at the target action: `--n-mh` Heun proposals (`--mh-steps` steps) of
   the conditioned score with their exact density on the torus (`u1_proposals`); reported:
   acceptance, effective sample size fraction of the weights p/q, distinct states, and the
   corrected observables (`*_mh`) when at least 20 proposals were accepted. With
   `--dm4u1-levels` > 0, also DM4U1's own conditioning for comparison (`*_dm4u1` refined,
   `*_dm4u1_raw`): the whole learned score (physics field at $\beta_{train}$ plus residual) times
   $\beta/\beta_{train}$, sampled by annealed Langevin dynamics (`--dm4u1-levels` noise levels,
   `--n-langevin` steps each, Metropolis-adjusted at the exact target action below
   `--s-metropolis`), then the same refinement.
4. Figures: $\chi_t(\beta)$ (exact curve, diffusion, HMC, DM4U1), $Q$ histories at the largest $\beta$.

How exact, honestly: the refinement equilibrates the local fluctuations at the target action, but
at large $\beta$ it cannot change $Q$, so the topological sector weights are those of the
diffusion stage, and these come from an approximate score; `chi_t_*_diff_dev_sigma` measures them
against the exact value.

Measured, full mode (L = 16, seed 0, 18 min wall on 2 cores shared with a second run; training
5.3 min), at commit a4f3b63, before the HMC recipe moved to `mcmc.adapted_ensemble` (which
draws other random numbers, so the training data and every figure below changed; not re-run
since, and without the DM4U1 comparison; `tests/workflows/test_u1_diffusion.py` has it as a
slow test asserting 3 sigma):

| beta | plaquette, diffusion + refine | chi_t, diffusion + refine | chi_t, raw diffusion | chi_t, HMC (ordered start) |
|---|---|---|---|---|
| 3 | 0.8097(5), 0.6 sigma | 0.0110(5), 0.1 sigma | 0.0097(4), 3.3 sigma | 0.0110(4), 0.2 sigma |
| 5 | 0.8934(3), 0.2 sigma | 0.0057(2), 0.1 sigma | 0.0055(2), 1.1 sigma | 0.0060(11), tau_int >= 187 |
| 7 | 0.9256(2), 0.2 sigma | 0.0040(2), 0.3 sigma | 0.0040(2), 0.2 sigma | 0.00006(6), 69 sigma: frozen |

(exact: plaquette 0.8100, 0.8934, 0.9255; chi_t 0.01106, 0.00576, 0.00393). The raw samples'
plaquette is 44-49 sigma low: the analytic field is only approximately the score at intermediate
noise, and the short refinement fixes the local fluctuations; the charge distribution, which it
cannot fix at $\beta = 7$, is right already in the raw samples. The global topological term is
what makes it right: without it (`--topological false`, or `examples/u1_diffusion.py`) every
local score gives $\chi_t \approx 0.045$ at every $\beta$ (L = 8). Seed 1 (run at the same
time): plaquette 0.7, 1.1, 1.4 sigma, chi_t 0.0112(5), 0.0057(3), 0.0042(2), i.e. 0.2, 0.2, 1.1
sigma; HMC at beta = 7: chi_t 0.0005(4), 7.8 sigma off.

Full mode after the split (seed 0, 36 min wall at load 3-10, training 14.7 min; asserted by the
slow test `test_full_mode_agrees_and_hmc_freezes`): refined plaquette 0.80949(51), 0.89339(28),
0.92539(20) (0.96, 0.02, 0.72 sigma), chi_t 0.01085(46), 0.00564(23), 0.00404(17) (0.46, 0.50,
0.65 sigma); DM4U1's conditioning: plaquette within 1.5 sigma, chi_t 0.01181(54), 0.00928(37),
0.00915(39) (1.4, 9.6, 13.3 sigma); HMC at beta = 7: chi_t 0.00047(45), 0.12 of exact, tau_int(Q)
>= 2000 (frozen); cost ratio HMC/diffusion at beta = 7 2.04 (400 steps; HMC tau a lower bound).

`--quick` (L = 8, 256 samples per beta, seed 0; asserted by the slow test
`test_quick_mode_agrees_with_the_exact_values`): refined plaquette 0.2, 1.2, 0.4 sigma and chi_t
0.0123(10), 0.0060(4), 0.0044(5) against 0.0111, 0.0056, 0.0034 (1.2, 0.8, 1.9 sigma) at beta = 3,
5, 7. DM4U1's conditioning (annealed Langevin, 100 levels x 2 steps, same refinement): plaquette
1.0, 1.1, 2.4 sigma, chi_t 0.0117(11), 0.0115(9), 0.0118(13): right at beta = 3 (0.5 sigma) but 2.0
and 3.5 times the exact value at beta = 5, 7 (6.2, 6.7 sigma): scaling the whole score by
beta/beta_train is exact only at zero noise, and the charge, which is decided at intermediate noise,
comes out with chi_t near 0.012 from beta = 3 to 7, where the physics field at the target beta (with
its topological term) follows the exact decrease. With 100 EM steps instead of 200 (`--steps 100`)
the refined chi_t is 0.0103(10), 0.0058(5), 0.0040(5) (0.8, 0.4, 1.4 sigma) and the plaquette within
2.0 sigma. The exact Metropolis there (128 Heun proposals of 10 steps) accepts 8%, 10%, 4%: the raw
samples' local fluctuations are too far from the target for it; proposals through a folding Heun
step (det J <= 0, where the single-term density is wrong) are rejected (`*_mh_folded_fraction`); the
chains' tau_int (of the plaquette) are reported as `*_mh_tau_int`.

Cost per independent configuration at $\beta = 7$ (training not counted), full mode at a4f3b63:
the HMC chains change $Q$ twice in 16,000 trajectories, so their $\tau_{int}(Q) \ge 2667$ is a
lower bound, and the measured ratio HMC/diffusion of 2.2 (seed 1: 1.6) is a lower bound on
diffusion's advantage, far from the 10x of the target, because the score network costs 6.3 of
the 6.9 ms of a score evaluation (16 configurations). benchmarks/bench_u1_diffusion.py measures
diffusion/HMC in one run (16x16, `--quick` on a machine at load 13): 2.89 with 400 EM steps,
0.40 with 100 (`--steps 100`: as good as 200 at L = 8, see above), 0.85 for DM4U1's annealed
Langevin (100 levels x 2 steps), 0.23 with the analytic physics field alone and 100 steps
(`--conditioning drop --steps 100`; at L = 16, 1024 samples refined, it gave chi_t within 1.5
sigma and the plaquette within 2.7 sigma at beta = 3, 5, 7 before the split); idle, before: 0.95
(400 steps) and 0.09 (physics field). So the network sampler is cheaper than HMC per
independent configuration with 100 steps, by at least 2.5x.

Run time: `--quick` 73 s wall idle before the DM4U1 comparison was added; with it 110 s (in the
slow test, load falling to 2) and 5.0 min wall on a machine at load 13 (2 cores);
`--dm4u1-levels 0` leaves it out.
"""

from __future__ import annotations

import math
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from dphys.generative.u1 import (
    CONDITIONING_MODES,
    diffusion_ensemble,
    train_u1_score,
    u1_exact_metropolis,
    u1_hmc_ensemble,
)
from dphys.lattice.exact import u1_exact
from dphys.lattice.u1 import plaquette, tau_q, u1_observables
from dphys.report import Report
from dphys.stats import integrated_autocorrelation_time
from dphys.workflows import Param, Workflow, positive, register

LOOPS = ((1, 1), (1, 2), (2, 2))
OBSERVABLES = ("plaquette", "wilson_1x2", "wilson_2x2", "chi_t")


def parse_betas(text: str) -> list[float]:
    """Comma-separated positive couplings -> list of floats; ValueError naming the bad entry."""
    out = []
    for item in str(text).split(","):
        try:
            b = float(item)
        except ValueError:
            raise ValueError(f"--betas entry {item!r} is not a number") from None
        if not (math.isfinite(b) and b > 0):
            raise ValueError(f"--betas entry {item!r}: expected a finite beta > 0")
        out.append(b)
    if not out:
        raise ValueError("--betas is empty")
    return out


def _betas_check(text: str) -> str | None:
    try:
        parse_betas(text)
    except ValueError as e:
        return str(e)
    return None


def exact_metropolis(report: Report, tag: str, score, beta: float, exact: dict, key, config) -> None:
    """Report the exact independence Metropolis of `u1_exact_metropolis` at `beta`: acceptance, ESS
    fraction of the weights p/q, distinct states, folded fraction, the chain's tau_int (of the
    plaquette) and the corrected observables against `exact` when at least 20 proposals were accepted."""
    mh = u1_exact_metropolis(score, beta, key, n=config["n_mh"], steps=config["mh_steps"], s_exact=config["s_exact"],
                             mode=config["conditioning"], progress=f"u1-diffusion exact Metropolis, beta = {beta:g}")
    report.add(f"{tag}_mh_folded_fraction", mh.folded_fraction)
    report.add(f"{tag}_mh_acceptance", mh.acceptance)
    report.add(f"{tag}_mh_ess_fraction", mh.ess_fraction)
    report.add(f"{tag}_mh_distinct_states", mh.distinct_states)
    series = np.asarray(jax.vmap(plaquette)(jnp.asarray(mh.chain)), np.float64)
    if np.ptp(series) > 0:  # a chain that never moved has no autocorrelation time
        tau = integrated_autocorrelation_time(series)
        report.add(f"{tag}_mh_tau_int", tau.tau, tau.error, unit="proposals")
    if mh.acceptance * (len(mh.chain) - 1) >= 20:
        compare_exact(report, f"{tag}_mh", u1_observables(mh.chain, LOOPS), exact)


def compare_exact(report: Report, label: str, est: dict, exact: dict) -> dict[str, float]:
    """Add each observable of `est` (from `u1_observables`) with its exact reference and the deviation
    in standard errors; returns {name: deviation} (NaN when the error is unknown)."""
    devs = {}
    for name in OBSERVABLES:
        e = est[name]
        report.add(f"{name}_{label}", e.value, e.error if math.isfinite(e.error) else None, exact[name])
        dev = abs(e.value - exact[name]) / e.error if (math.isfinite(e.error) and e.error > 0) else float("nan")
        if math.isfinite(dev):
            report.add(f"{name}_{label}_dev_sigma", dev)
        devs[name] = dev
    return devs


def _tag(beta: float) -> str:
    return f"b{beta:g}".replace(".", "p")


def run(config: dict[str, Any], report: Report) -> None:
    L, key = config["L"], jax.random.PRNGKey(config["seed"])
    beta0 = config["beta_train"]
    betas = parse_betas(config["betas"])
    k_hmc, k_train, k_gen, k_ref = jax.random.split(key, 4)
    k_mh = jax.random.fold_in(key, 4)
    k_dm = jax.random.fold_in(key, 5)

    # 1. training ensemble
    hmc, acc, step, _ = u1_hmc_ensemble(beta0, L, chains=config["chains"], samples=config["samples"],
                                        therm=config["therm"], n_leapfrog=config["n_leapfrog"], key=k_hmc)
    report.add("train_hmc_acceptance", acc)
    exact0 = u1_exact(beta0, L, LOOPS)
    obs0 = u1_observables(hmc, LOOPS)
    compare_exact(report, "train_hmc", obs0, exact0)

    # 2. training
    t0 = time.perf_counter()
    score, result = train_u1_score(hmc.reshape(-1, 2, L, L), beta0, width=config["width"], depth=config["depth"],
                                   s_min=config["s_min"], s_max=config["s_max"], steps=config["train_steps"],
                                   batch_size=config["batch"], lr=config["lr"], key=k_train,
                                   checkpoint_dir=report.out_dir / "checkpoints", topological=config["topological"])
    report.add("train_seconds", time.perf_counter() - t0, unit="s")
    tail = result.losses[-max(1, len(result.losses) // 10):]
    report.add("final_loss", np.mean(tail), np.std(tail) / math.sqrt(len(tail)))

    # 3. target couplings
    rows = []
    for i, beta in enumerate(tqdm(betas, desc="u1-diffusion betas")):
        tag = _tag(beta)
        exact = u1_exact(beta, L, LOOPS)
        raw, refined, acc_ref, sec_diff = diffusion_ensemble(
            score, beta, jax.random.fold_in(k_gen, i), n=config["n_gen"], sampler=config["sampler"],
            steps=config["steps"], n_corrector=config["n_corrector"], s_exact=config["s_exact"],
            mode=config["conditioning"], n_refine=config["n_refine"])
        dm4u1 = None
        if config["dm4u1_levels"] > 0:  # DM4U1's conditioning and sampler, the same refinement
            dm4u1 = diffusion_ensemble(
                score, beta, jax.random.fold_in(k_dm, i), n=config["n_gen"], sampler="annealed",
                steps=config["dm4u1_levels"], s_exact=config["s_exact"], mode="dm4u1", n_refine=config["n_refine"],
                n_langevin=config["n_langevin"], s_metropolis=config["s_metropolis"])
            compare_exact(report, f"{tag}_dm4u1_raw", u1_observables(dm4u1.raw, LOOPS), exact)
            compare_exact(report, f"{tag}_dm4u1", u1_observables(dm4u1.refined, LOOPS), exact)
            report.add(f"{tag}_dm4u1_seconds_per_config", dm4u1.seconds, unit="s")
        obs_raw, obs_diff = u1_observables(raw, LOOPS), u1_observables(refined, LOOPS)
        compare_exact(report, f"{tag}_raw", obs_raw, exact)
        devs = compare_exact(report, f"{tag}_diff", obs_diff, exact)
        if config["n_refine"] > 0:
            report.add(f"{tag}_refine_acceptance", acc_ref)
        tau_d, tau_d_err, _ = tau_q(obs_diff["Q_history"])
        report.add(f"{tag}_tau_int_Q_diff", tau_d, tau_d_err if math.isfinite(tau_d_err) else None)

        if config["n_mh"] > 0:
            exact_metropolis(report, tag, score, beta, exact, jax.random.fold_in(k_mh, i), config)

        hmc_b, acc_b, _, sec_traj = u1_hmc_ensemble(beta, L, chains=config["hmc_chains"],
                                                    samples=config["hmc_samples"], therm=config["therm"],
                                                    n_leapfrog=config["n_leapfrog"], key=jax.random.fold_in(k_ref, i),
                                                    start="ordered")
        obs_hmc = u1_observables(hmc_b, LOOPS)
        compare_exact(report, f"{tag}_hmc", obs_hmc, exact)
        report.add(f"{tag}_hmc_acceptance", acc_b)
        tau_h, tau_h_err, lower = tau_q(obs_hmc["Q_history"])
        report.add(f"{tag}_tau_int_Q_hmc", tau_h, tau_h_err if math.isfinite(tau_h_err) else None)
        report.add(f"{tag}_tau_int_Q_hmc_is_lower_bound", float(lower))
        cost_d, cost_h = sec_diff * 2 * tau_d, sec_traj * 2 * tau_h
        report.add(f"{tag}_cost_per_indep_diff", cost_d, unit="s")
        report.add(f"{tag}_cost_per_indep_hmc", cost_h, unit="s")
        report.add(f"{tag}_cost_ratio_hmc_over_diff", cost_h / cost_d)
        rows.append(dict(beta=beta, exact=exact, diff=obs_diff, raw=obs_raw, hmc=obs_hmc, dev=devs,
                         dm4u1=None if dm4u1 is None else u1_observables(dm4u1.refined, LOOPS),
                         q_diff=obs_diff["Q_history"], q_hmc=obs_hmc["Q_history"]))

    _figures(report, rows, L, beta0)


def _figures(report: Report, rows, L: int, beta0: float):
    grid = np.linspace(0.5, max(r["beta"] for r in rows) * 1.1, 60)
    with report.figure("chi_t_vs_beta") as (fig, ax):
        ax.plot(grid, [u1_exact(b, L)["chi_t"] for b in grid], "k-", lw=1, label=f"exact (L={L})")
        series = [("diff", "o", "diffusion + HMC refine"), ("raw", "s", "diffusion (raw)"),
                  ("hmc", "^", "HMC (ordered start)")]
        if rows[0]["dm4u1"] is not None:
            series.append(("dm4u1", "D", "DM4U1 conditioning + refine"))
        for key, fmt, label in series:
            b = np.array([r["beta"] for r in rows]) * (1 + 0.01 * "o s ^ D".index(fmt))
            v = np.array([r[key]["chi_t"].value for r in rows])
            e = np.nan_to_num(np.array([r[key]["chi_t"].error for r in rows]))
            ok = v > 0
            line = ax.errorbar(b[ok], v[ok], e[ok], fmt=fmt, ms=5, capsize=2, label=label)
            if not ok.all():  # chi_t = 0 (every chain frozen at Q = 0): a marker at the bottom edge
                floor = 0.5 * u1_exact(grid[-1], L)["chi_t"]
                ax.plot(b[~ok], np.full((~ok).sum(), floor), "v", ms=8, color=line[0].get_color(),
                        label=f"{label}: chi_t = 0 (frozen)")
        ax.axvline(beta0, color="gray", ls=":", lw=1, label=rf"$\beta_{{train}}$ = {beta0:g}")
        ax.set(yscale="log", xlabel=r"$\beta$", ylabel=r"$\chi_t = \langle Q^2\rangle/V$",
               title=f"2D U(1), {L}x{L}: topological susceptibility")
        ax.legend(fontsize=8)
    last = rows[-1]
    with report.figure("q_history", ncols=2, figsize=(10, 3.5)) as (fig, axes):
        q = np.asarray(last["q_hmc"])
        axes[0].plot(q if q.ndim == 1 else q[:, : min(4, q.shape[1])], lw=0.8)
        axes[0].set(xlabel="HMC trajectory", ylabel="Q", title=rf"HMC at $\beta$ = {last['beta']:g}")
        axes[1].plot(np.asarray(last["q_diff"]), ".", ms=3)
        axes[1].set(xlabel="diffusion sample", ylabel="Q", title=rf"diffusion at $\beta$ = {last['beta']:g}")


def _check(config: dict[str, Any]) -> str | None:
    if config["s_min"] >= config["s_max"]:
        return f"--s-min={config['s_min']} must be < --s-max={config['s_max']}"
    return None


WORKFLOW = register(
    Workflow(
        name="u1-diffusion",
        description="2D U(1): diffusion model trained at small beta, conditioned on larger beta, vs exact "
        "results and frozen HMC (chi_t, plaquette, Wilson loops, tau_int(Q), cost per independent config)",
        run=run,
        check=_check,
        params=(
            Param("L", 16, "lattice size L (L x L)", quick=8, check=lambda v: None if v >= 3 else "must be >= 3"),
            Param("beta_train", 1.0, "coupling of the training ensemble", check=positive),
            Param("betas", "3,5,7", "target couplings (comma-separated, > 0)", check=_betas_check),
            Param("chains", 16, "HMC chains of the training ensemble", quick=8, check=positive),
            Param("samples", 500, "HMC samples per chain (training ensemble)", quick=150, check=positive),
            Param("therm", 200, "HMC thermalisation trajectories (step size adapts)", quick=60, check=positive),
            Param("n_leapfrog", 10, "leapfrog steps per trajectory", check=positive),
            Param("width", 32, "channels of the plaquette network", quick=16, check=positive),
            Param("depth", 4, "convolution blocks of the plaquette network", quick=3, check=positive),
            Param("s_min", 0.01, "smallest link noise (radians)", check=positive),
            Param("s_max", 3.0, "largest link noise (radians; plaquette noise 2 s_max)", check=positive),
            Param("train_steps", 4000, "training steps", quick=500, check=positive),
            Param("batch", 64, "training batch size", check=positive),
            Param("lr", 2e-3, "peak learning rate", check=positive),
            Param("topological", True, "the global topological term in the physics field of the score "
                  "(false: an ablation)"),
            Param("conditioning", "keep", "factor on the learned residual at the target beta (the physics field is "
                  "always evaluated there)", choices=tuple(CONDITIONING_MODES)),
            Param("s_exact", 0.05, "noise below which the exact target drift takes over (0: off)",
                  check=lambda v: None if v >= 0 else "must be >= 0"),
            Param("sampler", "em", "reverse sampler (pc: Langevin corrector at every step)", choices=("em", "pc")),
            Param("steps", 400, "reverse-SDE steps", quick=200, check=positive),
            Param("n_corrector", 1, "Langevin corrector steps per step (sampler pc)", check=positive),
            Param("n_gen", 1024, "diffusion samples per target beta", quick=256, check=positive),
            Param("n_refine", 10, "HMC trajectories at the target beta from each diffusion sample (0: none)",
                  check=lambda v: None if v >= 0 else "must be >= 0"),
            Param("n_mh", 0, "Heun proposals of the exact independence Metropolis at each target beta (0: none; "
                  "off in full mode: at L = 16 each proposal costs seconds)", quick=128,
                  check=lambda v: None if v == 0 or v >= 2 else "must be 0 or >= 2"),
            Param("mh_steps", 10, "Heun steps of those proposals (their density costs 2 L^2 JVPs per evaluation)",
                  check=positive),
            Param("dm4u1_levels", 100, "noise levels of DM4U1's annealed Langevin sampler for the comparison "
                  "mode (the whole learned score times beta/beta_train; 0: no comparison)",
                  check=lambda v: None if v >= 0 else "must be >= 0"),
            Param("n_langevin", 2, "Langevin steps per noise level (DM4U1 comparison)", check=positive),
            Param("s_metropolis", 0.05, "link noise below which the DM4U1 Langevin steps are Metropolis-adjusted "
                  "at the exact target action (radians)", check=lambda v: None if v >= 0 else "must be >= 0"),
            Param("hmc_chains", 8, "HMC chains at each target beta (ordered start)", quick=4, check=positive),
            Param("hmc_samples", 2000, "HMC trajectories per chain at each target beta", quick=400,
                  check=lambda v: None if v >= 20 else "must be >= 20"),
        ),
    )
)
