r"""Diffusion models of 2D $\phi^4$ theory (the DMasSQ setup): the HMC ensembles they are trained on
and compared with, the score training, batched sampling, independence-Metropolis proposals with
their exact density, the corrected chain with its integrated autocorrelation time, and the
comparison of ensembles in standard errors.

The action is `dphys.lattice.Phi4Action`,
$S = \sum_x[-2\kappa\sum_\mu\phi_x\phi_{x+\mu} + (1-2\lambda)\phi_x^2 + \lambda\phi_x^4]$; the
observables are those of `dphys.lattice.phi4_observables` ($\langle|M|\rangle$,
$\chi_2 = V(\langle M^2\rangle - \langle M\rangle^2)$, $U_L = 1 - \langle M^4\rangle/(3\langle
M^2\rangle^2)$, $S/V$, $G_c(t)$), with block-jackknife errors whose blocks are at least
$4\tau_\text{int}$ long for a Markov chain (`phi4_estimates`).

Usage::

    import jax
    from dphys.lattice import Phi4Action
    from dphys.generative import phi4

    action = Phi4Action(kappa=0.27, lam=0.022)
    k_hmc, k_ref, k_train, k_mh = jax.random.split(jax.random.PRNGKey(0), 4)
    train = phi4.phi4_hmc_ensemble(action, 8, chains=8, samples=250, n_adapt=100, key=k_hmc)
    ref = phi4.phi4_hmc_ensemble(action, 8, chains=8, samples=250, n_adapt=100, key=k_ref)  # independent
    score, _ = phi4.train_phi4_score(train.samples.reshape(-1, 8, 8), channels=(8, 16), steps=1500, key=k_train)
    proposals, log_q, evals = phi4.phi4_proposals(score, k_mh, 8, 64, "heun", heun_steps=20)
    mh = phi4.phi4_metropolis(k_mh, action, proposals, log_q)
    devs = phi4.deviations(phi4.phi4_estimates(mh.chain, action, mh.tau), phi4.phi4_estimates(ref.samples, action,
                           ref.tau))
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import dphys.diffusion as dd
from dphys._checks import positive_int, positive_number
from dphys.lattice.phi4 import Phi4Action, phi4_observables, symmetry_augment
from dphys.mcmc import HMC, adapted_ensemble, ensemble
from dphys.nn import LatticeUNet
from dphys.stats import Estimate, integrated_autocorrelation_time
from dphys.train import augmented_batches, fit, warmup_cosine_adam

__all__ = [
    "OBSERVABLES",
    "MetropolisChain",
    "Phi4Ensemble",
    "chain_tau",
    "cost_per_independent",
    "deviations",
    "fewest_agreeing",
    "hmc_seconds_per_trajectory",
    "phi4_estimates",
    "phi4_hmc_ensemble",
    "phi4_metropolis",
    "phi4_proposals",
    "sample_phi4",
    "train_phi4_score",
]

OBSERVABLES: tuple[str, ...] = ("abs_M", "chi2", "binder", "action_density")
"""The scalar observables compared between ensembles (keys of `dphys.lattice.phi4_observables`)."""


class Phi4Ensemble(NamedTuple):
    """An HMC ensemble of `phi4_hmc_ensemble`: `samples` (samples, chains, L, L) NumPy, time-major;
    the mean `acceptance`; the frozen leapfrog `step_size`; `tau` and `tau_error`, the largest
    integrated autocorrelation time of |M|, M^2 and S over the chains (`chain_tau`), in kept samples."""

    samples: np.ndarray
    acceptance: float
    step_size: float
    tau: float
    tau_error: float


class MetropolisChain(NamedTuple):
    """The independence-Metropolis chain of `phi4_metropolis`: `chain` (n, L, L) NumPy; the
    `acceptance`; `folded_fraction`, the proposals with log q = +inf (through a folding Heun step,
    always rejected); `n_distinct` states; `tau`, `tau_error`, the largest integrated
    autocorrelation time of |M|, M^2 and S in proposals (`chain_tau`), None when the chain never moved."""

    chain: np.ndarray
    acceptance: float
    folded_fraction: float
    n_distinct: int
    tau: float | None
    tau_error: float | None


def _series(x: np.ndarray, action: Phi4Action | None) -> list[np.ndarray]:
    """|M|, M^2 (and S when `action` is given) of every configuration, keeping the leading axes."""
    x = np.asarray(x, np.float64)
    m = x.mean(axis=(-2, -1))
    out = [np.abs(m), m**2]
    if action is not None:
        flat = jnp.asarray(x.reshape((-1,) + x.shape[-2:]))
        out.append(np.asarray(jax.jit(jax.vmap(action))(flat), np.float64).reshape(m.shape))
    return out


def chain_tau(
    x: Float[ArrayLike, "T *chains_and_lattice"],  # noqa: F821
    action: Phi4Action | None = None,
) -> tuple[float, float] | None:
    r"""The largest integrated autocorrelation time (Wolff's windowing,
    `dphys.stats.integrated_autocorrelation_time`, all chains together) of the series $|M|$,
    $M^2$ and, with `action`, $S$ of a Markov chain, in units of its steps (kept samples).

    **Arguments:** `x` of shape (T, L, L) (one chain) or (T, chains, L, L), in Monte Carlo time
    order, T >= 4; `action`, a `Phi4Action` to include $S$.

    **Returns:** `(tau, error)` of the series with the largest tau, or None when every series is
    constant (a chain that never moved has no autocorrelation time).
    """
    if np.ndim(x) not in (3, 4) or np.shape(x)[0] < 4:
        raise ValueError(f"chain_tau: x of shape {np.shape(x)}: expected (T, L, L) or (T, chains, L, L), T >= 4")
    best = None
    for s in _series(x, action):
        if np.ptp(s) == 0:
            continue
        t = integrated_autocorrelation_time(s)
        if best is None or t.tau > best[0]:
            best = (float(t.tau), float(t.error))
    return best


def phi4_estimates(
    x: Float[ArrayLike, "T *chains_and_lattice"],  # noqa: F821
    action: Phi4Action | None = None,
    tau: float | None = None,
) -> dict[str, Estimate]:
    r"""`dphys.lattice.phi4_observables` with the number of jackknife blocks chosen for the data:
    independent samples (`tau` None) in 20 blocks (fewer for fewer than 20 samples); a Markov chain
    with integrated autocorrelation time `tau` (in steps) in blocks of at least
    $\lceil 4\tau\rceil$ steps, $n_\text{blocks} = \text{clip}(T / \lceil 4\tau\rceil, 2, 20)$.

    **Arguments:** `x` (T, L, L) or (T, chains, L, L); `action` for the action density; `tau` > 0
    or None.

    **Returns:** the dict of `dphys.stats.Estimate` of `phi4_observables`.
    """
    n = int(np.shape(x)[0])
    if n < 2:
        raise ValueError(f"phi4_estimates: {n} samples, expected at least 2")
    if tau is None:
        return phi4_observables(x, action, n_blocks=min(20, n))
    tau = positive_number("tau", "integrated autocorrelation time in steps", tau)
    return phi4_observables(x, action, n_blocks=int(np.clip(n // math.ceil(4 * tau), 2, 20)))


def phi4_hmc_ensemble(
    action: Phi4Action,
    L: int,
    *,
    chains: int,
    samples: int,
    n_adapt: int,
    key: PRNGKeyArray,
    thin: int = 1,
    n_leapfrog: int = 10,
    progress: bool | str = False,
) -> Phi4Ensemble:
    r"""HMC ensemble of $e^{-S}$ on an L x L lattice: `chains` chains from $\phi = 0.5\,\mathcal N(0, 1)$,
    the leapfrog step size adapted by dual averaging over `n_adapt` trajectories and frozen at the
    median over chains, then `samples` kept configurations per chain, every `thin`-th trajectory
    of `n_leapfrog` steps (`dphys.mcmc.adapted_ensemble`); the integrated autocorrelation time from
    `chain_tau`. Two calls with different keys give independent ensembles.

    **Arguments:** `action`, `L` >= 2, `chains`, `samples` >= 4, `n_adapt`, `thin`, `n_leapfrog`
    (positive integers), `key`, `progress` (a tqdm label or False).

    **Returns:** a `Phi4Ensemble`.
    """
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        raise ValueError(f"phi4_hmc_ensemble: L={L!r}, expected an integer >= 2")
    chains = positive_int("chains", "HMC chains", chains)
    samples = positive_int("samples", "HMC samples per chain", samples)
    if samples < 4:
        raise ValueError(f"phi4_hmc_ensemble: samples={samples}, expected >= 4 (for tau_int)")
    n_adapt = positive_int("n_adapt", "adaptation trajectories", n_adapt)
    thin = positive_int("thin", "trajectories per kept sample", thin)
    n_leapfrog = positive_int("n_leapfrog", "leapfrog steps", n_leapfrog)
    k_init, k_run = jax.random.split(key)
    x0 = 0.5 * jax.random.normal(k_init, (chains, L, L))
    out, acceptance = adapted_ensemble(HMC(action, 0.1, n_leapfrog), k_run, x0, samples, n_adapt=n_adapt, thin=thin,
                                       chunks=min(5, samples), progress=progress)
    x = np.asarray(out.samples)
    tau = chain_tau(x, action)
    tau, tau_error = tau if tau is not None else (0.5, 0.0)
    return Phi4Ensemble(x, float(acceptance), float(out.step_size), tau, tau_error)


def hmc_seconds_per_trajectory(
    action: Phi4Action,
    ens: Phi4Ensemble,
    key: PRNGKeyArray,
    n_leapfrog: int = 10,
    trajectories: int = 100,
) -> float:
    r"""Wall-clock seconds per HMC trajectory (all chains of `ens` advanced together, divided by
    the number of chains) at the frozen step size of `ens`, from its last configurations:
    one untimed call to compile, then `trajectories` timed ones.

    **Arguments:** `action`, `ens` (from `phi4_hmc_ensemble` with the same `n_leapfrog`), `key`,
    `trajectories` > 0.

    **Returns:** seconds per trajectory per chain.
    """
    trajectories = positive_int("trajectories", "timed HMC trajectories", trajectories)
    kernel = HMC(action, ens.step_size, positive_int("n_leapfrog", "leapfrog steps", n_leapfrog))
    x = jnp.asarray(ens.samples[-1])
    jax.block_until_ready(ensemble(kernel, key, x, trajectories).samples)
    start = time.perf_counter()
    jax.block_until_ready(ensemble(kernel, jax.random.fold_in(key, 1), x, trajectories).samples)
    return (time.perf_counter() - start) / (trajectories * x.shape[0])


def train_phi4_score(
    data: Float[ArrayLike, "n L L"],
    *,
    channels: Sequence[int],
    steps: int,
    key: PRNGKeyArray,
    z2_odd: bool = True,
    sigma: float = 25.0,
    batch_size: int = 64,
    lr: float = 2e-3,
    process: str = "ve",
    checkpoint_dir: Any = None,
    progress: bool = True,
) -> tuple[dd.ScoreModel, Any]:
    r"""Train a `dphys.diffusion.ScoreModel(LatticeUNet(1, channels, z2_odd))` by denoising score
    matching (`dd.dsm_loss`) on configurations `data` (n, L, L), every batch augmented by random
    lattice translations and signs (`symmetry_augment`, symmetries of $S$), with Adam under a
    warm-up + cosine schedule peaking at `lr` (`dphys.fit`).

    `process="ve"`: Song's VE SDE $dx = \sigma^t dW$ (`VESong(sigma)`), log-uniform ("ncsn")
    weighting; `"edm"`: EDM noise levels 0.002 ... 80 with EDM preconditioning and weighting,
    $\sigma_\text{data}$ the standard deviation of `data`.

    **Arguments:** `data`; `channels` per U-Net level; `steps`, `batch_size` positive integers;
    `key`; `z2_odd` (exactly odd score under $\phi\to-\phi$); `sigma` > 1; `lr` > 0; `process`;
    `checkpoint_dir` (None: no checkpoints); `progress`.

    **Returns:** `(score, fit result)` (`result.losses`, ...).
    """
    if process not in ("ve", "edm"):
        raise ValueError(f"train_phi4_score: process={process!r}, expected 've' or 'edm'")
    data = np.asarray(data)
    if data.ndim != 3 or data.shape[1] != data.shape[2]:
        raise ValueError(f"train_phi4_score: data of shape {data.shape}, expected (n, L, L)")
    steps = positive_int("steps", "training steps", steps)
    batch_size = positive_int("batch_size", "training batch size", batch_size)
    positive_number("lr", "peak learning rate", lr)
    if not sigma > 1:
        raise ValueError(f"train_phi4_score: sigma={sigma!r}, expected > 1 (VE SDE sigma^t)")
    k_net, k_fit = jax.random.split(key)
    net = LatticeUNet(1, tuple(channels), z2_odd=z2_odd, key=k_net)
    sigma_data = float(np.std(data))
    if process == "edm":
        score = dd.ScoreModel(net, dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=sigma_data),
                              edm_precondition=True)
        weighting = "edm"
    else:
        score = dd.ScoreModel(net, dd.VESong(sigma=sigma), sigma_data=sigma_data)
        weighting = "ncsn"
    batch_fn = augmented_batches(data, batch_size, symmetry_augment)
    optimizer = warmup_cosine_adam(lr, steps)
    log_every = max(1, min(100, steps // 10))
    result = fit(lambda model, batch, k: dd.dsm_loss(model, batch, k, weighting=weighting), score, optimizer,
                 batch_fn, steps=steps, key=k_fit, log_every=log_every, checkpoint_dir=checkpoint_dir,
                 checkpoint_every=None if checkpoint_dir is None else log_every * max(1, 500 // log_every),
                 progress=progress, desc="phi4-diffusion training")
    return result.model, result


def sample_phi4(
    score: Any,
    key: PRNGKeyArray,
    L: int,
    n: int,
    sampler: str,
    steps: int,
    *,
    rtol: float = 1e-4,
    save_every: int | None = None,
    batch: int = 512,
) -> tuple[np.ndarray, dd.SampleInfo]:
    """`dphys.diffusion.sample` of `n` L x L configurations in batches of at most `batch` (memory),
    batch i with `jax.random.fold_in(key, i)`; `rtol` = `atol` of the PF-ODE; the trajectory saved
    (every `save_every` steps) for the first batch only.

    **Arguments:** `score`, `key`, `L`, `n` > 0, `sampler` ("em", "pc", "ode", "heun"), `steps`,
    `rtol`, `save_every`, `batch` > 0.

    **Returns:** `(samples (n, L, L) NumPy, SampleInfo of the first batch)`.
    """
    n = positive_int("n", "samples", n)
    batch = positive_int("batch", "samples per batch", batch)
    parts, info0 = [], None
    for i, start in enumerate(range(0, n, batch)):
        m = min(batch, n - start)
        x, info = dd.sample(score, jax.random.fold_in(key, i), (L, L), n_samples=m, sampler=sampler, steps=steps,
                            rtol=rtol, atol=rtol, save_every=save_every if i == 0 else None)
        parts.append(np.asarray(x))
        info0 = info if info0 is None else info0
    return np.concatenate(parts), info0


def phi4_proposals(
    score: Any,
    key: PRNGKeyArray,
    L: int,
    n: int,
    kind: str,
    *,
    heun_steps: int = 20,
    rtol: float = 1e-4,
    batch: int = 512,
    progress: bool | str = False,
) -> tuple[np.ndarray, Float[Array, " n"], float]:
    r"""`n` proposals (L, L) with their exact log-densities $\log q$ for an independence-Metropolis
    correction (`phi4_metropolis`). `kind="heun"`: EDM-Heun samples of `heun_steps` steps and the
    exact density of the Heun map (`dd.sample_with_log_density`: the log-determinant of each step's
    Jacobian, $L^2$ JVPs per evaluation); `"ode"`: PF-ODE samples and their PF-ODE likelihood
    (`dd.log_likelihood` with the exact divergence; exact up to the tolerance `rtol` = `atol`).
    A Hutchinson estimate is never used: it would make the correction inexact.

    **Arguments:** `score`, `key`, `L`, `n` > 0, `kind`, `heun_steps` > 0, `rtol` > 0, `batch`, `progress`.

    **Returns:** `(proposals (n, L, L) NumPy, log q (n,) in nats, score evaluations per proposal)`.
    """
    n = positive_int("n", "proposals", n)
    batch = positive_int("batch", "proposals per batch", batch)
    if kind == "heun":
        heun_steps = positive_int("heun_steps", "Heun steps per proposal", heun_steps)
        parts = [dd.sample_with_log_density(score, jax.random.fold_in(key, i), (L, L), min(batch, n - start),
                                            steps=heun_steps, progress=progress)
                 for i, start in enumerate(range(0, n, batch))]
        return (np.concatenate([np.asarray(p[0]) for p in parts]), jnp.concatenate([p[1] for p in parts]),
                float(parts[0][2].n_score_evals))
    if kind != "ode":
        raise ValueError(f"phi4_proposals: kind={kind!r}, expected 'heun' or 'ode'")
    rtol = positive_number("rtol", "PF-ODE tolerance", rtol)
    proposals, ode_info = sample_phi4(score, key, L, n, "ode", 100, rtol=rtol, batch=batch)  # 100: the saving grid
    logq, lik = dd.log_likelihood(score, jnp.asarray(proposals), rtol=rtol, atol=rtol)
    return proposals, logq, float(ode_info.n_score_evals + lik.n_score_evals)


def phi4_metropolis(
    key: PRNGKeyArray,
    action: Phi4Action,
    proposals: Float[ArrayLike, "n L L"],
    log_q: Float[ArrayLike, " n"],
) -> MetropolisChain:
    r"""Independence-Metropolis chain towards $e^{-S}$ over the proposals (in the order drawn),
    accepting $x'$ from $x$ with probability $\min(1, e^{-S(x')} q(x) / (e^{-S(x)} q(x')))$
    (`dd.metropolis_correct`), with its integrated autocorrelation time (`chain_tau`, in proposals).

    **Arguments:** `key`; `action`; `proposals` (n >= 4, L, L); `log_q` (n,), their exact log-densities.

    **Returns:** a `MetropolisChain`.
    """
    proposals = jnp.asarray(proposals)
    if proposals.ndim != 3 or proposals.shape[0] < 4:
        raise ValueError(f"phi4_metropolis: proposals of shape {proposals.shape}, expected (n >= 4, L, L)")
    if np.shape(log_q) != proposals.shape[:1]:
        raise ValueError(f"phi4_metropolis: log_q of shape {np.shape(log_q)}, expected {proposals.shape[:1]}")
    logp = -jax.vmap(action)(proposals)
    chain, acceptance = dd.metropolis_correct(key, proposals, jnp.asarray(log_q), logp)
    chain = np.asarray(chain)
    n_distinct = len(np.unique(chain.reshape(len(chain), -1), axis=0))
    tau = chain_tau(chain, action) if n_distinct > 1 else None
    return MetropolisChain(chain, float(acceptance), float(np.mean(np.isinf(np.asarray(log_q)))), n_distinct,
                           None if tau is None else tau[0], None if tau is None else tau[1])


def deviations(
    est: dict[str, Estimate],
    reference: dict[str, Estimate],
    names: Sequence[str] = OBSERVABLES,
) -> dict[str, float]:
    r"""Deviation of each estimate from an independent reference in combined standard errors,
    $|a - b| / \sqrt{\sigma_a^2 + \sigma_b^2}$ (inf when both errors are 0).

    **Arguments:** `est`, `reference`: dicts of `Estimate` (`phi4_estimates`) of two independent
    ensembles; `names`, the scalar observables.

    **Returns:** {name: deviation in sigma}.
    """
    out = {}
    for name in names:
        a, b = est[name], reference[name]
        combined = math.hypot(a.error, b.error)
        out[name] = abs(a.value - b.value) / combined if combined > 0 else math.inf
    return out


def fewest_agreeing(evals: Sequence[float], ok: Sequence[bool]) -> float | None:
    """The fewest score evaluations from which on every budget of a ladder agrees (`ok`), scanning
    from the largest budget down; None if the largest does not.

    **Arguments:** `evals` per budget, `ok` per budget (same length).

    **Returns:** the evaluations, or None.
    """
    if len(evals) != len(ok):
        raise ValueError(f"fewest_agreeing: {len(evals)} budgets but {len(ok)} flags")
    best = None
    for e, good in sorted(zip(evals, ok), reverse=True):
        if not good:
            break
        best = e
    return best


def cost_per_independent(tau: float, cost_per_step: float) -> float:
    r"""Cost of one independent sample of a Markov chain, $2\tau_\text{int}\times$ the cost of one step
    (of the same units: seconds, evaluations).

    **Arguments:** `tau` > 0 in steps, `cost_per_step` > 0.

    **Returns:** $2\tau\,c$.
    """
    return 2 * positive_number("tau", "integrated autocorrelation time", tau) * positive_number(
        "cost_per_step", "cost of one step", cost_per_step)
