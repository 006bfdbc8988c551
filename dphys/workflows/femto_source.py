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
  (`dphys.femto.fitting.fit_least_squares`), parameter errors from $(J^T J)^{-1}$.
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

**Real data** (`--data alice-pp13`, or `--data PATH` of a folder laid out like
`../shared/data/alice_pp13TeV_MB_pp`): the ALICE pp 13 TeV minimum-bias p-p correlation function
(`dphys.femto.alice`, `hCk_ReweightedMeV_0`, statistical errors, bins up to `kmax` = 350 MeV/c),
fitted with the full decomposition of `dphys.femto.decomposition`: Argonne v18 in $^1S_0$,
$^3P_{0,1,2}$, $^1D_2$ plus Coulomb (`--potential av18`; `reid`: Reid soft-core $^1S_0$ only),
the momentum-resolution matrix (x true), p-Lambda feed-down (chiral NLO Lednicky-Lyuboshitz through
the decay matrix), lambda parameters 0.748 / 0.151 / 0.101 (flat + misidentified) and a baseline
$N$ (`--baseline constant`) or $N(1 + ak)$ (`linear`). Every source model fits $N$ (and $a$) too;
the p-Lambda source is a Gaussian of the pp Gaussian fit's radius (tied to $R$ in the Gaussian fit
itself). The neural source's members fit $N$ with a prior $N(1, 0.05^2)$ (anchored like the
weights). ndf = points $-$ fitted parameters ($-\gamma$ for the neural source). Figures: C(k) with
every component ($N R[\lambda_i (C_i - 1)] + 1$), the residuals, the sources with the band.
Measured (full mode, seed 0): Gaussian $R = 1.166 \pm 0.008$ fm, $\chi^2$ = 131.3/86; core + tail
84.6/84; neural 82.6/80.3. The flexible sources gain by putting pairs at $r \lesssim 0.5$ fm, where the
AV18 core and the Pauli principle make $K(k, r) \approx 0$ at every $k$: a $k$-independent $C = 0$
component, i.e. a smaller effective $\lambda_\text{gen}$ (a Gaussian fit with $\lambda_\text{gen}$ free
gives $0.65 \pm 0.02$ and $\chi^2$ = 115.2/85), not a physical short-range source component.

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
from dphys.femto import alice, correlation, sources
from dphys.femto import decomposition as decomp
from dphys.femto.data import DEFAULT_SOURCE, load_default
from dphys.femto.fitting import effective_parameters, fit_ensemble, fit_least_squares, p_value, whitening
from dphys.report import Report
from dphys.scattering import AV18, ReidSoftCore1S0
from dphys.workflows import Param, Workflow, positive, register


@eqx.filter_jit
def _profile_jit(source, r):
    return 4 * jnp.pi * r**2 * source(r)


def _profile(source, r):
    r"""$4\pi r^2 S(r)$ [fm^-1] as a NumPy array."""
    return np.asarray(_profile_jit(source, jnp.asarray(r)))


def run(config: dict[str, Any], report: Report) -> None:
    if config["data"] != "default":
        return _run_real(config, report)
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
        profiles = eqx.filter_jit(
            eqx.filter_vmap(lambda s, x: 4 * jnp.pi * x**2 * s(x), in_axes=(eqx.if_array(0), None)))
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
    report.add("ensemble_chi2_data_mean", float(ens.chi2_data.mean()),
               float(ens.chi2_data.std(ddof=1) / np.sqrt(len(ens.chi2_data))))

    with report.figure("correlation", nrows=2, sharex=True, figsize=(7, 6.5),
                       gridspec_kw={"height_ratios": [3, 1.4]}) as (fig, (ax, res)):
        fits = ((C_neural, "C2-", f"neural source (ensemble mean), $\\chi^2$/ndf = {chi2_neural / ndf_neural:.2f}"),
                (gauss.prediction, "C0--", f"Gaussian R = {float(gauss.params['radius']):.3f} fm, "
                 f"$\\chi^2$/ndf = {gauss.chi2_ndf:.2f}"),
                (core_tail.prediction, "C1:", f"core + tail, $\\chi^2$/ndf = {core_tail.chi2_ndf:.2f}"))
        _data_and_fits(ax, res, data, ens, fits)
        ax.set(ylabel=r"$C(k^*)$", title="pp (Reid $^1S_0$ + Coulomb), pseudo-data")
        res.set(xlabel=r"$k^*$ [MeV/$c$]", ylabel=r"(fit $-$ data)/$\sigma$")
        ax.legend(fontsize=8)
    _source_figures(report, r_plot, S_plot, [(S_true_plot, "k-", "true source (core + tail)", dict(lw=2)),
                                              (S_gauss_plot, "C0--", "Gaussian fit", {}),
                                              (S_ct_plot, "C1:", "core + tail fit", {})],
                    "pp source: ", r_mark=config["r_compare"])


