r"""`cumulants`: how score-based diffusion models carry and learn higher-order cumulants.

Under a forward process $x_t = \alpha_t x_0 + s_t z$ the cumulants add,
$\kappa_n(x_t) = \alpha_t^n\kappa_n(x_0) + \delta_{n2}s_t^2$: variance-exploding (VE) noise
conserves every $\kappa_{n\ge3}$, variance-preserving (VP) noise damps them as $\alpha_t^n$. The
backward process must rebuild them from the score alone. Two studies:

1. **Exactly solvable toy** $x_0 = \pm\mu$ (equal weights; $\kappa_2 = \mu^2$, $\kappa_4 = -2\mu^4$,
   $\kappa_6 = 16\mu^6$, odd ones zero) under VE (Song's $\sigma^t$) and VP: $\kappa_1..\kappa_6$
   tracked along the forward SDE (`dphys.integrate_sde`), along the backward SDE with the exact score
   $-x/s^2 + (\alpha\mu/s^2)\tanh(\alpha\mu x/s^2)$, and with a learned score (a small odd MLP
   trained by denoising score matching with `dphys.fit`, one per DSM weighting in `--weightings`:
   NCSN's uniform-in-$\ln\sigma$ weighting learns $\kappa_4, \kappa_6$ far better than score_sde's
   uniform-in-$t$ `sigma2`, which spends the training on large noise), all with jackknife errors
   (`dphys.stats.cumulants`) against the closed forms.
2. **$\phi^4$ lattice**: an HMC ensemble (`dphys.lattice`, symmetrised under $\phi\to-\phi$) trains a
   small odd MLP score on the flattened lattice, with random translations and reflections of every
   training batch (an MLP step is ~20x cheaper than a periodic CNN's on the CPU); the cumulants of the magnetisation $M = \frac1V\sum_x\phi_x$ along
   the forward and backward processes are compared with $\kappa_n(M_t) = \alpha_t^n\kappa_n(M_0) +
   \delta_{n2}s_t^2/V$ built from the ensemble's own cumulants.

Metrics: cumulants at `t_min` of the backward processes (exact and learned score) against the data
values; forward cumulants at an intermediate time against the closed forms; HMC vs generated
cumulants of $M$. Figures: cumulant trajectories against $t$ (forward and backward, exact curves
and measurements with error bars) for each study.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import dphys.diffusion as dd
from dphys.lattice import Phi4Action
from dphys.mcmc import HMC, adapt_step_size, check_acceptance, ensemble
from dphys.report import Report
from dphys.stats import cumulants
from dphys.train import fit
from dphys.workflows import Param, Workflow, positive, register

ORDERS = (1, 2, 3, 4, 5, 6)


def _at_least(n: int):
    return lambda v: None if v >= n else f"must be >= {n}"


# ---------------------------------------------------------------------------
# Small private networks (odd in x: the data are symmetric under x -> -x)
# ---------------------------------------------------------------------------


def _features(noise_level: jax.Array, n: int = 4) -> jax.Array:
    freqs = 2.0 ** jnp.arange(n) * 0.5
    return jnp.concatenate([jnp.sin(freqs * noise_level), jnp.cos(freqs * noise_level)])


class OddMLP(eqx.Module):
    """`net(x, noise_level)` for a state of `dim` numbers: an MLP on (x, Fourier features of the
    noise level), antisymmetrised, `(f(x) - f(-x))/2`, so that the score is odd like the data's."""

    mlp: eqx.nn.MLP

    def __init__(self, dim: int, width: int, depth: int, key):
        self.mlp = eqx.nn.MLP(dim + 8, dim, width, depth, activation=jax.nn.silu, key=key)

    def __call__(self, x, noise_level):
        shape = x.shape
        emb = _features(noise_level)
        f = lambda v: self.mlp(jnp.concatenate([v.ravel(), emb]))
        return (0.5 * (f(x) - f(-x))).reshape(shape)


@eqx.filter_jit
def _odd_mlp(dim: int, width: int, key) -> OddMLP:
    return OddMLP(dim, width, 2, key)  # built inside jit: one compiled program instead of many small ops


