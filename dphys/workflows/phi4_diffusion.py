r"""`phi4-diffusion`: a score-based diffusion model of 2D $\phi^4$ theory trained on an HMC ensemble,
compared with an independent HMC ensemble, and corrected to exactness by independence Metropolis (diffusion
models as stochastic quantisation, the DMasSQ setup).

1. Two independent HMC ensembles of $S = \sum_x[-2\kappa\sum_\mu\phi_x\phi_{x+\mu} +
   (1-2\lambda)\phi_x^2 + \lambda\phi_x^4]$ (default $L = 16$, $\kappa = 0.27$, $\lambda = 0.022$, near the
   transition; the diffusion papers' points are `--L 32 --kappa 0.21` (symmetric) and
   `--L 32 --kappa 0.5` (broken)): the training set, and a reference (another key, its own
   `--ref-chains` x `--ref-samples`) that every comparison below uses, so that the two sides
   of a comparison are independent. Each has its integrated autocorrelation time (the largest
   of $|M|$, $M^2$, $S$) and jackknife blocks of at least $4\tau_\text{int}$
   (`dphys.generative.phi4.phi4_estimates`); `*_hmc_vs_ref_dev_sigma` checks the errors.
2. Score model: `dphys.nn.LatticeUNet` (FFT circular convolutions, exactly odd under
   $\phi\to-\phi$ with `--z2-odd`) in `dphys.diffusion.ScoreModel` on Song's VE SDE
   $dx = \sigma^t dW$ ($\sigma = 25$; or, `--process edm`, the EDM noise levels with EDM
   preconditioning and loss weighting), trained by denoising score matching (`dsm_loss`) with
   `dphys.fit` (checkpoints in `out/checkpoints`). Training batches are augmented by random
   lattice translations and $\phi\to-\phi$, symmetries of $S$.
3. Samples from the reverse process (`--sampler em|pc|ode|heun`), compared with the reference:
   $\langle|M|\rangle$, $\chi_2 = V(\langle M^2\rangle - \langle M\rangle^2)$, the Binder cumulant
   $U_L = 1 - \langle M^4\rangle/(3\langle M^2\rangle^2)$, the action density, the connected
   two-point function, each with jackknife errors (`dphys.lattice.phi4_observables`); the
   deviation of each from the reference in combined standard errors (`*_dev_sigma`).
4. Exactness: proposals corrected by independence Metropolis towards $e^{-S}$
   (`dd.metropolis_correct`) with their exact density $q$: by default (`--mh-proposals heun`)
   Heun samples and the density of the Heun map itself (`dd.sample_with_log_density`: the
   log-determinant of each step's Jacobian, no tolerance involved), or PF-ODE samples and their
   PF-ODE likelihood (`dd.log_likelihood` with the exact divergence, exact up to the
   ODE tolerance); acceptance and corrected observables.
5. Stochastic quantisation: the reverse-process trajectory of one configuration next to a
   Langevin trajectory $d\phi = -\partial S/\partial\phi\,d\tau + \sqrt2\,dW$
   (`dphys.lattice.langevin_chain`), which samples the same $e^{-S}$ in the limit $\tau\to\infty$
   where the diffusion model gets there in unit time with a learned drift.
6. Quality per cost (`--cost-study`): $\langle|M|\rangle$ and $\chi_2$ against HMC for
   Euler-Maruyama, Heun and the PF-ODE at increasing numbers of score evaluations; reported: the
   fewest evaluations per sample with which each sampler agrees with HMC within `--agree-sigma`
   combined standard errors (at that budget and all larger ones of the ladder), and the ratio.

Which process for which sampler (L = 8, kappa = 0.27, 1024 samples against 16,000 HMC
configurations, deviations of <|M|> and chi_2 in combined standard errors, measured with
the functions of this module): trained 6000 steps on the VE SDE, Heun and the PF-ODE stay 7.4-7.7
sigma off at any budget (the model's bias; EM 1.3-5 sigma); trained on EDM, Heun is within 0.2
sigma at 20 steps (40 evaluations) and the PF-ODE within 0.5 sigma, while EM is 2.1-6 sigma off
at 100-400 steps. Through the workflow, `--quick --process edm --train-steps 6000 --cost-study
--n-cost 1024 --samples 2000 --em-ladder 25,50,100,200,400,800 --heun-ladder 5,10,20,40` (16,000
HMC configurations, which are also the training data): EM is 9.8, 2.3, 2.2, 2.1, 0.2 and 0.4
sigma off at 25-800 steps, so it agrees within 2 sigma from 400 evaluations; Heun is 13.5, 4.0,
3.6 and 0.5 sigma off at 10-80 evaluations, so it agrees from 80; ratio 80/400 = 0.2, the 1/5
aimed at (with no margin: EM at 50-200 steps is only just outside 2 sigma). The PF-ODE at rtol
1e-2..1e-4 (109-192 evaluations) is 1.6-2.4 sigma off. With `--seed 1` (another HMC ensemble,
network and samples): EM 10.4, 7.8, 2.6, 1.2, 0.9, 0.2 sigma, agreeing from 200 steps; Heun 16.7,
4.3, 1.5, 1.3 sigma, agreeing from 40 evaluations; ratio 0.2 again. With the workflow's default quick
reference (2000 configurations) EM agreed from 50 steps and Heun from 80 evaluations (ratio 1.6):
the comparison needs a reference precise enough to see EM's bias.

7. Autocorrelation across the transition (`--kappa-scan`, arXiv:2412.13704's argument that the
   diffusion-Metropolis chain does not slow down where HMC does): at `--scan-L` and each of
   `--scan-kappas`, an HMC ensemble, a model trained on it, Heun proposals with their exact
   density and the Metropolis chain; $\tau_\text{int}$ (the larger of $|M|$ and $M^2$) of both,
   in trajectories and in proposals, and the seconds per independent sample $2\tau_\text{int}
   \times$ seconds per step (HMC timed warm, the second half of the proposals timed; training not
   counted), figure `kappa_scan`.

Measured with the independent reference (seed 0; asserted by tests/workflows/test_phi4_diffusion.py):
`--quick` (L = 8, VE, 1500 training steps, 256 EM samples of 100 steps, 48 Heun proposals; 135 s
wall on the loaded 2 cores): the two HMC ensembles have tau_int 3.8(8) and 3.6(7) trajectories and
agree within 1.0 sigma; the EM samples are within 2.7 sigma of the reference (<|M|> 2.3, chi_2 2.0,
U_L 1.8, S/V 2.7), the Metropolis chain (acceptance 0.64, 31 distinct states of 48, tau_int 0.9(5)
proposals) within 0.52 sigma. `--quick --kappa-scan` (L = 8, kappa 0.22-0.31, 500 HMC trajectories
x 8 chains, 1000 training steps and 96 proposals per kappa; 11 min wall on the loaded machine):
HMC's tau_int is 0.70(5), 0.94(8), 3.8(6), 0.72(5), 0.14(1) trajectories (critical slowing down at
kappa = 0.27; |M| and M^2 do not see tunnelling between the two vacua in the broken phase), the
chain's 1.1(5), 0.9(4), 2.1(1.2), 1.5(7), 5(4) proposals at acceptance 0.73, 0.60, 0.36, 0.37,
0.05: at kappa = 0.27 lower than HMC's but only by 1.3 sigma, and the model trained as briefly
loses the broken phase. Per independent sample the chain costs 0.6-3.5 s, HMC 4-42 us: 3e4 (at
kappa = 0.27) to 9e5 times more (wall-clock, moves with the load; the slow test asserts > 1e3),
because the exact density of the Heun map needs L^2 JVPs per
score evaluation (`benchmarks/bench_phi4_diffusion.py` times the same at kappa = 0.27). At L = 8
on a CPU the argument does not pay: HMC's tau_int is too short for the cheaper decorrelation to matter.
The default test runs L = 4 with the EDM process and Heun samples of 20 steps: Heun samples within
2.4 sigma, the Metropolis chain (acceptance 0.74) within 1.9 sigma of the reference.

The cost-study figures above and the full-mode figures below were measured before the independent
reference existed, against the training ensemble with 20 jackknife blocks regardless of tau_int; they are
not asserted by a test.

Full mode, the defaults with `--process edm --cost-study false` (L = 16, 16 x 1000 HMC
configurations, 4000 training steps, 1024 EM samples of 500 steps, 128 Metropolis proposals of 20
Heun steps), measured in two runs that resumed the same trained checkpoint (the EM part with 256
proposals of 10 steps, the Metropolis part with `--n-gen 64`; the keys make each part identical to
the defaults'): about 45 minutes on the 2 cores (training 9 min, EM sampling 6-9 min, the
proposals and their exact density 14 min: 6.4 s each). The Metropolis-corrected chain (acceptance
0.54, 70 distinct states of 128) agrees with HMC on <|M|> (0.69 +- 0.05 against 0.761 +- 0.008,
1.5 sigma), chi_2 (147 +- 15 against 172 +- 3, 1.6 sigma) and U_L (0.50 +- 0.04 against 0.532 +-
0.005, 0.8 sigma); its action density is 2.8 sigma high (0.411 +- 0.005 against 0.3965 +-
0.0008). The EM samples themselves are 3.0 sigma off in <|M|> (0.806 +- 0.013) and 3.7 sigma in
chi_2 (192 +- 5): the correction is doing real work. With 10 Heun steps per proposal the
acceptance was 4.3% (12 distinct states of 256): at L = 16 the discretisation of the Heun map,
not only the model, limits the overlap. `--L 32` takes hours on a CPU (an accelerator is advisable).
"""