DATA_SHORTCUTS = {"alice-pp13": None}  # None: alice.shared_data_dir()


def _run_real(config: dict[str, Any], report: Report) -> None:
    folder = None if config["data"] in DATA_SHORTCUTS else config["data"]
    pp = alice.load_pp13(folder)
    data = pp.data(config["kmax"])
    n = len(data)
    linear = config["baseline"] == "linear"
    if config["potential"] == "av18":
        potentials = {w: AV18(w) for w in correlation.PP_WAVES}
        pot_label = "AV18 $^1S_0$, $^3P_{0,1,2}$, $^1D_2$ + Coulomb"
    else:
        potentials = {"1S0": ReidSoftCore1S0()}
        pot_label = "Reid $^1S_0$ + Coulomb"
    key = jax.random.PRNGKey(config["seed"])

    with jax.enable_x64(True):
        dec = decomp.build_pp13(pp, potentials, kmax=config["kmax"], n_sub=config["bin_points"])

        def base(p):
            return p["norm"], (p["slope"] if linear else 0.0)

        def start(**kw):
            return {**kw, "norm": 1.0, **({"slope": 0.0} if linear else {})}

        gauss = fit_least_squares(lambda p: decomp.predict(dec, sources.GaussianSource(p["radius"]), *base(p)),
                                  start(radius=1.2), data)
        r_pl = float(gauss.params["radius"])

        def ct_source(p):
            return sources.CoreTailSource(p["radius"], p["tail_length"], p["tail_fraction"])

        core_tail = fit_least_squares(lambda p: decomp.predict(dec, ct_source(p), *base(p), pl_radius=r_pl),
                                      start(radius=1.0, tail_length=1.5, tail_fraction=0.3), data)

        def make(k):
            k1, k2, k3 = jax.random.split(k, 3)
            src = sources.NeuralSource(k1, width=config["width"], depth=config["depth"], r_scale=config["r_scale"],
                                       init_scale=config["init_scale"], cutoff=config["tail_cutoff"])
            bl = {"norm": 1.0 + 0.05 * jax.random.normal(k2, dtype=jnp.float64)}
            if linear:
                bl["slope"] = 1e-4 * jax.random.normal(k3, dtype=jnp.float64)
            return src, bl

        def predict_neural(model):
            src, bl = model
            return decomp.predict(dec, src, bl["norm"], bl.get("slope", 0.0), pl_radius=r_pl)

        ens = fit_ensemble(predict_neural, make, data, members=config["members"], steps=config["steps"], key=key,
                           include_data=False, anchored=True, weight_decay=None,
                           learning_rate=config["learning_rate"], desc="neural source ensemble")
        gamma = effective_parameters(predict_neural, ens.member(0), data, ens.precision)
        r_plot = np.linspace(0.01, 20.0, 300)
        profiles = eqx.filter_jit(eqx.filter_vmap(lambda m, x: 4 * jnp.pi * x**2 * m[0](x),
                                                  in_axes=(eqx.if_array(0), None)))
        S_plot = np.asarray(profiles(ens.models, jnp.asarray(r_plot)))
        g_src = sources.GaussianSource(gauss.params["radius"])
        S_gauss_plot = _profile(g_src, r_plot)
        S_ct_plot = _profile(ct_source(core_tail.params), r_plot)
        # the components at the data's momenta: N R[lambda_i (C_i - 1)] + 1
        comp = dec.components(g_src, r_pl)
        N = np.asarray(decomp.baseline(dec.k_data_mev, *base(gauss.params)))
        R = np.asarray(dec.resolution)
        lam_gen, lam_pl, lam_flat = dec.lam
        C_pp_smeared = N * (R @ (lam_gen * (np.asarray(comp["pp"]) - 1))) + 1
        C_pl_smeared = N * (R @ (lam_pl * (np.asarray(comp["pL"]) - 1))) + 1
        C_pp_true = np.asarray(comp["pp"])

    C_neural = ens.predictions.mean(axis=0)
    W = whitening(data)
    chi2_neural = float(np.sum((W @ (C_neural - data.C)) ** 2))
    ndf_neural = n - gamma

    report.add("n_points", n)
    report.add("kmax", config["kmax"], unit="MeV/c")
    report.add("lambda_genuine", lam_gen)
    report.add("lambda_pL", lam_pl)
    report.add("lambda_flat", lam_flat)
    report.add("gauss_radius", gauss.params["radius"], gauss.errors["radius"], reference=1.2, unit="fm")
    report.add("gauss_norm", gauss.params["norm"], gauss.errors["norm"])
    if linear:
        report.add("gauss_slope", gauss.params["slope"], gauss.errors["slope"], unit="(MeV/c)^-1")
    report.add("gauss_chi2", gauss.chi2)
    report.add("gauss_ndf", gauss.ndf)
    report.add("gauss_chi2_ndf", gauss.chi2_ndf)
    report.add("gauss_p_value", gauss.p_value)
    for name in ("radius", "tail_length", "tail_fraction"):
        report.add(f"coretail_{name}", core_tail.params[name], core_tail.errors[name],
                   unit="1" if name == "tail_fraction" else "fm")
    report.add("coretail_chi2", core_tail.chi2)
    report.add("coretail_ndf", core_tail.ndf)
    report.add("coretail_chi2_ndf", core_tail.chi2_ndf)
    report.add("neural_chi2", chi2_neural)
    report.add("neural_ndf", ndf_neural)
    report.add("neural_chi2_ndf", chi2_neural / ndf_neural)
    report.add("neural_effective_params", gamma)
    report.add("neural_p_value", p_value(chi2_neural, ndf_neural))
    report.add("ensemble_chi2_data_mean", float(ens.chi2_data.mean()),
               float(ens.chi2_data.std(ddof=1) / np.sqrt(len(ens.chi2_data))))

    k_mev = data.k_mev
    with report.figure("correlation", nrows=2, sharex=True, figsize=(7.5, 7),
                       gridspec_kw={"height_ratios": [3, 1.4]}) as (fig, (ax, res)):
        fits = ((C_neural, "C2-", f"neural source, $\\chi^2$/ndf = {chi2_neural:.1f}/{ndf_neural:.1f}"),
                (gauss.prediction, "C0-", f"Gaussian R = {float(gauss.params['radius']):.3f} fm, "
                 f"$\\chi^2$/ndf = {gauss.chi2:.1f}/{gauss.ndf:.0f}"),
                (core_tail.prediction, "C1:", f"core + tail, $\\chi^2$/ndf = {core_tail.chi2:.1f}/{core_tail.ndf:.0f}"))
        _data_and_fits(ax, res, data, ens, fits)
        ax.plot(k_mev, C_pp_smeared, "C3--", lw=1, label=f"Gaussian: $\\lambda_{{gen}}$ p-p ({lam_gen:.3f}), smeared")
        ax.plot(k_mev, C_pl_smeared, "C4--", lw=1, label=f"Gaussian: $\\lambda_{{p\\Lambda}}$ feed-down ({lam_pl:.3f})")
        ax.plot(k_mev, N, "0.5", ls="-.", lw=1, label=f"baseline, flat $\\lambda$ = {lam_flat:.3f}")
        ax.plot(pp.ck.centres[: len(C_pp_true)], C_pp_true, "C3:", lw=1,
                label="Gaussian: genuine p-p (true $k^*$, unsmeared)")
        ax.set(ylabel=r"$C(k^*)$", title=f"ALICE pp 13 TeV MB p-p, {pot_label}", xlim=(0, config["kmax"]))
        ax.set_ylim(0, max(4.0, float(np.max(data.C[1:])) * 1.1))
        res.set(xlabel=r"$k^*$ [MeV/$c$]", ylabel=r"(fit $-$ data)/$\sigma$")
        ax.legend(fontsize=7)
    _source_figures(report, r_plot, S_plot, [(S_gauss_plot, "C0--", "Gaussian fit", {}),
                                              (S_ct_plot, "C1:", "core + tail fit", {})],
                    "p-p source from ALICE pp 13 TeV: ")


