r"""`femto-source`: reconstruct the emission source of proton pairs from their correlation function,
with a Gaussian, a core + tail and a neural source, the potential fixed (Reid soft-core $^1S_0$ +
Coulomb).

The data are the package's default **pseudo-data** (`dphys.femto.data.load_default`): the pp
correlation function of a non-Gaussian source (Gaussian core $R = 1.2$ fm, 40% of pairs in an
exponential tail of length 2 fm from resonance decays) with ALICE-like errors, so the reconstructed
source is compared with the true one.

With the potential fixed the Koonin-Pratt kernel $K(k, r)$ is computed once
(`dphys.femto.correlation.pp_kernel`); every model evaluation inside the fits and the training
loop is then the matrix-vector product $C = 1 + W S (K - 1)$ (`correlation.fold`).

- Gaussian source (1 parameter) and core + tail source (3 parameters): Levenberg-Marquardt
  (`dphys.femto.fit.fit_least_squares`), parameter errors from $(J^T J)^{-1}$.
- Neural source: `dphys.femto.sources.NeuralSource` (an MLP, positive and normalised by
  construction) with an exponential cutoff $e^{-r/\ell_c}$ ($\ell_c$ = `tail_cutoff`, 5 fm, far
  beyond the physical tails). Without the cutoff the network's $r^{-4}$ envelope lets
  it park a few percent of the pairs at $r \gtrsim 20$ fm, which the data ($k \ge 6$ MeV/c) cannot
  see and which trades against the 5-10 fm region, like the $\lambda$ parameter.
  **Uncertainty band: an anchored ensemble** (`fit.fit_ensemble(anchored=True)`, randomise-then-
  optimise): `members` networks, each drawn from the initialisation prior (weights scaled by
  `init_scale`), fitted to its own Gaussian resampling of the data with a Gaussian prior of the
  initialisation's per-leaf precision centred on its own initial weights. For a model linear in its
  weights each member is an exact posterior draw; here an approximate one. Unlike a plain bootstrap
  ensemble (which only spreads with the data's noise) it keeps the prior's spread in the directions
  the data do not determine, which is where an inverse problem's uncertainty lives. The neural
  result is the ensemble mean, the band its pointwise standard deviation.
- $\chi^2/\mathrm{ndf}$: $n - 1$ and $n - 3$ degrees of freedom for the analytic sources,
  $n - \gamma$ for the neural one, with $\gamma$ MacKay's effective number of parameters
  (`fit.effective_parameters`) at the first member.

Metrics: $\chi^2/\mathrm{ndf}$ of every model and of the true source, the Gaussian radius with its
error, the core + tail parameters against the truth, and how well the neural band covers the true
$4\pi r^2 S(r)$ on $0.2 \le r \le$ `r_compare` (fraction of points within 2 standard deviations,
largest deviation in standard deviations), with the Gaussian fit's deviation in the same units.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from dphys.constants import HBARC
from dphys.femto import correlation, sources
from dphys.femto.data import DEFAULT_SOURCE, load_default
from dphys.femto.fit import effective_parameters, fit_ensemble, fit_least_squares, p_value, whitening
from dphys.report import Report
from dphys.workflows import Param, Workflow, positive, register


@eqx.filter_jit
def _profile_jit(source, r):
    return 4 * jnp.pi * r**2 * source(r)


def _profile(source, r):
    r"""$4\pi r^2 S(r)$ [fm^-1] as a NumPy array."""
    return np.asarray(_profile_jit(source, jnp.asarray(r)))


def run(config: dict[str, Any], report: Report) -> None:
    data = load_default()
    if config["kmax"] < data.k_mev.max():
        data = data.select(kmax=config["kmax"] / HBARC)
    n = len(data)
    true_source = sources.CoreTailSource(**DEFAULT_SOURCE)
    key = jax.random.PRNGKey(config["seed"])

    with jax.enable_x64(True):
        kernel = correlation.pp_kernel(data.k)  # the potential is fixed: one kernel for every fit

        def predict(source):
            return correlation.fold(source, kernel)

        gauss = fit_least_squares(lambda p: predict(sources.GaussianSource(p["radius"])), {"radius": 1.3}, data)
        core_tail = fit_least_squares(
            lambda p: predict(sources.CoreTailSource(p["radius"], p["tail_length"], p["tail_fraction"])),
            {"radius": 1.3, "tail_length": 1.5, "tail_fraction": 0.3}, data)
        C_true = np.asarray(eqx.filter_jit(predict)(true_source))

        def make(k):
            return sources.NeuralSource(k, width=config["width"], depth=config["depth"], r_scale=config["r_scale"],
                                        init_scale=config["init_scale"], cutoff=config["tail_cutoff"])

        ens = fit_ensemble(predict, make, data, members=config["members"], steps=config["steps"], key=key,
                           include_data=False, anchored=True, weight_decay=None,
                           learning_rate=config["learning_rate"], desc="neural source ensemble")
        gamma = effective_parameters(predict, ens.member(0), data, ens.precision)
        r = np.linspace(0.2, config["r_compare"], 60)
        r_plot = np.linspace(0.01, 25.0, 300)
        profiles = eqx.filter_jit(eqx.filter_vmap(lambda s, x: 4 * jnp.pi * x**2 * s(x), in_axes=(eqx.if_array(0), None)))
        S_members = np.asarray(profiles(ens.models, jnp.asarray(r)))
        S_plot = np.asarray(profiles(ens.models, jnp.asarray(r_plot)))
        S_true, S_true_plot = _profile(true_source, r), _profile(true_source, r_plot)
        S_gauss, S_gauss_plot = (_profile(sources.GaussianSource(gauss.params["radius"]), x) for x in (r, r_plot))
        ct = sources.CoreTailSource(core_tail.params["radius"], core_tail.params["tail_length"],
                                    core_tail.params["tail_fraction"])
        S_ct_plot = _profile(ct, r_plot)

    # the neural result: the ensemble mean (C is linear in S, so its C is the mean prediction)
    C_neural = ens.predictions.mean(axis=0)
    W = whitening(data)
    chi2_neural = float(np.sum((W @ (C_neural - data.C)) ** 2))
    ndf_neural = n - gamma
    chi2_true = float(np.sum((W @ (C_true - data.C)) ** 2))
    mean, sd = S_members.mean(axis=0), S_members.std(axis=0, ddof=1)
    pulls = (mean - S_true) / sd
    gauss_pulls = (S_gauss - S_true) / sd

    report.add("n_points", n)
    report.add("gauss_radius", gauss.params["radius"], gauss.errors["radius"], unit="fm")
    report.add("gauss_chi2_ndf", gauss.chi2_ndf)
    report.add("gauss_p_value", gauss.p_value)
    for name in ("radius", "tail_length", "tail_fraction"):
        report.add(f"coretail_{name}", core_tail.params[name], core_tail.errors[name], reference=DEFAULT_SOURCE[name],
                   unit="1" if name == "tail_fraction" else "fm")
    report.add("coretail_chi2_ndf", core_tail.chi2_ndf)
    report.add("neural_chi2_ndf", chi2_neural / ndf_neural)
    report.add("neural_effective_params", gamma)
    report.add("neural_p_value", p_value(chi2_neural, ndf_neural))
    report.add("true_source_chi2_ndf", chi2_true / n)  # the truth has no fitted parameter
    report.add("neural_band_coverage_2sigma", float(np.mean(np.abs(pulls) <= 2)))
    report.add("neural_max_pull", float(np.max(np.abs(pulls))))
    report.add("gauss_max_pull", float(np.max(np.abs(gauss_pulls))))
    report.add("ensemble_chi2_data_mean", float(ens.chi2_data.mean()), float(ens.chi2_data.std(ddof=1) / np.sqrt(len(ens.chi2_data))))

    k_mev = data.k_mev
    with report.figure("correlation", nrows=2, sharex=True, figsize=(7, 6.5),
                       gridspec_kw={"height_ratios": [3, 1.4]}) as (fig, (ax, res)):
        ax.errorbar(k_mev, data.C, data.error, fmt="ko", ms=3, label=data.label)
        lo, hi = np.percentile(ens.predictions, [16, 84], axis=0)
        ax.fill_between(k_mev, lo, hi, color="C2", alpha=0.3)
        fits = ((C_neural, "C2-", f"neural source (ensemble mean), $\\chi^2$/ndf = {chi2_neural / ndf_neural:.2f}"),
                (gauss.prediction, "C0--", f"Gaussian R = {float(gauss.params['radius']):.3f} fm, "
                 f"$\\chi^2$/ndf = {gauss.chi2_ndf:.2f}"),
                (core_tail.prediction, "C1:", f"core + tail, $\\chi^2$/ndf = {core_tail.chi2_ndf:.2f}"))
        for C_fit, style, label in fits:
            ax.plot(k_mev, C_fit, style, label=label)
            res.plot(k_mev, (C_fit - data.C) / data.error, style, marker=".", ms=3)
        res.axhline(0, color="k", lw=0.8)
        ax.set(ylabel=r"$C(k^*)$", title="pp (Reid $^1S_0$ + Coulomb), pseudo-data")
        res.set(xlabel=r"$k^*$ [MeV/$c$]", ylabel=r"(fit $-$ data)/$\sigma$")
        ax.legend(fontsize=8)
    for name, log in (("source", False), ("source_log", True)):
        with report.figure(name, figsize=(7, 4.5)) as (fig, ax):
            m, s = S_plot.mean(axis=0), S_plot.std(axis=0, ddof=1)
            ax.fill_between(r_plot, np.maximum(m - 2 * s, 1e-7 if log else -np.inf), m + 2 * s, color="C2", alpha=0.2,
                            label=r"neural $\pm 2\sigma$ (anchored ensemble)")
            ax.fill_between(r_plot, np.maximum(m - s, 1e-7 if log else -np.inf), m + s, color="C2", alpha=0.4,
                            label=r"neural $\pm 1\sigma$")
            ax.plot(r_plot, m, "C2-", label="neural (ensemble mean)")
            ax.plot(r_plot, S_true_plot, "k-", lw=2, label="true source (core + tail)")
            ax.plot(r_plot, S_gauss_plot, "C0--", label="Gaussian fit")
            ax.plot(r_plot, S_ct_plot, "C1:", label="core + tail fit")
            ax.axvline(config["r_compare"], color="0.7", lw=0.8)
            ax.set(xlabel="r [fm]", ylabel=r"$4\pi r^2 S(r)$ [fm$^{-1}$]",
                   title="pp source: " + ("tail (log scale)" if log else "reconstruction"))
            if log:
                ax.set_yscale("log")
                ax.set_ylim(1e-5, 1)
            ax.legend(fontsize=8)


def _check(config: dict[str, Any]) -> str | None:
    if config["members"] < 2:
        return f"--members={config['members']} must be >= 2 (the band is the members' spread)"
    return None


WORKFLOW = register(
    Workflow(
        name="femto-source",
        description="Emission source of pp pairs from their correlation function (default pseudo-data): "
        "Gaussian, core + tail and neural sources with an anchored-ensemble band, against the true source",
        run=run,
        check=_check,
        params=(
            Param("members", 32, "neural ensemble members (the band)", quick=24, check=positive),
            Param("steps", 4000, "optimiser steps of the ensemble training", quick=4000, check=positive),
            Param("learning_rate", 1e-2, "peak Adam learning rate", check=positive),
            Param("width", 32, "hidden width of the neural source's MLP", check=positive),
            Param("depth", 2, "hidden layers of the neural source's MLP", check=positive),
            Param("r_scale", 3.0, "length scale of the neural source's input map and envelope", unit="fm",
                  check=positive),
            Param("init_scale", 10.0, "factor on the initial weights (breadth of the prior over shapes)",
                  check=positive),
            Param("tail_cutoff", 5.0, "exponential cutoff length of the neural source", unit="fm", check=positive),
            Param("kmax", 300.0, "largest momentum of the data used", unit="MeV/c", check=positive),
            Param("r_compare", 12.0, "largest r where the band is compared with the true source", unit="fm",
                  check=positive),
        ),
    )
)