from __future__ import annotations

import math
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from dphys.generative.phi4 import (
    OBSERVABLES,
    chain_tau,
    cost_per_independent,
    deviations,
    fewest_agreeing,
    hmc_seconds_per_trajectory,
    phi4_estimates,
    phi4_hmc_ensemble,
    phi4_metropolis,
    phi4_proposals,
    sample_phi4,
    train_phi4_score,
)
from dphys.lattice.langevin import langevin_chain
from dphys.lattice.phi4 import Phi4Action
from dphys.report import Report
from dphys.workflows import Param, Workflow, nonnegative, positive, register

SAMPLER_CHOICES = ("em", "pc", "ode", "heun")


def _compare(report: Report, label: str, est: dict, reference: dict) -> dict[str, float]:
    """Report `est` against the independent `reference`: value, error, the reference value and the
    deviation in combined standard errors (`deviations`)."""
    devs = deviations(est, reference)
    for name, dev in devs.items():
        report.add(f"{name}_{label}", est[name].value, est[name].error, reference[name].value)
        if math.isfinite(dev):
            report.add(f"{name}_{label}_dev_sigma", dev)
    return devs


def _channels(config):
    return tuple(config["width"] * 2**i for i in range(config["levels"]))


def _hmc(action, L, config, key, chains, samples, label):
    return phi4_hmc_ensemble(action, L, chains=chains, samples=samples, n_adapt=config["therm"], thin=config["thin"],
                             n_leapfrog=config["n_leapfrog"], key=key, progress=f"phi4-diffusion HMC ({label})")


