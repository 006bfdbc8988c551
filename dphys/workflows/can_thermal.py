r"""`can-thermal`: a temperature-conditioned continuous-mixture autoregressive network (CAN) of the
0+1D double well, trained on the lowest and highest temperature, evaluated in between.

1. HMC ensembles of $S = \sum_i[(x_{i+1}-x_i)^2/2a + a\lambda(x_i^2-\eta^2)^2]$ on $N$ periodic
   sites at temperatures $T = 1/(Na)$ spaced geometrically from `T_low` to `T_high` (fixed $N$,
   varying $a$); half the chains start in each well. Defaults ($N = 32$, $\lambda = \eta = 1$,
   $T = 1/16 \dots 1/8$): paths at the lowest $T$ carry several kinks.
2. One `dphys.autoregressive.CANetwork` conditioned on $\log T$ (output affine in it) trained by
   maximum likelihood on the first 3/4 of the chains of the two end temperatures only. Its
   structure follows the action: the exact conditional of a nearest-neighbour ring is
   $p(x_i \mid x_{i-1}, x_0)$, smooth in $i$ away from the ends of the sequence, so the network
   sees exactly $x_{i-1}$ and $x_0$ (`kernel_size=1`, no dense layer) through one map shared by
   all sites, with biases built from `positional` cosines of the site index plus free biases of
   the edge sites $0, 1, N-2, N-1$. The earlier network with free per-site biases and a dense
   layer (about 10k parameters) over-fitted the ensemble (train NLL below the exact entropy,
   held-out KL 0.5-0.7 nats per path, action error 0.20-0.34); this one (about 4.1k) with 4x
   more HMC data (cheap at $N = 32$: integrated autocorrelation times of $S$ of 1-2 kept
   samples) reaches held-out KL 0.02-0.05 nats and action errors 0.05-0.08 (full, measured with
   the former chain-major order of the training set) and 0.07-0.08 (`--quick`, seed 0, training
   set in the time-major order of `dphys.mcmc.ensemble`) at all three temperatures, the unseen one
   included. The Metropolis chain's errors use blocks of at least 4 tau_int (reported).
3. At every temperature, on the held-out chains (the last 1/4): the effective action
   $S_\theta = -\log p_\theta - \log Z_\text{est}$ (constant fitted on half of them) against $S$,
   `rel_rms_T*` $= \mathrm{RMS}(S_\theta - S)/\mathrm{std}(S)$; $\langle x^2\rangle$, the kink
   number and the gap (correlator plateau $N/8 \dots N/4$; omitted where the effective mass is
   undefined) from raw network samples, from the independence-Metropolis chain with the
   network as proposal (exact), from HMC, against the exact transfer matrix; $\log Z$ by
   importance sampling against the transfer matrix, and the free-energy difference
   $\Delta(F/T) = -\Delta\log Z$ between neighbouring temperatures.
4. Diagnostics against the exact conditionals `dphys.autoregressive.chain_log_conditionals`
   (transfer matrix): `kl_heldout_T*` $= \overline{\log p - \log p_\theta}$ on the held-out
   chains (a KL estimate, nats per path) and `kl_train_T*` on the training chains (their gap
   measures over-fitting), and the KL per site (figure `site_kl`).

Figures: true vs estimated action per temperature, kink-number histograms, sample paths, KL
per site.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import dphys.autoregressive as da
from dphys import mcmc
from dphys.lattice.exact import double_well_exact, double_well_log_z
from dphys.lattice.quantum import DoubleWellAction, count_kinks, qm_observables
from dphys.report import Report
from dphys.stats import binned_mean, integrated_autocorrelation_time
from dphys.workflows import Param, Workflow, positive, register


def temperatures(config: dict[str, Any]) -> np.ndarray:
    """The temperatures of the run, ascending: geometric from T_low to T_high."""
    return np.geomspace(config["T_low"], config["T_high"], config["n_temps"])


def _kinks(x: np.ndarray, eta: float) -> np.ndarray:
    return np.asarray(jax.vmap(lambda p: count_kinks(p, eta / 2))(jnp.asarray(x)))


def run(config: dict[str, Any], report: Report) -> None:
    n, lam, eta = config["n_sites"], config["lam"], config["eta"]
    temps = temperatures(config)
    spacings = 1 / (n * temps)
    key = jax.random.PRNGKey(config["seed"])
    k_hmc, k_init, k_train, k_eval = jax.random.split(key, 4)
    n_train_chains = max(1, (3 * config["chains"]) // 4)

    ensembles, actions = {}, {}
    for i, (t, a) in enumerate(zip(temps, spacings)):
        # array fields (not Python floats): one compiled HMC program serves every temperature
        actions[i] = DoubleWellAction(a=jnp.asarray(a, float), lam=jnp.asarray(lam, float), eta=jnp.asarray(eta, float))
        chains = config["chains"]  # half the chains start in each well
        x0 = jnp.concatenate([jnp.full((chains // 2, n), eta), jnp.full((chains - chains // 2, n), -eta)])
        out, acc = mcmc.adapted_ensemble(mcmc.HMC(actions[i], 0.1, 10), jax.random.fold_in(k_hmc, i), x0,
                                         config["samples"], n_adapt=config["therm"], thin=2)
        ensembles[i] = np.asarray(out.samples)  # (sample, chain, N)
        report.add(f"hmc_acceptance_T{i}", acc)
    ends = (0, len(temps) - 1)
    x_train = np.concatenate([ensembles[i][:, :n_train_chains].reshape(-1, n) for i in ends])
    c_train = np.concatenate([np.full(n_train_chains * config["samples"], math.log(temps[i])) for i in ends])

    net = da.CANetwork((n,), k_init, n_components=config["n_components"], n_hidden=config["n_hidden"],
                       depth=config["depth"], kernel_size=config["kernel_size"],
                       positional=config["positional"] or None, direct=False,
                       cond_range=(math.log(temps[0]), math.log(temps[-1])))
    result = da.train_ml(net, x_train, c_train, steps=config["steps"], key=k_train, batch_size=config["batch_size"],
                         learning_rate=config["learning_rate"], checkpoint_dir=report.out_dir / "checkpoints")
    net = result.model
    report.add("final_nll", float(np.mean(result.losses[-max(1, len(result.losses) // 10):])), unit="nats")

    scatter, kink_hist, paths, log_zs, site_kl = [], [], [], [], []
    site_lp = eqx.filter_jit(jax.vmap(lambda x, c: net.site_log_probs(x, c), in_axes=(0, None)))
    for i, (t, a) in enumerate(zip(temps, spacings)):
        tag = f"T{i}"
        c = math.log(t)
        action = actions[i]
        exact = double_well_exact(float(a), lam, eta, n)
        report.add(f"temperature_{tag}", t)
        report.add(f"trained_{tag}", float(i in ends))
        held = ensembles[i][:, n_train_chains:]  # (samples, chains, N)
        x_held = held.reshape(-1, n)
        err = da.action_error(net, x_held, action, c)
        report.add(f"rel_rms_{tag}", err["rel_rms"])
        # diagnostics against the exact conditionals: KL per path and per site, train vs held out
        exact_held = da.double_well_log_conditionals(x_held, float(a), lam, eta)
        d_held = exact_held - np.asarray(site_lp(jnp.asarray(x_held), c))
        per_path = d_held.sum(axis=1)
        report.add(f"kl_heldout_{tag}", per_path.mean(), per_path.std(ddof=1) / math.sqrt(len(per_path)), unit="nats")
        site_kl.append((t, d_held.mean(axis=0), i in ends))
        if i in ends:
            x_tr = ensembles[i][:, :n_train_chains].reshape(-1, n)
            exact_tr = da.double_well_log_conditionals(x_tr, float(a), lam, eta)
            d_tr = (exact_tr - np.asarray(site_lp(jnp.asarray(x_tr), c))).sum(1)
            report.add(f"kl_train_{tag}", d_tr.mean(), d_tr.std(ddof=1) / math.sqrt(len(d_tr)), unit="nats")
        scatter.append((t, err["S"], err["S_theta"], err["rel_rms"], i in ends))

        obs_hmc = qm_observables(ensembles[i], float(a), kink_threshold=eta / 2)
        report.add(f"x2_hmc_{tag}", obs_hmc["x2"].value, obs_hmc["x2"].error, exact["x2"])
        k_i = jax.random.fold_in(k_eval, i)
        chain, acc, proposals = da.independence_metropolis(net, k_i, config["n_gen"], action, c)
        proposals, chain = np.asarray(proposals), np.asarray(chain)
        x2_raw = binned_mean(np.mean(proposals**2, axis=1), 1)
        report.add(f"x2_network_{tag}", x2_raw.value, x2_raw.error, exact["x2"])
        series = np.mean(chain.astype(np.float64) ** 2, axis=1)
        n_blocks = 20
        if np.ptp(series) > 0:  # a chain that never moved has no autocorrelation time
            tau_im = integrated_autocorrelation_time(series)
            report.add(f"tau_int_metropolis_{tag}", tau_im.tau, tau_im.error, unit="proposals")
            n_blocks = int(np.clip(len(chain) // math.ceil(4 * tau_im.tau), 2, 20))  # blocks of >= 4 tau_int
        obs_im = qm_observables(chain, float(a), kink_threshold=eta / 2, n_blocks=n_blocks)
        report.add(f"x2_metropolis_{tag}", obs_im["x2"].value, obs_im["x2"].error, exact["x2"])
        obs_raw = qm_observables(proposals, float(a), kink_threshold=eta / 2)
        for name, obs in ((f"gap_network_{tag}", obs_raw), (f"gap_metropolis_{tag}", obs_im),
                          (f"gap_hmc_{tag}", obs_hmc)):
            if np.isfinite(obs["gap"].value) and np.isfinite(obs["gap"].error):  # noisy correlators: skip
                report.add(name, obs["gap"].value, obs["gap"].error, exact["gap"])
        report.add(f"acceptance_{tag}", acc)
        kinks_net, kinks_hmc = _kinks(proposals, eta), _kinks(x_held, eta)
        report.add(f"kinks_network_{tag}", kinks_net.mean(), kinks_net.std(ddof=1) / math.sqrt(len(kinks_net)))
        report.add(f"kinks_hmc_{tag}", obs_hmc["kinks"].value, obs_hmc["kinks"].error)
        kink_hist.append((t, kinks_net, kinks_hmc))
        paths.append((t, proposals[:3]))
        log_z, log_z_err = da.log_partition(net, jax.random.fold_in(k_i, 1), config["n_gen"], action, c)
        log_z_exact = double_well_log_z(float(a), lam, eta, n)
        report.add(f"log_z_{tag}", log_z, log_z_err, log_z_exact)
        log_zs.append((log_z, log_z_err, log_z_exact))
    for i in range(len(temps) - 1):
        (z0, e0, x0), (z1, e1, x1) = log_zs[i], log_zs[i + 1]
        report.add(f"delta_log_z_T{i}_T{i + 1}", z1 - z0, math.hypot(e0, e1), x1 - x0)

    m = len(temps)
    with report.figure("action_scatter", ncols=m, figsize=(3.2 * m, 3.2)) as (fig, axes):
        for ax, (t, s, s_theta, r, trained) in zip(np.atleast_1d(axes), scatter):
            ax.plot(s, s_theta, ".", ms=2)
            lims = [min(s.min(), s_theta.min()), max(s.max(), s_theta.max())]
            ax.plot(lims, lims, "k-", lw=0.7)
            ax.set(xlabel="S (true)", ylabel=r"$S_\theta$ (network)",
                   title=f"T={t:.3g} ({'trained' if trained else 'unseen'})\nrel RMS {r:.3f}")
    with report.figure("site_kl", figsize=(5, 3.2)) as (fig, ax):
        for t, kl, trained in site_kl:
            ax.plot(kl, "o-", ms=3, label=f"T={t:.3g} ({'trained' if trained else 'unseen'})")
        ax.axhline(0, color="k", lw=0.5)
        ax.set(xlabel="site i", ylabel=r"$\langle\log p(x_i|x_{<i}) - \log p_\theta\rangle$ (nats)",
               title="KL per site, held-out paths")
        ax.legend()
    with report.figure("kink_histograms", ncols=m, figsize=(3.2 * m, 3.0)) as (fig, axes):
        for ax, (t, kn, kh) in zip(np.atleast_1d(axes), kink_hist):
            bins = np.arange(0, max(kn.max(), kh.max()) + 3, 2) - 1
            ax.hist(kh, bins=bins, density=True, alpha=0.5, label="HMC")
            ax.hist(kn, bins=bins, density=True, histtype="step", lw=1.5, label="network")
            ax.set(xlabel="kinks + anti-kinks", title=f"T={t:.3g}")
            ax.legend()
    with report.figure("sample_paths", nrows=m, figsize=(6, 1.8 * m), squeeze=False) as (fig, axes):
        for ax, (t, xs) in zip(axes[:, 0], paths):
            for p in xs:
                ax.plot(p, lw=1)
            ax.axhline(eta, color="k", lw=0.4)
            ax.axhline(-eta, color="k", lw=0.4)
            ax.set(ylabel="x", title=f"network samples, T={t:.3g}")
        axes[-1, 0].set(xlabel=r"$\tau/a$")


def _check(config: dict[str, Any]) -> str | None:
    if not config["T_low"] < config["T_high"]:
        return f"T_low={config['T_low']} must be below T_high={config['T_high']}"
    if config["chains"] < 4:
        return f"chains={config['chains']}: needs >= 4 (3/4 train, 1/4 held out)"
    return None


def _at_least(k: int):
    return lambda v: None if v >= k else f"must be >= {k}"


WORKFLOW = register(
    Workflow(
        name="can-thermal",
        description="temperature-conditioned autoregressive network of the 0+1D double well: effective "
        "action at unseen temperatures, independence Metropolis, free energies",
        run=run,
        check=_check,
        params=(
            Param("n_sites", 32, "imaginary-time sites N (T = 1/(N a))", check=_at_least(4)),
            Param("T_low", 1 / 16, "lowest temperature (trained)", check=positive),
            Param("T_high", 1 / 8, "highest temperature (trained)", check=positive),
            Param("n_temps", 3, "temperatures, geometric from T_low to T_high", check=_at_least(2)),
            Param("lam", 1.0, "lambda in a lambda (x^2 - eta^2)^2", check=positive),
            Param("eta", 1.0, "wells at +-eta", check=positive),
            Param("chains", 64, "HMC chains per temperature (3/4 train, 1/4 held out)", quick=32, check=_at_least(4)),
            Param("samples", 600, "kept HMC samples per chain (2 trajectories apart)", quick=400, check=_at_least(20)),
            Param("therm", 100, "HMC thermalisation trajectories", quick=50, check=positive),
            Param("n_components", 3, "mixture components K", check=positive),
            Param("n_hidden", 32, "channels of the causal convolutions", check=positive),
            Param("depth", 3, "causal convolution layers (dilations 1, 2, 4, ...)", check=positive),
            Param("kernel_size", 1, "taps per causal convolution (1: the network sees x_{i-1} and x_0 only)",
                  check=positive),
            Param("positional", 6, "cosine features of the site index for the biases (0: free per-site biases)",
                  check=lambda v: None if v >= 0 else "must be >= 0"),
            Param("steps", 3000, "maximum-likelihood training steps", quick=1500, check=positive),
            Param("batch_size", 512, "training batch", quick=256, check=positive),
            Param("learning_rate", 3e-3, "Adam learning rate (cosine decay)", check=positive),
            Param("n_gen", 4000, "network samples per temperature", quick=500, check=_at_least(40)),
        ),
    )
)
