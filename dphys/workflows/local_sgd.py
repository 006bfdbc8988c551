r"""`local-sgd`: mini-batch SGD, accelerated mini-batch SGD and local SGD at a fixed number of
communication rounds R, on quadratics with controlled heterogeneity (`dphys.distributed`).

M machines each make K stochastic-gradient calls per round. The problem family
(`heterogeneous_quadratic`) has exact optimum $x^\star = 0$, $F^\star = 0$, first-order heterogeneity
$\zeta$ (gradients at the optimum), second-order heterogeneity $\tau$ (Hessian spread) and noise
$\sigma$. For every algorithm and every horizon $r \le R$ the step size is tuned over a geometric
grid (as in Woodworth et al., NeurIPS 2020): the curve shown is
$\min_\eta [F(x_r(\eta)) - F^\star]$ (noisy runs: mean over seeds, error = standard error).

Regimes swept (noiseless, $\zeta \in \{0, \zeta\}$, $\tau \in \{0, \tau\}$, K in `local_steps`):

- $\tau = 0$: the averaged local iterate is exact gradient descent with K R steps, so local SGD
  beats mini-batch SGD by about a factor K in the $H B^2/(K R)$ term, whatever $\zeta$.
- $\zeta > 0$, $\tau > 0$: the machines drift to their own minimisers, whose average is not
  $x^\star$; local SGD loses to mini-batch SGD at large R (the construction of the module docstring
  of `dphys.distributed.problems`).

plus a noisy homogeneous regime ($\zeta = \tau = 0$, $\sigma > 0$). Slopes of
$\log(F - F^\star)$ against $\log R$ over the last factor 4 of R are compared with the worst-case
rates (REFERENCES.md, Woodworth et al. 2020): mini-batch $H B^2/R$ (slope -1), accelerated
$H B^2/R^2$ (-2), local SGD with $\tau = 0$ $H B^2/(KR)$ (-1), local SGD heterogeneous
$(H\zeta^2B^4)^{1/3}/R^{2/3}$ (-2/3,
an upper bound; on this instance local SGD's curve flattens against mini-batch SGD's as the machines
drift towards their biased fixed point), and the noise term $\sigma B/\sqrt{MKR}$ (-1/2).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from dphys.distributed import ALGORITHMS, heterogeneous_quadratic, step_size_sweep
from dphys.report import Report
from dphys.workflows import Param, Workflow, nonnegative, positive, register

THEORY_SLOPE = {"minibatch": -1.0, "accelerated": -2.0, "local_homogeneous": -1.0,
                "local_heterogeneous": -2.0 / 3.0, "noise": -0.5}
LABEL = {"minibatch": "mini-batch SGD", "accelerated": "accelerated mini-batch SGD (AC-SA)",
         "local": "local SGD"}


def parse_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        values = []
    return values


def _check_steps(text: str) -> str | None:
    values = parse_ints(text)
    return None if values and all(v > 0 for v in values) else "must be comma-separated positive integers, e.g. 4,16"


def tuned_curve(algorithm, problem, local_steps, rounds, etas, keys):
    """min over step sizes of the seed-mean suboptimality at every round; with its standard error."""
    sub = np.asarray(step_size_sweep(algorithm, problem, keys, etas, local_steps=local_steps, rounds=rounds),
                     np.float64)  # (eta, seed, R+1)
    sub = np.where(np.isfinite(sub), sub, np.inf)
    mean = sub.mean(1)
    best = np.argmin(mean, axis=0)
    r = np.arange(rounds + 1)
    err = sub.std(1, ddof=1)[best, r] / np.sqrt(sub.shape[1]) if sub.shape[1] > 1 else np.zeros(rounds + 1)
    return mean[best, r], err, np.asarray(etas)[best]


def slope(rounds_axis: np.ndarray, values: np.ndarray, r_max: int) -> tuple[float, float]:
    """Least-squares slope of log(values) vs log(R) over R in [r_max/4, r_max]; its standard error."""
    sel = (rounds_axis >= r_max / 4) & (rounds_axis >= 1)
    x, y = np.log(rounds_axis[sel]), np.log(np.maximum(values[sel], 1e-300))
    (b, a), cov = np.polyfit(x, y, 1, cov=True) if sel.sum() > 3 else (np.polyfit(x, y, 1), np.zeros((2, 2)))
    return float(b), float(np.sqrt(max(cov[0, 0], 0.0)))


def run(config: dict[str, Any], report: Report) -> None:
    M, d, R = config["machines"], config["dim"], config["rounds"]
    Ks = parse_ints(config["local_steps"])
    zeta, tau, sigma = config["zeta"], config["tau"], config["sigma"]
    key = jax.random.PRNGKey(config["seed"])
    r_axis = np.arange(R + 1)
    regimes = [(z, t) for z in (0.0, zeta) for t in (0.0, tau)]
    results: dict = {}
    jobs = [(z, t, K, alg) for z, t in regimes for K in Ks for alg in ALGORITHMS]
    noise_jobs = [(K, alg) for K in Ks for alg in ALGORITHMS]
    with tqdm(total=len(jobs) + len(noise_jobs), desc="local-sgd") as bar:
        for z, t, K, alg in jobs:
            prob = heterogeneous_quadratic(M, d, zeta=z, tau=t, decay=config["decay"])
            etas = 2.0 ** -np.arange(config["step_grid"]) / float(prob.smoothness)
            results[(z, t, K, alg)] = tuned_curve(alg, prob, K, R, etas, key[None])
            bar.update()
        noisy = heterogeneous_quadratic(M, d, sigma=sigma, decay=config["decay"])
        seeds = jax.random.split(key, config["seeds"])
        etas = 2.0 ** -np.arange(config["step_grid"] + 4) / float(noisy.smoothness)
        for K, alg in noise_jobs:
            results[("noise", K, alg)] = tuned_curve(alg, noisy, K, R, etas, seeds)
            bar.update()

    K_max = max(Ks)
    report.add("rounds", R)
    report.add("machines", M)
    # fixed budget R: who wins in each (zeta, tau, K) regime and by how much
    for z, t in regimes:
        for K in Ks:
            final = {alg: results[(z, t, K, alg)][0][-1] for alg in ALGORITHMS}
            tag = f"z{z:g}_t{t:g}_K{K}"
            report.add(f"subopt_minibatch_{tag}", final["minibatch"])
            report.add(f"subopt_accelerated_{tag}", final["accelerated"])
            report.add(f"subopt_local_{tag}", final["local"])
            report.add(f"gain_local_vs_minibatch_{tag}", final["minibatch"] / final["local"],
                       unit="(F-F*)_minibatch / (F-F*)_local, > 1: local SGD wins")
            report.add(f"gain_local_vs_accelerated_{tag}", final["accelerated"] / final["local"],
                       unit="(F-F*)_accelerated / (F-F*)_local, > 1: local SGD wins")
            report.add(f"winner_{tag}", ALGORITHMS.index(min(final, key=final.get)),
                       unit="index into (minibatch, local, accelerated)")
    # the two constructions named by the issue
    win, lose = (zeta, 0.0, K_max), (zeta, tau, K_max)
    report.add("local_wins_gain", results[(*win, "minibatch")][0][-1] / results[(*win, "local")][0][-1],
               unit=f"(F-F*) mini-batch / local at zeta={zeta}, tau=0, K={K_max}; > 1 local wins")
    report.add("local_loses_gain", results[(*lose, "minibatch")][0][-1] / results[(*lose, "local")][0][-1],
               unit=f"(F-F*) mini-batch / local at zeta={zeta}, tau={tau}, K={K_max}; < 1 local loses")
    # slopes against the theoretical rates
    for name, key_, theory in (
        ("minibatch", (zeta, 0.0, K_max, "minibatch"), THEORY_SLOPE["minibatch"]),
        ("accelerated", (zeta, 0.0, K_max, "accelerated"), THEORY_SLOPE["accelerated"]),
        ("local_homogeneous", (zeta, 0.0, K_max, "local"), THEORY_SLOPE["local_homogeneous"]),
        ("local_heterogeneous", (zeta, tau, K_max, "local"), THEORY_SLOPE["local_heterogeneous"]),
        ("noise_minibatch", ("noise", K_max, "minibatch"), THEORY_SLOPE["noise"]),
        ("noise_local", ("noise", K_max, "local"), THEORY_SLOPE["noise"]),
        ("noise_accelerated", ("noise", K_max, "accelerated"), THEORY_SLOPE["noise"]),
    ):
        b, _ = slope(r_axis, results[key_][0], R)  # deterministic (noiseless) or seed-averaged curve
        report.add(f"slope_{name}", b, None, theory,
                   unit="d log(F-F*) / d log R over [R/4, R] (reference: exponent of the worst-case rate)")
    for alg in ALGORITHMS:
        mean, err, _ = results[("noise", K_max, alg)]
        report.add(f"noise_subopt_{alg}", mean[-1], err[-1], unit=f"F-F* at R={R}, sigma={sigma}, K={K_max}")

    _figures(report, results, regimes, Ks, r_axis, config)


def _figures(report, results, regimes, Ks, r_axis, config):
    K_max, R = max(Ks), config["rounds"]
    colors = {"minibatch": "C0", "local": "C1", "accelerated": "C2"}
    with report.figure("suboptimality_vs_rounds", nrows=2, ncols=2, figsize=(10, 8)) as (fig, axes):
        for ax, (z, t) in zip(np.ravel(axes), regimes):
            for alg in ALGORITHMS:
                for K in Ks if alg == "local" else [K_max]:
                    ls = "-" if K == K_max else ":"
                    lab = LABEL[alg] + (f" K={K}" if alg == "local" else "")
                    ax.loglog(r_axis[1:], results[(z, t, K, alg)][0][1:], ls, color=colors[alg], label=lab)
            ref = results[(z, t, K_max, "minibatch")][0][R // 4]
            for s, txt in ((-1, "R^-1"), (-2, "R^-2"), (-2 / 3, "R^-2/3")):
                ax.loglog(r_axis[R // 4:], ref * (r_axis[R // 4:] / (R // 4)) ** s, "k--", lw=0.6)
                ax.text(R, ref * (R / (R // 4)) ** s, txt, fontsize=7)
            ax.set(title=rf"$\zeta$={z:g}, $\tau$={t:g}, $\sigma$=0", xlabel="rounds R",
                   ylabel=r"$F - F^\star$ (tuned $\eta$)")
        np.ravel(axes)[0].legend(fontsize=7)
    with report.figure("noisy_regime") as (fig, ax):
        for alg in ALGORITHMS:
            mean, err, _ = results[("noise", K_max, alg)]
            ax.loglog(r_axis[1:], mean[1:], color=colors[alg], label=LABEL[alg])
            ax.fill_between(r_axis[1:], (mean - err)[1:], (mean + err)[1:], color=colors[alg], alpha=0.3)
        m0 = results[("noise", K_max, "minibatch")][0][R // 4]
        ax.loglog(r_axis[R // 4:], m0 * (r_axis[R // 4:] / (R // 4)) ** -0.5, "k--", lw=0.6, label=r"$R^{-1/2}$")
        ax.set(title=rf"homogeneous, $\sigma$={config['sigma']}, K={K_max}, {config['seeds']} seeds",
               xlabel="rounds R", ylabel=r"$F - F^\star$")
        ax.legend(fontsize=8)
    with report.figure("gain_vs_K") as (fig, ax):
        for z, t in regimes:
            gains = [results[(z, t, K, "minibatch")][0][-1] / results[(z, t, K, "local")][0][-1] for K in Ks]
            ax.semilogy(Ks, gains, "o-", label=rf"$\zeta$={z:g}, $\tau$={t:g}")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set(xscale="log", xlabel="local steps K", ylabel=f"(F-F*) mini-batch / local at R={R}",
               title="> 1: local SGD wins")
        ax.legend(fontsize=8)


def _check(config: dict[str, Any]) -> str | None:
    if config["tau"] >= 1.0:
        return f"--tau={config['tau']} must be < 1 (the smoothness H = 1) so every local objective is convex"
    if config["machines"] % 2:
        return f"--machines={config['machines']} must be even (heterogeneous signs come in pairs)"
    if config["rounds"] < 8:
        return f"--rounds={config['rounds']} must be >= 8 to fit slopes"
    return None


WORKFLOW = register(
    Workflow(
        name="local-sgd",
        description="Mini-batch vs accelerated mini-batch vs local SGD at fixed communication rounds on "
        "quadratics with controlled heterogeneity (zeta, tau, sigma, K): winners and rate slopes",
        run=run,
        check=_check,
        params=(
            Param("machines", 16, "machines M", quick=8, check=positive),
            Param("dim", 100, "dimension d of the quadratic", quick=60, check=positive),
            Param("rounds", 256, "communication rounds R (budget)", quick=64, check=positive),
            Param("local_steps", "2,8,32", "local steps K (comma-separated)", quick="4,16", check=_check_steps),
            Param("zeta", 1.0, "first-order heterogeneity zeta (gradient norm at the optimum)", check=nonnegative),
            Param("tau", 0.5, "second-order heterogeneity tau (Hessian spread, H = 1)", check=nonnegative),
            Param("sigma", 1.0, "gradient noise sigma of the noisy regime", check=positive),
            Param("decay", 3.0, "spectral decay p of the Hessian eigenvalues i^-p", check=positive),
            Param("step_grid", 12, "step sizes tuned over (1/L) 2^-j, j < step_grid", quick=10, check=positive),
            Param("seeds", 8, "seeds of the noisy regime", quick=4, check=positive),
        ),
    )
)