def run(config: dict[str, Any], report: Report) -> None:
    L, key = config["L"], jax.random.PRNGKey(config["seed"])
    k_hmc, k_train, k_sample, k_mh, k_ref, k_traj, k_cost, k_scan = jax.random.split(key, 8)
    action = Phi4Action(kappa=config["kappa"], lam=config["lam"])

    # 1. HMC: the training ensemble, and an independent reference ensemble (another key, its own chains)
    hmc = _hmc(action, L, config, k_hmc, config["chains"], config["samples"], "training")
    ref = _hmc(action, L, config, k_ref, config["ref_chains"], config["ref_samples"], "reference")
    for label, ens in (("hmc", hmc), ("ref", ref)):
        report.add(f"{label}_acceptance", ens.acceptance)
        report.add(f"{label}_step_size", ens.step_size)
        report.add(f"{label}_tau_int", ens.tau, ens.tau_error, unit="kept samples")
    obs_hmc = phi4_estimates(hmc.samples, action, hmc.tau)
    obs_ref = phi4_estimates(ref.samples, action, ref.tau)
    for name in OBSERVABLES:
        report.add(f"{name}_hmc", obs_hmc[name].value, obs_hmc[name].error)
    # the two HMC ensembles against each other: a check of the errors themselves
    _compare(report, "hmc_vs_ref", obs_hmc, obs_ref)

    # 2. training on the training ensemble only
    data = hmc.samples.reshape(-1, L, L)
    score, result = train_phi4_score(data, channels=_channels(config), z2_odd=config["z2_odd"], sigma=config["sigma"],
                                     process=config["process"], steps=config["train_steps"],
                                     batch_size=config["batch"], lr=config["lr"], key=k_train,
                                     checkpoint_dir=report.out_dir / "checkpoints")
    tail = result.losses[-max(1, len(result.losses) // 10):]
    report.add("final_loss", np.mean(tail), np.std(tail) / math.sqrt(len(tail)))

    # 3. independent samples with the chosen sampler against the independent reference
    gen, info = sample_phi4(score, k_sample, L, config["n_gen"], config["sampler"], config["steps"],
                            rtol=config["ode_rtol"], save_every=max(1, config["steps"] // 10))
    report.add("score_evals_per_sample", info.n_score_evals)
    obs_gen = phi4_estimates(gen, action)
    _compare(report, "gen", obs_gen, obs_ref)

    # 4. Metropolis correction of Heun proposals (exact density of the Heun map) or PF-ODE ones;
    #    errors from jackknife blocks of >= 4 tau_int of the chain
    proposals, logq, mh_evals = phi4_proposals(score, k_mh, L, config["n_mh"], config["mh_proposals"],
                                               heun_steps=config["mh_steps"], rtol=config["ode_rtol"],
                                               progress="phi4-diffusion Metropolis proposals")
    mh = phi4_metropolis(k_mh, action, proposals, logq)
    report.add("mh_folded_fraction", mh.folded_fraction)  # log q = +inf: through a folding Heun step, rejected
    report.add("mh_acceptance", mh.acceptance)
    report.add("mh_score_evals_per_sample", mh_evals)
    report.add("mh_distinct_states", mh.n_distinct)
    if mh.tau is not None:
        report.add("mh_tau_int", mh.tau, mh.tau_error, unit="proposals")
    obs_mh = phi4_estimates(mh.chain, action, mh.tau)
    if mh.n_distinct >= 3:  # a chain stuck on one or two states has no error estimate: report none
        _compare(report, "mh", obs_mh, obs_ref)

    # 5. figures
    _figures(report, action, ref.samples, gen, mh.chain, obs_ref, obs_gen, obs_mh, config)
    _trajectories(report, action, score, info, k_traj, config)

    # 6. quality per cost
    if config["cost_study"]:
        _cost_study(report, score, action, obs_ref, k_cost, config)

    # 7. autocorrelation of the diffusion-Metropolis chain against HMC across the transition
    if config["kappa_scan"]:
        _kappa_scan(report, config, k_scan)


def _figures(report, action, hmc, gen, chain, obs_hmc, obs_gen, obs_mh, config):
    sampler = config["sampler"]
    m = {"HMC (reference)": np.asarray(hmc).mean(axis=(-2, -1)).ravel(),
         f"diffusion ({sampler})": gen.mean(axis=(-2, -1)),
         "diffusion + Metropolis": chain.mean(axis=(-2, -1))}
    s_of = jax.jit(jax.vmap(action))
    s = {k: np.asarray(s_of(jnp.asarray(v.reshape(-1, config["L"], config["L"])))) / config["L"] ** 2
         for k, v in (("HMC (reference)", hmc), (f"diffusion ({sampler})", gen), ("diffusion + Metropolis", chain))}
    for name, values, label in (("magnetisation_histogram", m, "M"), ("action_histogram", s, "S / V")):
        with report.figure(name) as (fig, ax):
            lo = min(v.min() for v in values.values())
            hi = max(v.max() for v in values.values())
            bins = np.linspace(lo, hi, 50)
            for (k, v), style in zip(values.items(), ("-", "--", ":")):
                ax.hist(v, bins=bins, density=True, histtype="step", ls=style, lw=1.5, label=k)
            ax.set(xlabel=label, ylabel="density",
                   title=rf"$\phi^4$, L={config['L']}, $\kappa$={config['kappa']}, $\lambda$={config['lam']}")
            ax.legend()
    with report.figure("two_point") as (fig, ax):
        t = np.arange(config["L"])
        for (k, obs), marker in zip((("HMC (reference)", obs_hmc), (f"diffusion ({sampler})", obs_gen),
                                     ("diffusion + Metropolis", obs_mh)), "osd"):
            ax.errorbar(t, obs["G"].value, obs["G"].error, fmt=marker, ms=4, capsize=2, label=k, alpha=0.8)
        ax.set(yscale="log", xlabel="t", ylabel=r"$G_c(t)$", title="connected two-point function")
        ax.legend()


def _trajectories(report, action, score, info, key, config):
    """Reverse diffusion of one configuration (from the saved trajectory) beside Langevin dynamics
    d phi = -dS/dphi dtau + sqrt(2) dW from a random start."""
    times, states = info.trajectory
    states = np.asarray(states)[:, 0]  # (n_saved, L, L): the first sample
    n_show = 6
    idx = np.linspace(0, len(times) - 1, n_show).round().astype(int)
    L = config["L"]
    dt, n_lang = 0.01, 200
    x0 = jax.random.normal(key, (L, L))
    lang = np.asarray(langevin_chain(action, jax.random.fold_in(key, 1), x0, dt=dt, n_samples=n_lang, thin=5))
    lidx = np.concatenate([[0], np.linspace(0, n_lang - 1, n_show - 1).round().astype(int)])
    lang_states = np.concatenate([np.asarray(x0)[None], lang])[np.concatenate([[0], lidx[1:] + 1])]
    lang_times = np.concatenate([[0.0], (lidx[1:] + 1) * 5 * dt])
    vmax = float(np.percentile(np.abs(np.concatenate([states[idx[-1]].ravel(), lang_states[-1].ravel()])), 99))
    with report.figure("trajectories", nrows=2, ncols=n_show, figsize=(2.0 * n_show, 4.6)) as (fig, axes):
        for j in range(n_show):
            a = axes[0, j]
            a.imshow(states[idx[j]], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            a.set_title(f"t={times[idx[j]]:.3g}\nM={states[idx[j]].mean():.2f}", fontsize=8)
            b = axes[1, j]
            b.imshow(lang_states[j], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            b.set_title(rf"$\tau$={lang_times[j]:.3g}" + f"\nM={lang_states[j].mean():.2f}", fontsize=8)
            a.set_xticks([]), a.set_yticks([]), b.set_xticks([]), b.set_yticks([])
        axes[0, 0].set_ylabel("reverse diffusion")
        axes[1, 0].set_ylabel("Langevin")
        fig.suptitle("reverse diffusion (learned score, t: 1 -> 0) vs stochastic quantisation (exact drift)",
                     fontsize=9)
    with report.figure("trajectory_magnetisation", ncols=2, figsize=(9, 3.5)) as (fig, axes):
        axes[0].plot(times, np.asarray(states).mean(axis=(-2, -1)), "o-", ms=3)
        axes[0].set(xlabel="diffusion time t", ylabel="M", title="reverse process (t decreasing)")
        axes[0].invert_xaxis()
        axes[1].plot(np.arange(1, n_lang + 1) * 5 * dt, lang.mean(axis=(-2, -1)), lw=1)
        axes[1].set(xlabel=r"Langevin time $\tau$", ylabel="M", title="Langevin (stochastic quantisation)")


def _cost_study(report, score, action, obs_hmc, key, config):
    L, n = config["L"], config["n_cost"]
    ladders = {
        "em": [("em", int(s), None) for s in config["em_ladder"].split(",")],
        "heun": [("heun", int(s), None) for s in config["heun_ladder"].split(",")],
        "ode": [("ode", config["steps"], float(r)) for r in config["ode_ladder"].split(",")],
    }
    budget = sum(len(v) for v in ladders.values())
    rows = {}
    with tqdm(total=budget, desc="phi4-diffusion cost study", disable=False) as bar:
        for family, ladder in ladders.items():
            rows[family] = []
            for i, (sampler, steps, rtol) in enumerate(ladder):
                x, info = sample_phi4(score, jax.random.fold_in(key, 100 * len(rows) + i), L, n, sampler, steps,
                                      rtol=rtol or 1e-4)
                obs = phi4_estimates(x, action)
                dev = max(deviations(obs, obs_hmc, ("abs_M", "chi2")).values())
                rows[family].append((info.n_score_evals, dev, obs))
                bar.update(1)
    agree = config["agree_sigma"]
    first = {}
    for family, entries in rows.items():
        evals = [e for e, _, _ in entries]
        first[family] = fewest_agreeing(evals, [d <= agree for _, d, _ in entries])
        for e, d, _ in entries:
            report.add(f"cost_{family}_{int(round(e))}_dev_sigma", d)
        if first[family] is not None:
            report.add(f"cost_{family}_evals_to_agree", first[family])
    deterministic = [first[f] for f in ("heun", "ode") if first[f] is not None]
    if first["em"] is not None and deterministic:
        report.add("cost_ratio_deterministic_over_em", min(deterministic) / first["em"])
    with report.figure("quality_per_cost") as (fig, ax):
        for (family, entries), marker in zip(rows.items(), "osd"):
            ax.plot([e for e, _, _ in entries], [d for _, d, _ in entries], marker + "-", label=family)
        ax.axhline(agree, color="k", lw=0.8, ls="--", label=f"{agree} sigma")
        ax.set(xscale="log", yscale="log", xlabel="score evaluations per sample",
               ylabel=r"max deviation of $\langle|M|\rangle$, $\chi_2$ from HMC [sigma]",
               title="quality per cost")
        ax.legend()


def _kappa_scan(report, config, key):
    """tau_int (the larger of |M| and M^2) and seconds per independent sample of HMC and of the
    diffusion-Metropolis chain (a model trained per kappa on that kappa's HMC ensemble, Heun
    proposals with their exact density) at fixed L across the transition."""
    L, n_mh = config["scan_L"], config["scan_n_mh"]
    kappas = [float(v) for v in config["scan_kappas"].split(",")]
    rows = []
    for i, kappa in enumerate(kappas):
        k_hmc, k_time, k_train, k_mh = jax.random.split(jax.random.fold_in(key, i), 4)
        action = Phi4Action(kappa=kappa, lam=config["lam"])
        hmc = phi4_hmc_ensemble(action, L, chains=config["chains"], samples=config["scan_hmc_samples"],
                                n_adapt=config["therm"], n_leapfrog=config["n_leapfrog"], key=k_hmc,
                                progress=f"phi4-diffusion scan kappa={kappa:g} HMC")
        tau_hmc = chain_tau(hmc.samples)  # |M|, M^2; thin = 1: in trajectories
        sec_hmc = hmc_seconds_per_trajectory(action, hmc, k_time, config["n_leapfrog"])
        score, _ = train_phi4_score(hmc.samples.reshape(-1, L, L), channels=_channels(config), z2_odd=config["z2_odd"],
                                    sigma=config["sigma"], process=config["process"],
                                    steps=config["scan_train_steps"], batch_size=config["batch"], lr=config["lr"],
                                    key=k_train, progress=False)
        # two equal halves of the proposals: the first compiles, the second is timed
        half = n_mh // 2
        first = phi4_proposals(score, jax.random.fold_in(k_mh, 0), L, half, "heun", heun_steps=config["mh_steps"])
        start = time.perf_counter()
        second = phi4_proposals(score, jax.random.fold_in(k_mh, 1), L, half, "heun", heun_steps=config["mh_steps"])
        jax.block_until_ready(second[1])
        sec_mh = (time.perf_counter() - start) / half
        mh = phi4_metropolis(k_mh, action, np.concatenate([first[0], second[0]]),
                             jnp.concatenate([first[1], second[1]]))
        tau_mh = chain_tau(mh.chain) if mh.n_distinct > 1 else None
        tag = f"scan_kappa{kappa:g}"
        report.add(f"{tag}_hmc_tau_int", tau_hmc[0], tau_hmc[1], unit="trajectories")
        report.add(f"{tag}_hmc_seconds_per_independent", cost_per_independent(tau_hmc[0], sec_hmc), unit="s")
        report.add(f"{tag}_mh_acceptance", mh.acceptance)
        if tau_mh is None:
            rows.append((kappa, tau_hmc, None, sec_hmc, sec_mh, mh.acceptance))
            continue
        report.add(f"{tag}_mh_tau_int", tau_mh[0], tau_mh[1], unit="proposals")
        report.add(f"{tag}_mh_seconds_per_independent", cost_per_independent(tau_mh[0], sec_mh), unit="s")
        report.add(f"{tag}_cost_ratio_mh_over_hmc",
                   cost_per_independent(tau_mh[0], sec_mh) / cost_per_independent(tau_hmc[0], sec_hmc))
        rows.append((kappa, tau_hmc, tau_mh, sec_hmc, sec_mh, mh.acceptance))
    moved = [r for r in rows if r[2] is not None]
    with report.figure("kappa_scan", ncols=2, figsize=(10, 4)) as (fig, axes):
        axes[0].errorbar([r[0] for r in rows], [r[1][0] for r in rows], [r[1][1] for r in rows], fmt="o-",
                         capsize=2, label="HMC (trajectories)")
        axes[0].errorbar([r[0] for r in moved], [r[2][0] for r in moved], [r[2][1] for r in moved], fmt="s--",
                         capsize=2, label="diffusion + Metropolis (proposals)")
        axes[0].set(yscale="log", xlabel=r"$\kappa$", ylabel=r"$\tau_\mathrm{int}$ ($|M|$, $M^2$)",
                    title=rf"L={L}, $\lambda$={config['lam']}")
        axes[0].legend()
        axes[1].plot([r[0] for r in rows], [cost_per_independent(r[1][0], r[3]) for r in rows], "o-", label="HMC")
        axes[1].plot([r[0] for r in moved], [cost_per_independent(r[2][0], r[4]) for r in moved], "s--",
                     label="diffusion + Metropolis")
        axes[1].set(yscale="log", xlabel=r"$\kappa$", ylabel="seconds per independent sample",
                    title="cost per independent sample (training not counted)")
        axes[1].legend()


def _ladder(text: str) -> str | None:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        return "must be a comma-separated list of positive integers"
    return None if values and all(v > 0 for v in values) else "must be a comma-separated list of positive integers"


def _float_ladder(text: str) -> str | None:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        return "must be a comma-separated list of positive numbers"
    return None if values and all(v > 0 for v in values) else "must be a comma-separated list of positive numbers"


def _check(config: dict[str, Any]) -> str | None:
    factor = 2 ** (config["levels"] - 1)
    if config["L"] % factor:
        return f"--L={config['L']} must be divisible by the pooling factor 2**(levels-1) = {factor}"
    if config["steps"] % 10 and config["steps"] >= 10:
        return f"--steps={config['steps']} must be a multiple of 10 (the trajectory is saved every steps/10)"
    if config["n_mh"] < 4:
        return f"--n-mh={config['n_mh']} must be >= 4"
    if config["kappa_scan"] and config["scan_L"] % factor:
        return f"--scan-L={config['scan_L']} must be divisible by the pooling factor 2**(levels-1) = {factor}"
    if config["probes"] > 0:
        return (f"--probes={config['probes']}: a Hutchinson estimate of log q is never used for the exact "
                f"Metropolis correction; use --probes 0 (the exact divergence)")
    return None


WORKFLOW = register(
    Workflow(
        name="phi4-diffusion",
        description="diffusion model of 2D phi^4 trained on HMC: observables against HMC, Metropolis "
        "correction, Langevin view, quality per cost of the samplers",
        run=run,
        check=_check,
        params=(
            Param("L", 16, "lattice size L (L x L)", quick=8, check=lambda v: None if v >= 2 else "must be >= 2"),
            Param("kappa", 0.27, "hopping parameter (0.21 symmetric, 0.5 broken at L=32)", check=nonnegative),
            Param("lam", 0.022, "quartic coupling lambda", check=nonnegative),
            Param("chains", 16, "HMC chains", quick=8, check=positive),
            Param("samples", 1000, "HMC samples per chain", quick=250,
                  check=lambda v: None if v >= 20 else "must be >= 20"),
            Param("therm", 300, "HMC thermalisation trajectories (step size adapts)", quick=100, check=positive),
            Param("thin", 2, "HMC trajectories per kept sample", quick=1, check=positive),
            Param("n_leapfrog", 10, "leapfrog steps per trajectory", check=positive),
            Param("width", 16, "U-Net channels at the finest level", quick=8, check=positive),
            Param("levels", 2, "U-Net levels (pooling factor 2**(levels-1))", check=positive),
            Param("z2_odd", True, "antisymmetrise the network: score exactly odd under phi -> -phi"),
            Param("process", "ve", "forward process: ve (Song's VE SDE, sigma^t) or edm (EDM noise levels and "
                  "preconditioning: far less bias in the deterministic samplers)", choices=("ve", "edm")),
            Param("sigma", 25.0, "VE SDE sigma (dx = sigma^t dW)", check=lambda v: None if v > 1 else "must be > 1"),
            Param("train_steps", 4000, "training steps", quick=1500, check=positive),
            Param("batch", 64, "training batch size", check=positive),
            Param("lr", 2e-3, "peak learning rate (warmup + cosine decay)", check=positive),
            Param("sampler", "em", "sampler of the main comparison", choices=SAMPLER_CHOICES),
            Param("steps", 500, "steps of the fixed-step samplers (multiple of 10)", quick=100, check=positive),
            Param("ode_rtol", 1e-4, "rtol = atol of the PF-ODE sampler and the likelihood", quick=1e-3,
                  check=positive),
            Param("n_gen", 1024, "generated samples of the main comparison", quick=256, check=positive),
            Param("n_mh", 128, "proposals of the Metropolis correction (Heun: about 6 s each at L = 16 on 2 cores)",
                  quick=48),
            Param("mh_proposals", "heun", "proposals of the Metropolis correction: heun (exact density of the "
                  "Heun map) or ode (PF-ODE likelihood, exact up to --ode-rtol)", choices=("heun", "ode")),
            Param("mh_steps", 20, "Heun steps of the Metropolis proposals (2 evaluations each, with L^2 JVPs "
                  "for the density)", check=positive),
            Param("probes", 0, "Hutchinson probes of the PF-ODE likelihood: only 0 (the exact divergence) is "
                  "accepted, a stochastic log q would make the Metropolis correction inexact", check=nonnegative),
            Param("cost_study", True, "compare EM, Heun and PF-ODE at increasing numbers of score evaluations",
                  quick=False),
            Param("n_cost", 1024, "samples per point of the cost study", quick=256, check=positive),
            Param("em_ladder", "25,50,100,200,400,800", "Euler-Maruyama steps of the cost study", quick="25,100,400",
                  check=_ladder),
            Param("heun_ladder", "5,10,20,40", "Heun steps of the cost study (2 evaluations each)", quick="5,10,20",
                  check=_ladder),
            Param("ode_ladder", "1e-2,1e-3,1e-4", "PF-ODE tolerances (rtol = atol) of the cost study",
                  check=_float_ladder),
            Param("ref_chains", 16, "chains of the independent HMC reference ensemble", quick=8, check=positive),
            Param("ref_samples", 1000, "samples per chain of the independent HMC reference ensemble", quick=250,
                  check=lambda v: None if v >= 20 else "must be >= 20"),
            Param("kappa_scan", False, "tau_int and cost per independent sample of HMC and of the "
                  "diffusion-Metropolis chain across the transition (a model trained per kappa)"),
            Param("scan_kappas", "0.22,0.25,0.27,0.29,0.31", "kappas of --kappa-scan", check=_float_ladder),
            Param("scan_L", 8, "lattice size of --kappa-scan", check=lambda v: None if v >= 2 else "must be >= 2"),
            Param("scan_hmc_samples", 2000, "HMC trajectories per chain at each kappa of the scan", quick=500,
                  check=lambda v: None if v >= 20 else "must be >= 20"),
            Param("scan_train_steps", 3000, "training steps at each kappa of the scan", quick=1000, check=positive),
            Param("scan_n_mh", 256, "Metropolis proposals at each kappa of the scan (even)", quick=96,
                  check=lambda v: None if v >= 8 and v % 2 == 0 else "must be even and >= 8"),
            Param("agree_sigma", 2.0, "agreement threshold of the cost study (combined standard errors)",
                  check=positive),
        ),
    )
)