def _lattice_batches(phi: jax.Array, batch_size: int):
    """Minibatches of configurations, each randomly translated and reflected (symmetries of the
    periodic lattice action), so that an MLP on the flattened lattice learns an equivariant score."""
    n, L = phi.shape[0], phi.shape[1]

    def batch(key):
        k_idx, k_shift, k_flip = jax.random.split(key, 3)
        x = phi[jax.random.randint(k_idx, (batch_size,), 0, n)]
        shifts = jax.random.randint(k_shift, (batch_size, 2), 0, L)
        flips = jax.random.bernoulli(k_flip, 0.5, (batch_size, 2))

        def move(c, sh, fl):
            c = jnp.roll(c, (sh[0], sh[1]), axis=(0, 1))
            c = jnp.where(fl[0], c[::-1], c)
            return jnp.where(fl[1], c[:, ::-1], c)

        return jax.vmap(move)(x, shifts, flips)

    return batch


def _train(model, data, config, key, desc, weighting, steps):
    schedule = optax.cosine_decay_schedule(config["learning_rate"], steps)
    batch_size = None if callable(data) else min(config["batch_size"], data.shape[0])
    result = fit(lambda m, batch, k: dd.dsm_loss(m, batch, k, weighting), model, optax.adam(schedule), data,
                 steps=steps, key=key, batch_size=batch_size, log_every=max(1, steps // 10),
                 progress=config.get("progress", True), desc=desc)
    return result.model, result.losses


# ---------------------------------------------------------------------------
# Cumulant tracking
# ---------------------------------------------------------------------------


def _track(samples: np.ndarray, max_order: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Cumulants (values, errors) of shape (len(times), max_order) of samples (times, n)."""
    est = [cumulants(np.asarray(s, np.float64), max_order=max_order) for s in samples]
    return np.stack([e.value for e in est]), np.stack([e.error for e in est])


def _processes(config: dict[str, Any]) -> dict[str, dd.AbstractProcess]:
    known = {
        "ve": dd.VESong(sigma=config["ve_sigma"], t_min=config["t_min"]),
        "vp": dd.VP(beta_min=0.1, beta_max=20.0, t_min=config["t_min"]),
    }
    return {name: known[name] for name in _names(config["processes"])}


def _names(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def _toy(config, report, key):
    mu, n, steps = config["mu"], config["samples"], config["steps"]
    n_track = config["track_points"]
    out = {}
    data_key, key = jax.random.split(key)
    x_train = mu * jax.random.rademacher(data_key, (config["train_samples"], 1), dtype=jnp.float32)
    for name, process in _processes(config).items():
        k_fwd, k_exact, k_net, k_train, k_learn, k_data, key = jax.random.split(jax.random.fold_in(key, len(name)), 7)
        # forward SDE from fresh +/- mu data
        x0 = mu * jax.random.rademacher(k_data, (n,), dtype=jnp.float32)
        t_fwd = np.linspace(process.t_min, process.t_max, n_track + 1)
        xs = jax.jit(lambda k, x: dd.forward(process, k, x, t_fwd, dt=config["forward_dt"]))(k_fwd, x0)
        fwd = _track(np.asarray(xs))
        # backward with the exact score
        every = steps // n_track
        _, info = dd.sample(dd.TwoPointScore(process, mu), k_exact, (1,), n_samples=n, sampler="em",
                            steps=steps, save_every=every)
        t_bwd, states = info.trajectory
        bwd_exact = _track(np.asarray(states)[..., 0])
        # backward with learned scores, one network per DSM weighting
        learned, losses = {}, {}
        for weighting in _weightings(config):
            model = dd.ScoreModel(_odd_mlp(1, config["width"], k_net), process, sigma_data=mu)
            model, losses[weighting] = _train(model, x_train, config, k_train, f"toy {name} DSM ({weighting})",
                                              weighting, config["train_steps"])
            _, info_l = dd.sample(model, k_learn, (1,), n_samples=n, sampler="em", steps=steps, save_every=every)
            learned[weighting] = _track(np.asarray(info_l.trajectory[1])[..., 0])
        out[name] = dict(process=process, t_fwd=t_fwd, fwd=fwd, t_bwd=t_bwd, exact=bwd_exact, learned=learned)

        # metrics: forward at the middle time, backward at t_min (exact and learned score)
        i_mid = n_track // 2
        ref_mid = dd.two_point_cumulants(process, mu, t_fwd[i_mid])
        for order in (2, 4, 6):
            report.add(f"toy_{name}_forward_k{order}_t{t_fwd[i_mid]:.2f}", fwd[0][i_mid, order - 1],
                       fwd[1][i_mid, order - 1], ref_mid[order - 1])
        ref_end = dd.two_point_cumulants(process, mu, process.t_min)
        series = [("exact", bwd_exact)] + [(f"learned_{w}", v) for w, v in learned.items()]
        for label, (vals, errs) in series:
            for order in (1, 2, 3, 4, 5, 6):
                report.add(f"toy_{name}_{label}_k{order}", vals[-1, order - 1], errs[-1, order - 1],
                           ref_end[order - 1])
        for weighting, loss in losses.items():
            report.add(f"toy_{name}_dsm_loss_{weighting}", float(np.mean(loss[-max(1, len(loss) // 20):])))
        report.add(f"toy_{name}_score_evals_per_sample", info.n_score_evals)
    _plot_toy(report, config, out)


def _plot_toy(report, config, out):
    mu = config["mu"]
    for name, d in out.items():
        process = d["process"]
        with report.figure(f"toy_cumulants_{name}", ncols=3, figsize=(14, 4.2)) as (fig, axes):
            t_fine = np.linspace(process.t_min, process.t_max, 300)
            exact_curves = dd.two_point_cumulants(process, mu, t_fine)
            for ax, order in zip(axes, (2, 4, 6)):
                ax.plot(t_fine, exact_curves[order - 1], "k-", lw=1.5, label="closed form")
                series = [("forward SDE", d["t_fwd"], d["fwd"], "o", "C0"),
                          ("backward, exact score", d["t_bwd"], d["exact"], "s", "C1")]
                series += [(f"backward, learned ({w} DSM)", d["t_bwd"], v, "^v<>"[i], f"C{i + 2}")
                           for i, (w, v) in enumerate(d["learned"].items())]
                for label, t, (v, e), marker, color in series:
                    ax.errorbar(t, v[:, order - 1], e[:, order - 1], fmt=marker, ms=4, color=color,
                                capsize=2, label=label, alpha=0.85)
                lo, hi = exact_curves[order - 1].min(), exact_curves[order - 1].max()
                pad = 0.6 * max(hi - lo, abs(hi), abs(lo), 1e-3)
                ax.set_ylim(lo - pad, hi + pad)
                ax.set(xlabel="t", ylabel=rf"$\kappa_{order}$", title=rf"{name.upper()}: $\kappa_{order}$, $x_0=\pm{mu}$")
            axes[0].legend(fontsize=8)


# ---------------------------------------------------------------------------
# phi^4
# ---------------------------------------------------------------------------


def _phi4(config, report, key):
    L, kappa, lam = config["L"], config["kappa"], config["lam"]
    action = Phi4Action(kappa=kappa, lam=lam)
    hmc_key, init_key, key = jax.random.split(key, 3)
    x0 = 0.5 * jax.random.normal(init_key, (config["chains"], L, L))
    k_adapt, k_run = jax.random.split(hmc_key)
    kernel, x = adapt_step_size(HMC(action, 0.1, config["n_leapfrog"]), k_adapt, x0, config["therm"],
                                return_positions=True)
    out = ensemble(kernel, k_run, x, config["hmc_samples"])
    check_acceptance(out.info, kernel.step_size, chain_axis=1)
    phi = np.asarray(out.samples).reshape(-1, L, L)  # time-major: (sample, chain) flattened
    # the action is even in phi: augment by phi -> -phi (exact symmetry; restores tunnelling)
    phi = np.concatenate([phi, -phi]).astype(np.float32)
    V = L * L
    m_data = phi.mean(axis=(1, 2))
    data_k = cumulants(m_data.astype(np.float64), max_order=4, n_blocks=40)
    report.add("phi4_hmc_configs", phi.shape[0])

    process = dd.VESong(sigma=config["ve_sigma"], t_min=config["t_min"])
    net_key, train_key, fwd_key, gen_key = jax.random.split(key, 4)
    weighting = _weightings(config)[0]
    model = dd.ScoreModel(_odd_mlp(V, config["lattice_width"], net_key), process, sigma_data=float(phi.std()))
    batches = _lattice_batches(jnp.asarray(phi), config["batch_size"])
    model, losses = _train(model, batches, config, train_key, f"phi4 DSM ({weighting})", weighting,
                           config["lattice_train_steps"])
    report.add("phi4_dsm_loss_final", float(np.mean(losses[-max(1, len(losses) // 20):])))

    n_track, steps, n = config["track_points"], config["steps"], config["phi4_samples"]
    t_fwd = np.linspace(process.t_min, process.t_max, n_track + 1)
    idx = np.random.default_rng(config["seed"]).choice(phi.shape[0], size=min(n, phi.shape[0]), replace=False)
    fwd_states = jax.jit(lambda k, x: dd.forward(process, k, x, t_fwd, dt=config["forward_dt"]))(
        fwd_key, jnp.asarray(phi[idx]))
    m_fwd = np.asarray(fwd_states).mean(axis=(2, 3))
    fwd = _track(m_fwd, 4)
    x_gen, info = dd.sample(model, gen_key, (L, L), n_samples=n, sampler="em", steps=steps,
                            save_every=steps // n_track)
    t_bwd, states = info.trajectory
    bwd = _track(np.asarray(states).mean(axis=(2, 3)), 4)

    def closed(t):
        alpha, s = (np.asarray(v, np.float64) for v in process.mean_std(np.asarray(t)))
        k = np.asarray(data_k.value)
        return np.stack([alpha**n * k[n - 1] + (s**2 / V if n == 2 else 0.0) for n in range(1, 5)])

    ref_end = closed(process.t_min)
    for order in (2, 4):
        report.add(f"phi4_hmc_M_k{order}", data_k.value[order - 1], data_k.error[order - 1])
        # generated vs HMC: the reference carries the HMC error too (see phi4_hmc_M_k*)
        report.add(f"phi4_generated_M_k{order}", bwd[0][-1, order - 1], bwd[1][-1, order - 1], ref_end[order - 1])
    i_mid = n_track // 2
    report.add(f"phi4_forward_M_k2_t{t_fwd[i_mid]:.2f}", fwd[0][i_mid, 1], fwd[1][i_mid, 1], closed(t_fwd[i_mid])[1])
    gen_u = _binder(np.asarray(x_gen).mean(axis=(1, 2)))
    report.add("phi4_generated_binder_U4", gen_u[0], gen_u[1], _binder(m_data)[0])
    report.add("phi4_score_evals_per_sample", info.n_score_evals)

    with report.figure("phi4_M_cumulants", ncols=2, figsize=(10, 4.2)) as (fig, axes):
        t_fine = np.linspace(process.t_min, process.t_max, 300)
        curves = closed(t_fine)
        for ax, order in zip(axes, (2, 4)):
            ax.plot(t_fine, curves[order - 1], "k-", lw=1.5, label=r"$\alpha^n\kappa_n(M_0) + \delta_{n2}s^2/V$")
            ax.errorbar(t_fwd, fwd[0][:, order - 1], fwd[1][:, order - 1], fmt="o", ms=4, capsize=2,
                        label="forward SDE (HMC data)")
            ax.errorbar(t_bwd, bwd[0][:, order - 1], bwd[1][:, order - 1], fmt="^", ms=4, capsize=2,
                        label="backward, learned score")
            if order == 2:
                ax.set_yscale("log")
            else:
                k = data_k.value[3]
                ax.set_ylim(k - 6 * max(abs(k), data_k.error[3]), k + 6 * max(abs(k), data_k.error[3]))
            ax.set(xlabel="t", ylabel=rf"$\kappa_{order}(M)$",
                   title=rf"$\phi^4$ {L}x{L}, $\kappa$={kappa}, $\lambda$={lam}: $\kappa_{order}(M)$")
        axes[0].legend(fontsize=8)
    with report.figure("phi4_M_histogram") as (fig, ax):
        bins = np.linspace(-1.5 * np.abs(m_data).max(), 1.5 * np.abs(m_data).max(), 60)
        ax.hist(m_data, bins=bins, density=True, alpha=0.5, label="HMC (symmetrised)")
        ax.hist(np.asarray(x_gen).mean(axis=(1, 2)), bins=bins, density=True, alpha=0.5, label="diffusion (EM)")
        ax.set(xlabel="M", ylabel="density", title=rf"magnetisation, {L}x{L}")
        ax.legend()


def _binder(m: np.ndarray, n_blocks: int = 20) -> tuple[float, float]:
    """Binder cumulant U4 = 1 - <M^4>/(3<M^2>^2) with a jackknife error."""
    from dphys.stats import jackknife

    est = jackknife(lambda d: 1 - np.mean(d**4) / (3 * np.mean(d**2) ** 2), np.asarray(m, np.float64), n_blocks)
    return float(est.value), float(est.error)


def _weightings(config: dict[str, Any]) -> list[str]:
    return _names(config["weightings"])


def run(config: dict[str, Any], report: Report) -> None:
    key = jax.random.PRNGKey(config["seed"])
    toy_key, phi_key = jax.random.split(key)
    _toy(config, report, toy_key)
    if config["phi4"]:
        _phi4(config, report, phi_key)


def _check(config: dict[str, Any]) -> str | None:
    bad = [p for p in _names(config["processes"]) if p not in ("ve", "vp")]
    if bad or not _names(config["processes"]):
        return f"--processes={config['processes']!r}: expected a comma-separated subset of ['ve', 'vp']"
    unknown = [w for w in _weightings(config) if w not in dd.WEIGHTINGS]
    if unknown or not _weightings(config):
        return f"--weightings={config['weightings']!r}: unknown {unknown}; known: {sorted(dd.WEIGHTINGS)}"
    if config["steps"] % config["track_points"]:
        return f"--steps={config['steps']} must be a multiple of --track-points={config['track_points']}"
    return None


WORKFLOW = register(
    Workflow(
        name="cumulants",
        description="Cumulants kappa_1..6 through forward and backward diffusion (VE conserves, VP damps): "
        "the exactly solvable +/- mu toy with exact and learned scores, and phi^4 magnetisation",
        run=run,
        check=_check,
        params=(
            Param("mu", 1.0, "toy data x0 = +/- mu", check=positive),
            Param("processes", "ve,vp", "forward processes of the toy study (comma-separated: ve, vp)"),
            Param("samples", 20000, "toy samples per tracked process", quick=10000, check=_at_least(100)),
            Param("train_samples", 8192, "toy training set size", quick=4096, check=_at_least(16)),
            Param("steps", 500, "Euler-Maruyama steps of the backward process", quick=200, check=_at_least(1)),
            Param("track_points", 10, "times at which cumulants are measured", check=_at_least(2)),
            Param("forward_dt", 2e-3, "step of the forward SDE", unit="t", check=positive),
            Param("t_min", 1e-3, "earliest time of both processes", unit="t", check=positive),
            Param("ve_sigma", 25.0, "VE (Song) sigma", check=lambda v: None if v > 1 else "must be > 1"),
            Param("train_steps", 3000, "DSM training steps (each toy network)", quick=800, check=_at_least(1)),
            Param("batch_size", 256, "DSM batch size", check=_at_least(1)),
            Param("learning_rate", 3e-3, "Adam learning rate (cosine decay)", check=positive),
            Param("width", 64, "toy MLP width", check=_at_least(1)),
            Param("weightings", "ncsn,sigma2", "DSM weightings compared on the toy (comma-separated; the first "
                  "also trains the phi^4 score)", quick="ncsn"),
            Param("phi4", True, "run the phi^4 study"),
            Param("L", 8, "phi^4 lattice size", check=_at_least(2)),
            Param("kappa", 0.26, "phi^4 hopping parameter", check=positive),
            Param("lam", 0.022, "phi^4 quartic coupling", check=positive),
            Param("chains", 16, "HMC chains", check=_at_least(1)),
            Param("hmc_samples", 500, "HMC samples per chain", quick=200, check=_at_least(10)),
            Param("therm", 200, "HMC thermalisation trajectories", quick=100, check=_at_least(1)),
            Param("n_leapfrog", 10, "leapfrog steps per HMC trajectory", check=_at_least(1)),
            Param("lattice_train_steps", 4000, "DSM training steps of the phi^4 score", quick=2000,
                  check=_at_least(1)),
            Param("lattice_width", 256, "phi^4 score MLP width", check=_at_least(1)),
            Param("phi4_samples", 4000, "generated phi^4 configurations", quick=2000, check=_at_least(100)),
        ),
    )
)
