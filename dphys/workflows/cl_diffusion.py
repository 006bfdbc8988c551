r"""`cl-diffusion`: diffusion models that learn the distributions produced by complex Langevin.

For an action with a sign problem, complex Langevin (CL) with real noise samples a real
distribution $P(x, y)$ on the complexified variables $z = x + iy$ whose holomorphic averages
equal the path-integral averages $\langle O\rangle = \int O e^{-S}/\int e^{-S}$; $P$ itself is not
known in closed form (except for the Gaussian action, where CL is an Ornstein-Uhlenbeck process
and $P$ is the 2D Gaussian of `GaussianAction.cl_density`). This workflow

1. samples $P$ with CL (`dphys.lattice.cl_density.cl_ensemble`: adaptive thermalisation, then
   a fixed ShARK step; a runaway chain stops the run: no model is trained on runaway samples);
2. trains a score model on the CL states (a small MLP, odd in the state because $S(z) = S(-z)$
   makes $P(x, y) = P(-x, -y)$; for the chain also random translations and reflections of every
   batch) by denoising score matching under the VE process
   $x_t = x_0 + \sigma(t)\epsilon$, $\sigma(t) = \sigma_{min}(\sigma_{max}/\sigma_{min})^t$
   (`dphys.diffusion.VEGeometric`, NCSN weighting), with `dphys.fit`;
3. generates new states with the reverse SDE and reports $\langle z^n\rangle$ (real and imaginary
   parts, `--orders`) and the cumulants $\kappa_{2,4,6}$ from CL, from the diffusion samples and
   exactly (closed forms, quadrature, transfer matrix); for `gauss` also $\langle x^2\rangle$,
   $\langle y^2\rangle$, $\langle xy\rangle$ against the exact CL covariance;
4. for the one-variable models evaluates the learned log-density $\log p_0(x, y)$ on a grid by the
   probability-flow ODE (`dd.log_likelihood`, exact divergence) and compares it with a histogram of
   the CL samples (L1 distance, and the L1 distance between the histogram and the exact density as
   the histogram's own noise floor) and, for `gauss`, with the exact density
   $\mathcal N(0, C + \sigma_{min}^2 I)$ (L1 and KL distances); the learned score against the exact
   score $-(C + \sigma(t)^2 I)^{-1}v$ of the noised Gaussian at several noise levels.

**Errors.** CL errors are Langevin-time weighted jackknife errors over blocks of whole chains
(`cl_observables`). The diffusion samples are independent draws from the learned distribution, but
the learned distribution inherits the statistical fluctuation of its finite CL training set, so a
diffusion estimate is reported with the error $\sqrt{e_\text{gen}^2 + e_\text{CL}^2}$ (generation
and training-data errors added in quadrature); `gen_error_*` metrics give $e_\text{gen}$ alone.

`chain` is $N$ complex anharmonic oscillators on a periodic imaginary-time lattice
(`AnharmonicChainAction`): the state is a vector of $2N$ numbers, moments are single-site ones
(averaged over the sites, `dphys.lattice.cl_density.moment_estimates`); for the Gaussian chain
(`--lam 0`) also the correlations between
neighbouring sites $\langle x_ix_{i+1}\rangle$, $\langle y_iy_{i+1}\rangle$, $\langle x_iy_{i+1}\rangle$
against the exact covariance of the whole $2N$-dimensional CL state (`dphys.lattice.cl_density`,
Lyapunov equation).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import dphys.diffusion as dd
from dphys.diffusion.training import fit_score
from dphys.lattice.cl_density import (
    CL_MODELS,
    cl_ensemble,
    cl_model,
    gaussian_cl_covariance,
    moment_estimates,
    neighbour_correlations,
)
from dphys.lattice.complex_langevin import cl_observables
from dphys.lattice.complex_models import GaussianAction
from dphys.nn import ScoreMLP
from dphys.report import Report
from dphys.stats import Estimate
from dphys.train import augmented_batches
from dphys.workflows import (
    Param,
    Workflow,
    complex_check,
    nonnegative,
    orders_check,
    parse_complex,
    parse_orders,
    positive,
    register,
)

MODELS = CL_MODELS


def _at_least(n: int):
    return lambda v: None if v >= n else f"must be >= {n}"


def _lam_check(text: str) -> str | None:
    if (problem := complex_check(text)) is not None:
        return problem
    lam = parse_complex(text)
    return None if lam.real > 0 or lam == 0 else "needs Re lam > 0 for exp(-lam z^4/4) to decay (or 0: a Gaussian)"


def _to_pairs(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], axis=-1).astype(np.float32)


def _chain_augment(key, x):
    """Random translations and reflections of periodic chain states (batch, sites, 2)."""
    k_shift, k_flip = jax.random.split(key)
    shifts = jax.random.randint(k_shift, (x.shape[0],), 0, x.shape[1])
    flips = jax.random.bernoulli(k_flip, 0.5, (x.shape[0],))

    def move(c, sh, fl):
        c = jnp.roll(c, sh, axis=0)
        return jnp.where(fl, c[::-1], c)

    return jax.vmap(move)(x, shifts, flips)


def _train_score(data: np.ndarray, config: dict[str, Any], key, chain: bool = False, progress: bool = True):
    """A `ScoreModel` (odd `ScoreMLP`) trained by NCSN-weighted DSM (`dphys.diffusion.training.fit_score`)
    on states `data` (n, *state). Returns (model, losses)."""
    process = dd.VEGeometric(sigma_min=config["sigma_min"], sigma_max=config["sigma_max"])
    net_key, train_key = jax.random.split(key)
    net = ScoreMLP(data.shape[1:], width=config["width"], depth=config["depth"], z2_odd=True, key=net_key)
    model = dd.ScoreModel(net, process, sigma_data=float(np.sqrt(np.mean(data**2))))
    augment = _chain_augment if chain else (lambda k, x: x)
    batches = augmented_batches(jnp.asarray(data), config["batch_size"], augment)
    return fit_score(model, batches, train_key, steps=config["train_steps"],
                        learning_rate=config["learning_rate"], weighting="ncsn", progress=progress,
                        desc="cl-diffusion DSM")


def _combined(gen: Estimate, train: Estimate) -> float:
    return float(math.hypot(gen.error, train.error))


# ---------------------------------------------------------------------------
# density and score checks (one complex variable)
# ---------------------------------------------------------------------------


def _grid(xy: np.ndarray, n: int, width: float = 4.0):
    """A regular grid of n x n cell centres covering +-width standard deviations per axis."""
    half = width * xy.reshape(-1, 2).std(axis=0)
    edges = [np.linspace(-h, h, n + 1) for h in half]
    centres = [(e[1:] + e[:-1]) / 2 for e in edges]
    gx, gy = np.meshgrid(*centres, indexing="ij")
    area = (edges[0][1] - edges[0][0]) * (edges[1][1] - edges[1][0])
    return edges, gx, gy, area


def _gaussian_logpdf(cov: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    v = np.stack([gx, gy], axis=-1)
    q = np.einsum("...i,ij,...j->...", v, np.linalg.inv(cov), v)
    return -q / 2 - np.log(2 * np.pi * np.sqrt(np.linalg.det(cov)))


def density_checks(model, xy: np.ndarray, config, report: Report, exact_cov: np.ndarray | None):
    """Learned log p on a grid against the CL histogram (and the exact Gaussian); `xy` the CL
    states (measurements, chains, 2)."""
    half = xy.shape[1] // 2
    xy_a, xy_b = xy[:, :half].reshape(-1, 2), xy[:, half:].reshape(-1, 2)
    xy_cl = xy.reshape(-1, 2)
    edges, gx, gy, area = _grid(xy_cl, config["grid"])
    points = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], axis=-1), jnp.float32)
    logp, info = dd.log_likelihood(model, points, rtol=1e-4, atol=1e-4)
    logp = np.asarray(logp, np.float64).reshape(gx.shape)
    p = np.exp(logp)
    counts, *_ = np.histogram2d(xy_cl[:, 0], xy_cl[:, 1], bins=edges)
    p_hist = counts / (len(xy_cl) * area)
    report.add("learned_mass_on_grid", float(p.sum() * area), reference=float(counts.sum() / len(xy_cl)))
    report.add("l1_learned_vs_histogram", float(np.abs(p - p_hist).sum() * area))
    # the histogram's own noise: half the L1 distance between the histograms of the two halves
    # of the chains (each half has twice the variance per bin of the full histogram)
    halves = [np.histogram2d(h[:, 0], h[:, 1], bins=edges)[0] / (len(h) * area) for h in (xy_a, xy_b)]
    report.add("l1_histogram_noise", float(np.abs(halves[0] - halves[1]).sum() * area / 2))
    well = counts >= 50
    report.add("logp_rms_learned_vs_histogram", float(np.sqrt(np.mean((logp[well] - np.log(p_hist[well])) ** 2))),
               unit="nats")
    out = dict(edges=edges, gx=gx, gy=gy, logp=logp, p_hist=p_hist)
    if exact_cov is not None:
        # VEGeometric's t = 0 marginal is the data convolved with N(0, sigma_min^2)
        logp_exact = _gaussian_logpdf(exact_cov + config["sigma_min"] ** 2 * np.eye(2), gx, gy)
        p_exact = np.exp(logp_exact)
        report.add("l1_learned_vs_exact", float(np.abs(p - p_exact).sum() * area))
        report.add("kl_exact_learned", float(np.sum(p_exact * (logp_exact - logp)) * area), unit="nats")
        report.add("l1_histogram_vs_exact", float(np.abs(p_hist - p_exact).sum() * area))
        # the floor set by the finite training set: the Gaussian with the CL samples' own second
        # moments (about 0, as P(x, y) = P(-x, -y)) against the exact one
        sample_cov = xy_cl.T.astype(np.float64) @ xy_cl.astype(np.float64) / len(xy_cl)
        p_fit = np.exp(_gaussian_logpdf(sample_cov + config["sigma_min"] ** 2 * np.eye(2), gx, gy))
        report.add("l1_sample_gaussian_vs_exact", float(np.abs(p_fit - p_exact).sum() * area))
        out["logp_exact"] = logp_exact
    return out


def score_checks(model, xy_cl: np.ndarray, cov: np.ndarray, config, report: Report, key):
    r"""Relative L2 error of the learned score against $-(C + s^2 I)^{-1}v$ on noised CL states."""
    process = model.process
    levels = np.geomspace(max(config["sigma_min"], 0.02), min(config["sigma_max"], 3.0), 8)
    x0 = jnp.asarray(xy_cl[: min(len(xy_cl), 4000)])
    errors = []
    for i, s in enumerate(levels):
        t = float(process.t_of_std(s)) if hasattr(process, "t_of_std") else None
        xt = x0 + s * jax.random.normal(jax.random.fold_in(key, i), x0.shape)
        learned = np.asarray(jax.vmap(lambda v: model(v, t))(xt), np.float64)
        exact = -np.asarray(xt, np.float64) @ np.linalg.inv(cov + s**2 * np.eye(2))
        errors.append(float(np.sqrt(np.mean(np.sum((learned - exact) ** 2, -1)) / np.mean(np.sum(exact**2, -1)))))
    for s, e in zip(levels, errors):
        if s in (levels[0], levels[len(levels) // 2], levels[-1]):
            report.add(f"score_rel_error_s{s:.3g}", e)
    return levels, np.asarray(errors)


def chain_correlations(action, z_cl, w_cl, z_gen, w_gen, report: Report):
    r"""Gaussian chain (lam = 0): correlations between neighbouring sites of the CL and diffusion
    states against the exact CL covariance of the whole 2N-dimensional state (Lyapunov equation,
    `gaussian_cl_covariance`): the learned distribution couples the components of the vector."""
    sigma = gaussian_cl_covariance(action.gaussian_matrix())
    n = action.n_sites
    exact = {"x0x1": sigma[0, 1], "y0y1": sigma[n, n + 1], "x0y1": sigma[0, n + 1]}
    cl, gen = neighbour_correlations(z_cl, w_cl), neighbour_correlations(z_gen, w_gen)
    for name, ref in exact.items():
        report.add(f"cl_{name}", cl[name].value, cl[name].error, ref)
        report.add(f"diffusion_{name}", gen[name].value, _combined(gen[name], cl[name]), ref)


# ---------------------------------------------------------------------------
# the workflow
# ---------------------------------------------------------------------------


def run(config: dict[str, Any], report: Report) -> None:
    progress = config.get("progress", True)
    orders = parse_orders(config["orders"])
    sigma, lam = parse_complex(config["sigma"]), parse_complex(config["lam"])
    action, site_shape, reference = cl_model(config["model"], sigma, lam, n_sites=config["sites"],
                                             spacing=config["spacing"])
    exact_moments = action.moments(max(6, max(orders)))
    is_gauss = isinstance(action, GaussianAction)
    chain = config["model"] == "chain"
    cl_key, train_key, gen_key, check_key = jax.random.split(jax.random.PRNGKey(config["seed"]), 4)

    try:
        z_cl, w_cl, _ = cl_ensemble(action, cl_key, site_shape, dt=config["dt"], chains=config["chains"],
                                    time=config["time"], therm=config["therm"], measure_every=config["measure_every"],
                                    chunks=config["chunks"], solver=config["solver"], bound=config["bound"],
                                    progress=progress)
    except ValueError as e:  # a runaway: its samples do not follow the CL stationary distribution
        raise ValueError(f"{e}; refusing to train a diffusion model on runaway samples") from e
    report.add("cl_samples", z_cl.shape[0] * z_cl.shape[1])
    data = _to_pairs(z_cl.reshape(-1, *site_shape))  # (n, *sites, 2)
    model, losses = _train_score(data, config, train_key, chain, progress)
    report.add("dsm_loss_final", float(np.mean(losses[-max(1, len(losses) // 10):])))

    state_shape = data.shape[1:]
    xy_gen, info = dd.sample(model, gen_key, state_shape, n_samples=config["samples"], sampler=config["sampler"],
                             steps=config["steps"])
    xy_gen = np.asarray(xy_gen, np.float64)
    if not np.all(np.isfinite(xy_gen)):
        raise FloatingPointError("the diffusion sampler produced non-finite states; train longer or lower --lr")
    z_gen = xy_gen[..., 0] + 1j * xy_gen[..., 1]
    w_gen = np.ones(len(z_gen))
    report.add("score_evals_per_sample", info.n_score_evals)

    # moments, cumulants, covariance
    obs_cl, obs_gen = cl_observables(z_cl, w_cl), cl_observables(z_gen, w_gen)
    names = [f"kappa{n}_{p}" for n in (2, 4, 6) for p in ("re", "im")] + (["x2", "y2", "xy"] if is_gauss else [])
    m_cl, m_gen = moment_estimates(z_cl, w_cl, orders), moment_estimates(z_gen, w_gen, orders)
    for n in orders:
        for i, part in enumerate(("re", "im")):
            ref = float(getattr(exact_moments[n - 1], "real" if part == "re" else "imag"))
            cl, gen = m_cl[n][i], m_gen[n][i]
            report.add(f"cl_z{n}_{part}", cl.value, cl.error, ref)
            report.add(f"diffusion_z{n}_{part}", gen.value, _combined(gen, cl), ref)
            report.add(f"gen_error_z{n}_{part}", gen.error)
    for name in names:
        ref = reference.get(name)
        report.add(f"cl_{name}", obs_cl[name].value, obs_cl[name].error, ref)
        report.add(f"diffusion_{name}", obs_gen[name].value, _combined(obs_gen[name], obs_cl[name]), ref)
    if is_gauss:
        report.add("gen_error_x2", obs_gen["x2"].error)

    fields = score = None
    if not site_shape:
        xy_cl = data.astype(np.float64)
        cov = action.cl_covariance() if is_gauss else None
        fields = density_checks(model, data.reshape(*z_cl.shape, 2), config, report, cov)
        if is_gauss:
            score = score_checks(model, xy_cl, cov, config, report, check_key)
    elif config["model"] == "chain" and parse_complex(config["lam"]) == 0:
        chain_correlations(action, z_cl, w_cl, z_gen, w_gen, report)
    _figures(report, config, model, z_cl, w_cl, z_gen, m_cl, m_gen, exact_moments, orders, fields, score, action)


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def _title(config):
    t = f"{config['model']}: sigma = {config['sigma']}"
    return t if config["model"] == "gauss" else t + f", lam = {config['lam']}"


def _figures(report, config, model, z_cl, w_cl, z_gen, m_cl, m_gen, exact, orders, fields, score, action):
    title = _title(config)
    x_cl, y_cl = z_cl.real.ravel(), z_cl.imag.ravel()
    w = np.broadcast_to(w_cl.reshape(*w_cl.shape, *([1] * (z_cl.ndim - w_cl.ndim))), z_cl.shape).ravel()
    edges = [np.linspace(-s, s, 81) for s in (np.quantile(np.abs(v), 0.998) for v in (x_cl, y_cl))]
    site = "" if z_cl.ndim == 2 else " (all sites)"
    with report.figure("xy_distributions", ncols=2, figsize=(12, 5)) as (fig, axes):
        h_cl, *_ = np.histogram2d(x_cl, y_cl, bins=edges, weights=w, density=True)
        h_gen, *_ = np.histogram2d(z_gen.real.ravel(), z_gen.imag.ravel(), bins=edges, density=True)
        vmax = max(h_cl.max(), h_gen.max())
        for ax, h, label in zip(axes, (h_cl, h_gen), ("complex Langevin", "diffusion model")):
            image = ax.pcolormesh(edges[0], edges[1], h.T, vmin=0, vmax=vmax, cmap="viridis")
            if isinstance(action, GaussianAction):
                gx, gy = np.meshgrid(*edges, indexing="ij")
                ax.contour(gx, gy, action.cl_density(gx, gy), levels=5, colors="w", linewidths=0.8)
                ax.plot([], [], "w-", label="exact P(x, y)")
                ax.legend(loc="upper right")
            ax.set(xlabel="x = Re z", ylabel="y = Im z", title=f"{label}{site}: {title}")
        fig.colorbar(image, ax=axes[1], label="P(x, y)")

    with report.figure("moments", ncols=2, figsize=(12, 4.8)) as (fig, axes):
        for k, n in enumerate(orders):
            for (est, marker, label) in ((m_cl, "o", "CL"), (m_gen, "s", "diffusion")):
                re, im = est[n]
                axes[0].errorbar(re.value, im.value, xerr=re.error, yerr=im.error, fmt=marker, color=f"C{k}",
                                 mfc="none" if label == "CL" else None, label=f"n = {n}: {label}")
            axes[0].plot(exact[n - 1].real, exact[n - 1].imag, "kx", ms=10)
        axes[0].plot([], [], "kx", label="exact")
        axes[0].set(xlabel=r"Re $\langle z^n\rangle$", ylabel=r"Im $\langle z^n\rangle$", title=title)
        axes[0].legend(fontsize="small")
        labels, pulls, colours = [], [], []
        for n in orders:
            for i, part in enumerate(("Re", "Im")):
                ref = exact[n - 1].real if i == 0 else exact[n - 1].imag
                for est, colour, who in ((m_cl, "C0", "CL"), (m_gen, "C1", "diff")):
                    e = est[n][i]
                    err = e.error if who == "CL" else _combined(e, m_cl[n][i])
                    labels.append(f"{who} {part}<z^{n}>")
                    pulls.append((e.value - ref) / err if err > 0 else 0.0)
                    colours.append(colour)
        axes[1].barh(labels, pulls, color=colours)
        axes[1].axvspan(-3, 3, color="0.9", zorder=0)
        axes[1].invert_yaxis()
        axes[1].set(xlabel="(estimate - exact) / standard error", title="moments against exact values")

    if fields is None:
        return
    size = dict(ncols=2, figsize=(11, 4.8)) if score is None else dict(ncols=3, figsize=(16, 4.8))
    with report.figure("score_field", **size) as (fig, axes):
        process = model.process
        gx, gy = fields["gx"][::2, ::2], fields["gy"][::2, ::2]
        s_show = 0.1
        t = float(process.t_of_std(s_show))
        v = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], -1), jnp.float32)
        learned = np.asarray(jax.vmap(lambda u: model(u, t))(v)).reshape(*gx.shape, 2)
        axes[0].quiver(gx, gy, learned[..., 0], learned[..., 1], np.hypot(learned[..., 0], learned[..., 1]))
        axes[0].set(xlabel="x", ylabel="y", title=f"learned score at noise level s = {s_show}")
        if score is not None:
            cov = action.cl_covariance()
            ex = -np.stack([gx, gy], -1) @ np.linalg.inv(cov + s_show**2 * np.eye(2))
            axes[1].quiver(gx, gy, ex[..., 0], ex[..., 1], np.hypot(ex[..., 0], ex[..., 1]))
            axes[1].set(xlabel="x", ylabel="y", title=r"exact score $-(C + s^2)^{-1}v$")
            levels, errors = score
            axes[2].loglog(levels, errors, "o-")
            axes[2].set(xlabel="noise level s", ylabel="relative L2 error", title="learned vs exact score")
        else:
            axes[1].contourf(fields["gx"], fields["gy"], fields["logp"], levels=20)
            axes[1].set(xlabel="x", ylabel="y", title="learned log-density")

    with report.figure("density", ncols=3, figsize=(16, 4.8)) as (fig, axes):
        logp, gx, gy = fields["logp"], fields["gx"], fields["gy"]
        lo = logp.max() - 8
        c = axes[0].contourf(gx, gy, np.maximum(logp, lo), levels=16)
        fig.colorbar(c, ax=axes[0])
        axes[0].set(xlabel="x", ylabel="y", title="learned log p(x, y) (probability-flow ODE)")
        ref = fields.get("logp_exact")
        with np.errstate(divide="ignore"):
            hist = np.log(fields["p_hist"])
        c = axes[1].contourf(gx, gy, np.maximum(hist if ref is None else ref, lo), levels=16)
        fig.colorbar(c, ax=axes[1])
        axes[1].set(xlabel="x", ylabel="y", title="CL histogram log P" if ref is None else "exact log P(x, y)")
        mid = gx.shape[1] // 2
        axes[2].plot(gx[:, mid], logp[:, mid], "C1-", label="learned")
        axes[2].plot(gx[:, mid], hist[:, mid], "C0.", label="CL histogram")
        if ref is not None:
            axes[2].plot(gx[:, mid], ref[:, mid], "k--", label="exact")
        axes[2].set(xlabel="x", ylabel="log P", title=f"slice at y = {gy[0, mid]:.3g}", ylim=(lo, logp.max() + 0.5))
        axes[2].legend()


def _check(config: dict[str, Any]) -> str | None:
    sigma, lam = parse_complex(config["sigma"]), parse_complex(config["lam"])
    if (config["model"] == "gauss" or lam == 0) and sigma.real <= 0:
        return f"--sigma={config['sigma']} needs Re sigma > 0 when the action is Gaussian: the integral diverges"
    if config["sigma_min"] >= config["sigma_max"]:
        return f"--sigma-min={config['sigma_min']} must be < --sigma-max={config['sigma_max']}"
    return None


WORKFLOW = register(
    Workflow(
        name="cl-diffusion",
        description="Diffusion models trained on complex Langevin samples (Gaussian, quartic, anharmonic chain): "
        "moments, cumulants, learned score and density against exact results",
        run=run,
        check=_check,
        params=(
            Param("model", "gauss", "the action", choices=MODELS),
            Param("sigma", "1+1j", "quadratic coupling sigma, a complex number such as 1+1j (Re sigma > 0 for gauss)",
                  check=complex_check),
            Param("lam", "1", "quartic coupling lam (quartic and chain; 0: Gaussian)", check=_lam_check),
            Param("sites", 4, "lattice sites N (chain)", check=_at_least(2)),
            Param("spacing", 0.5, "lattice spacing a (chain)", check=positive),
            Param("solver", "shark", "CL fixed-step scheme", choices=("shark", "sea", "euler")),
            Param("dt", 0.01, "CL step", unit="Langevin time", check=positive),
            Param("chains", 512, "CL chains", quick=256, check=_at_least(2)),
            Param("time", 100.0, "CL Langevin time per chain after thermalisation", unit="Langevin time",
                  quick=40.0, check=positive),
            Param("therm", 5.0, "CL thermalisation time", unit="Langevin time", check=nonnegative),
            Param("measure_every", 0.2, "CL time between stored samples", unit="Langevin time", check=positive),
            Param("chunks", 4, "CL chunks (progress updates)", quick=2, check=_at_least(1)),
            Param("bound", 1e3, "|z| above this is a runaway CL run: no training on it", check=positive),
            Param("sigma_min", 0.01, "VE noise level at t = 0", check=positive),
            Param("sigma_max", 10.0, "VE noise level at t = 1", check=positive),
            Param("width", 128, "score MLP width", check=_at_least(4)),
            Param("depth", 3, "score MLP hidden layers", check=_at_least(1)),
            Param("train_steps", 8000, "DSM training steps", quick=4000, check=_at_least(1)),
            Param("batch_size", 512, "DSM batch size", check=_at_least(1)),
            Param("learning_rate", 2e-3, "Adam learning rate (cosine decay)", check=positive),
            Param("sampler", "em", "reverse-time sampler", choices=tuple(dd.SAMPLERS)),
            Param("steps", 500, "sampler steps", quick=300, check=_at_least(1)),
            Param("samples", 40000, "generated states", quick=20000, check=_at_least(100)),
            Param("grid", 40, "density grid points per axis (one-variable models)", quick=32, check=_at_least(8)),
            Param("orders", "2,4,6", "moment orders <z^n> to report (comma-separated, 1..16)", check=orders_check),
        ),
    )
)