def _data_and_fits(ax, res, data, ens, fits) -> None:
    """The data, the neural ensemble's 68 % band and every fit `(C, style, label)`, with its pulls in `res`."""
    k_mev = data.k_mev
    ax.errorbar(k_mev, data.C, data.error, fmt="ko", ms=3, label=data.label)
    lo, hi = np.percentile(ens.predictions, [16, 84], axis=0)
    ax.fill_between(k_mev, lo, hi, color="C2", alpha=0.3)
    for C_fit, style, label in fits:
        ax.plot(k_mev, C_fit, style, label=label)
        res.plot(k_mev, (C_fit - data.C) / data.error, style, marker=".", ms=3)
    res.axhline(0, color="k", lw=0.8)


def _source_figures(report, r_plot, S_plot, curves, title: str, r_mark: float | None = None) -> None:
    r"""`source` and `source_log`: $4\pi r^2 S(r)$ of the neural ensemble (mean, 1 and 2 sigma bands) and
    `curves` `(values, style, label, plot kwargs)`."""
    for name, log in (("source", False), ("source_log", True)):
        with report.figure(name, figsize=(7, 4.5)) as (fig, ax):
            m, s = S_plot.mean(axis=0), S_plot.std(axis=0, ddof=1)
            ax.fill_between(r_plot, np.maximum(m - 2 * s, 1e-7 if log else -np.inf), m + 2 * s, color="C2", alpha=0.2,
                            label=r"neural $\pm 2\sigma$ (anchored ensemble)")
            ax.fill_between(r_plot, np.maximum(m - s, 1e-7 if log else -np.inf), m + s, color="C2", alpha=0.4,
                            label=r"neural $\pm 1\sigma$")
            ax.plot(r_plot, m, "C2-", label="neural (ensemble mean)")
            for values, style, label, kw in curves:
                ax.plot(r_plot, values, style, label=label, **kw)
            if r_mark is not None:
                ax.axvline(r_mark, color="0.7", lw=0.8)
            ax.set(xlabel="r [fm]", ylabel=r"$4\pi r^2 S(r)$ [fm$^{-1}$]",
                   title=title + ("tail (log scale)" if log else "reconstruction"))
            if log:
                ax.set_yscale("log")
                ax.set_ylim(1e-5, 1)
            ax.legend(fontsize=8)

def _check(config: dict[str, Any]) -> str | None:
    if config["members"] < 2:
        return f"--members={config['members']} must be >= 2 (the band is the members' spread)"
    if config["data"] not in ("default", *DATA_SHORTCUTS):
        from pathlib import Path

        if not (Path(config["data"]) / "converted").is_dir():
            return (f"--data={config['data']!r} must be 'default', one of {list(DATA_SHORTCUTS)} or a folder laid out "
                    "like ../shared/data/alice_pp13TeV_MB_pp (with converted/)")
    elif config["data"] in DATA_SHORTCUTS and alice.shared_data_dir() is None:
        return f"--data={config['data']!r}: the shared data folder ../shared/data/{alice.DATASET} is absent"
    return None


WORKFLOW = register(
    Workflow(
        name="femto-source",
        description="Emission source of pp pairs from their correlation function (default pseudo-data, or the ALICE "
        "pp 13 TeV data with --data alice-pp13 and the full decomposition): Gaussian, core + tail and neural sources "
        "with an anchored-ensemble band",
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
            Param("kmax", 350.0, "largest momentum of the data used (the pseudo-data end at 300)", unit="MeV/c",
                  check=positive),
            Param("data", "default", "'default' (the shipped pseudo-data), 'alice-pp13' (the shared ALICE pp 13 TeV "
                  "data) or the path of a folder laid out like it"),
            Param("potential", "av18", "real data: 'av18' (1S0, 3P0-2, 1D2) or 'reid' (Reid 1S0 only)",
                  choices=("av18", "reid")),
            Param("baseline", "constant", "real data: baseline N or N(1 + a k)", choices=("constant", "linear")),
            Param("bin_points", 1, "real data: points per 4 MeV/c bin at which C_pp is averaged (1: centre)",
                  check=positive),
            Param("r_compare", 12.0, "largest r where the band is compared with the true source", unit="fm",
                  check=positive),
        ),
    )
)
