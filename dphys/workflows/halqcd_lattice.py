r"""`halqcd-lattice`: HAL QCD on real lattice QCD data: the Xi-Xi $^1S_0$ potential from NBS wave
functions on a $48^4$ ensemble, and the scattering of the published $L = 40$ potentials.

**Data** (`--data`, default `../shared/data` next to the repository): `halqcd_xixi_L48_sample/`
(compressed NBS wave functions at $t = 9, 10, 11$ and hadron correlators of **one** gauge
configuration measured in 4 orientations, $m_\pi = 510$ MeV, $a^{-1} = 2194$ MeV) and
`halqcd_xixi_L40_PRD99/` (Iritani et al., PRD 99 (2019) 014514: LO potentials on $L = 40$, wall and
smeared sources, $t = 10 \ldots 16$, mean and error per point).

1. $48^3$: the compressed files are read (`dphys.halqcd.read_compressed_nbs`), projected on the spin
   singlet and decompressed onto the box; $R = \mathrm{Re}\,\psi/C_\Xi^2$ with the forward/backward Xi
   correlator; jackknife over `--bin-size` orientations (2 bins of 2 by default). **The 4
   orientations are one configuration: the jackknife error measures the orientation spread, not the
   gauge-ensemble fluctuation; it underestimates the true statistical error.** The time-dependent LO
   potential at $t = 10$ term by term (`lo_terms`: Laplacian, first and second time derivatives),
   A1-projected, in lattice units and MeV; binned in $r$.
2. An unsupervised neural local potential trained on these R-correlators on the box
   (`dphys.halqcd.fit_potential`, one network per jackknife sample), compared with LO.
3. $L = 40$: per source and $t$, a 4-Gaussian fit (`fit_gaussians`) and a neural fit (`fit_neural`)
   of $V(r)$ over $r \le$ `--rmax`, each over `--replicas` bootstrap replicas of the published
   errors (replica 0 = data); their phase shifts $\delta(k)$ (`dphys.scattering.phase_shift`) and
   scattering lengths (particle-physics sign, $k\cot\delta = -1/a + \ldots$). The central $t$ is
   `--t-ref`; the spread over $t = 12 \ldots 16$ and both sources is reported separately as the
   systematic error (`*_syst`: half the max - min).

Metrics (errors: jackknife for $48^3$, bootstrap for $L = 40$): `V48_lo_<r>` LO on $48^3$ in 0.05 fm
bins at $r$ = 0.1, 0.3, 0.5, 1.0 fm [MeV] (`V48_lo_<r>_lat` in $a^{-1}$), `V48_nn_<r>` the neural one
(reference: LO), `V40_<src>_<r>` the Gaussian fit at `--t-ref`, `delta_<src>_<k>` [deg] at
$k$ = 0.2, 0.5, 1.0 fm^-1, `a0_<src>_t<t>` [fm], `a0_nn_<src>` the neural fit's, `chi2dof_<src>_t<t>`.

**Measured** (seed 0; full mode 3.4 min, `--quick` 1.5 min on 2 shared cores). $48^3$ LO at
$r$ = 0.1, 0.3, 0.5, 1.0 fm: 1590.5(11.9), 166.8(2.7), 0.5(4.4), -19.3(1.5) MeV (jackknife over 2
bins of orientations of one configuration), the Laplacian term dominating (1582, 167.5, 6.8, -10.3
MeV); the neural potential on the same R-correlators 1489(48), 161.5(1.9), -1.0(4.2), -19.6(0.3) MeV.
$L = 40$, wall, $t = 13$, 4 Gaussians ($\chi^2$/dof 0.95): 1413.6(5.2), 161.6(1.8), -4.8(0.6),
-21.6(0.2) MeV (bootstrap, 40 replicas); $\delta$ at $k$ = 0.2, 0.5, 1.0 fm^-1: 16.3(0.4), 26.7(0.4),
22.3(0.2) deg, with a spread over $t = 12 \ldots 16$ and both sources of $\pm$10.1, 10.9, 4.5 deg (the
systematic dominates); $a_0$ = -1.59(4) fm (wall) and -2.13(4) fm (exp) at $t = 13$, from -0.6 to -2.9
fm over $t = 12 \ldots 16$ ($\pm$1.2 fm). The tests assert the $48^3$ values, the wall fit and its
$\delta(k)$ (tests/halqcd/test_lattice.py, test_published.py).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from dphys.halqcd import (
    XIXI_AINV,
    XIXI_MASS,
    Correlator,
    NeuralPotential,
    a1_project,
    bin_in_r,
    bootstrap_replicas,
    decompress_singlet,
    fit_gaussians,
    fit_neural,
    fit_potential,
    jackknife_band,
    lattice_spacing,
    lo_terms,
    load_published,
    load_xixi_sample,
    r_correlator,
    read_records,
    representative_sites,
)
from dphys.halqcd.lattice import data_root
from dphys.report import Report
from dphys.scattering import GaussianSum, effective_range, phase_shift
from dphys.workflows import Param, Workflow, positive, register

RADII = (0.1, 0.3, 0.5, 1.0)  # [fm] where V(r) is reported
MOMENTA = (0.2, 0.5, 1.0)  # [fm^-1] where delta(k) is reported
SYST_T = (12, 13, 14, 15, 16)
TERMS = ("laplacian", "first", "second", "total")


def _gauss_eval(c, d, r):
    return jax.vmap(lambda cc, dd: GaussianSum(c=cc, d=dd)(r))(c, d)


def _delta(model_fn, params, ks, mu):
    return np.asarray(eqx.filter_vmap(lambda p: jax.vmap(lambda k: phase_shift(model_fn(p), k, mass=mu))(ks))(params))


def _a0(model_fn, params, mu):
    return np.asarray(eqx.filter_vmap(lambda p: effective_range(model_fn(p), mass=mu).a)(params))


def _boot(x):
    """Central value (replica 0, the data) and bootstrap error (std over replicas 1...)."""
    x = np.asarray(x)
    return x[0], x[1:].std(axis=0, ddof=1)


def run(config: dict[str, Any], report: Report) -> None:
    root = data_root(config["data"] or None)
    sample_dir, pub_dir = root / "halqcd_xixi_L48_sample", root / "halqcd_xixi_L40_PRD99"
    a, ainv, mu_lat = lattice_spacing(), XIXI_AINV, XIXI_MASS / 2
    mu = mu_lat * ainv  # [MeV]
    key = jax.random.PRNGKey(config["seed"])
    with jax.enable_x64(True):
        # --- 1. the 48^3 box ---
        sample = load_xixi_sample(sample_dir)
        sizes = [sum(r.length + 8 for r in read_records(f)[0]) for f in sample.files]
        report.add("nbs_files", len(sample.files))
        report.add("nbs_bytes_unaccounted", float(sum(abs(s - 760568) for s in sizes)), reference=0.0)
        R = decompress_singlet(r_correlator(sample.psi, sample.corr, sample.times, config["bin_size"]), sample.L)
        J = R.shape[0]
        terms = lo_terms(R, mu_lat)
        reps = representative_sites(sample.L)
        r48 = a * np.sqrt(np.sum(reps.astype(float) ** 2, axis=1))
        a1 = {name: np.asarray(a1_project(getattr(terms, name)[:, 0])) for name in TERMS}  # (J, n) [a^-1]
        edges = np.arange(0.0, 2.2, 0.05) - 0.025
        centres, binned, counts = bin_in_r(r48, a1["total"], edges)
        for r0 in RADII:
            sel = np.abs(r48 - r0) < 0.025
            mean, err = jackknife_band(a1["total"][:, sel].mean(axis=1))
            report.add(f"V48_lo_{r0:g}", float(mean * ainv), error=float(err * ainv), unit="MeV")
            report.add(f"V48_lo_{r0:g}_lat", float(mean), error=float(err), unit="a^-1")
            for name in TERMS[:3]:
                m, e = jackknife_band(a1[name][:, sel].mean(axis=1))
                report.add(f"V48_{name}_{r0:g}", float(m * ainv), error=float(e * ainv), unit="MeV")

        # --- 2. the neural local potential on the real R-correlators ---
        corr = Correlator(jnp.asarray(R), jnp.asarray(a * np.asarray(sample.times, float)), a, "box", mu, 0.0, True,
                          True)
        init = lambda k: NeuralPotential(k, width=config["width"], depth=3, length=1.0, scale=1000.0,  # noqa: E731
                                         envelope="gaussian")
        trained = fit_potential(corr, init, key=key, steps=config["steps"], learning_rate=3e-3, scale=100.0,
                                progress=True)
        rgrid = np.linspace(0.0, 2.0, 201)
        v_nn = np.asarray(eqx.filter_vmap(lambda m: m(jnp.asarray(rgrid)))(trained.model))  # (J, 201) [MeV]
        v_nn_reps = np.asarray(eqx.filter_vmap(lambda m: m(jnp.asarray(r48)))(trained.model))
        report.add("nn48_final_loss", float(trained.losses[-1]) / J)
        for r0 in RADII:
            sel = np.abs(r48 - r0) < 0.025
            lo_m, _ = jackknife_band(a1["total"][:, sel].mean(axis=1) * ainv)
            m, e = jackknife_band(v_nn_reps[:, sel].mean(axis=1))
            report.add(f"V48_nn_{r0:g}", float(m), error=float(e), reference=float(lo_m), unit="MeV")

        # --- 3. the published L = 40 potentials ---
        pots = load_published(pub_dir)
        B = config["replicas"]
        ks = jnp.asarray(MOMENTA)
        results = {}
        for i, ((src, t), p) in enumerate(pots.items()):
            reps_v = bootstrap_replicas(jax.random.fold_in(key, 100 + i), p.v, p.err, B)
            g = fit_gaussians(p.r, reps_v, p.err, rmax=config["rmax"])
            params = (g.c, g.d)
            gs = lambda q: GaussianSum(c=q[0], d=q[1])  # noqa: E731
            results[(src, t)] = dict(fit=g, reps=np.asarray(reps_v), delta=np.degrees(_delta(gs, params, ks, mu)),
                                     a0=_a0(gs, params, mu), v=np.asarray(jnp.stack([_gauss_eval(g.c, g.d, r)
                                                                                     for r in RADII], 1)))
        # neural fits of every (source, t) in one vmapped program (the first `nn_replicas` replicas each)
        labels = list(pots)
        nb = config["nn_replicas"]
        vv = np.concatenate([results[lab]["reps"][:nb] for lab in labels])
        ee = np.concatenate([np.broadcast_to(pots[lab].err, (nb, pots[lab].err.size)) for lab in labels])
        nn40 = fit_neural(jax.random.fold_in(key, 7), pots[labels[0]].r, vv, ee, rmax=config["rmax"],
                          steps=config["fit_steps"], width=16, depth=3, progress=True).model
        ident = lambda m: m  # noqa: E731
        delta_nn = np.degrees(_delta(ident, nn40, ks, mu)).reshape(len(labels), nb, -1)
        a0_nn = _a0(ident, nn40, mu).reshape(len(labels), nb)
        v_nn40 = np.asarray(eqx.filter_vmap(lambda m: m(jnp.asarray(rgrid)))(nn40)).reshape(len(labels), nb, -1)
        sel40 = pots[labels[0]].r <= config["rmax"]
        chi_nn = np.asarray(eqx.filter_vmap(lambda m: m(jnp.asarray(pots[labels[0]].r[sel40])))(nn40))
        chi_nn = chi_nn.reshape(len(labels), nb, -1)

    # --- metrics: L = 40 ---
    tref = config["t_ref"]
    for src in ("wall", "exp"):
        res = results[(src, tref)]
        for j, r0 in enumerate(RADII):
            m, e = _boot(res["v"][:, j])
            syst = np.ptp([results[(src, t)]["v"][0, j] for t in SYST_T]) / 2
            report.add(f"V40_{src}_{r0:g}", float(m), error=float(e), unit="MeV")
            report.add(f"V40_{src}_{r0:g}_syst", float(syst), unit="MeV")
        for j, k in enumerate(MOMENTA):
            m, e = _boot(res["delta"][:, j])
            syst = np.ptp([results[(s, t)]["delta"][0, j] for s in ("wall", "exp") for t in SYST_T]) / 2
            report.add(f"delta_{src}_{k:g}", float(m), error=float(e), unit="deg")
            report.add(f"delta_{k:g}_syst", float(syst), unit="deg")
            lab = labels.index((src, tref))
            mnn = delta_nn[lab, 0, j]
            enn = delta_nn[lab, 1:, j].std(ddof=1) if nb > 2 else float("nan")
            report.add(f"delta_nn_{src}_{k:g}", float(mnn), error=float(enn), reference=float(m), unit="deg")
        for t in sorted({t for s, t in pots if s == src}):
            m, e = _boot(results[(src, t)]["a0"])
            report.add(f"a0_{src}_t{t}", float(m), error=float(e), unit="fm")
            g = results[(src, t)]["fit"]
            report.add(f"chi2dof_{src}_t{t}", float(g.chi2[0]) / g.dof)
        lab = labels.index((src, tref))
        report.add(f"a0_nn_{src}", float(a0_nn[lab, 0]), error=float(a0_nn[lab, 1:].std(ddof=1)) if nb > 2 else None,
                   reference=float(results[(src, tref)]["a0"][0]), unit="fm")
        p = pots[(src, tref)]
        report.add(f"chi2dof_nn_{src}", float(np.mean(((chi_nn[lab, 0] - p.v[sel40]) / p.err[sel40]) ** 2)))
    a0_all = [results[(s, t)]["a0"][0] for s in ("wall", "exp") for t in SYST_T]
    report.add("a0_syst", float(np.ptp(a0_all) / 2), unit="fm")

    # --- figures ---
    colors = dict(laplacian="tab:blue", first="tab:orange", second="tab:green", total="k")
    with report.figure("lo_terms_48", ncols=2, figsize=(12, 4.5)) as (fig, ax):
        for name in TERMS:
            m, e = jackknife_band(a1[name])
            ax[0].errorbar(r48, m * ainv, e * ainv, fmt=".", ms=2, lw=0.5, color=colors[name], label=name)
        ax[0].set(xlabel="r [fm]", ylabel="V(r) [MeV]", ylim=(-100, 300), xlim=(0, 2.2),
                  title=r"$\Xi\Xi$ $^1S_0$ LO terms, $48^3$, t = 10 (A1, 1 config x 4 orient.)")
        ax[0].legend()
        sec = ax[0].secondary_yaxis("right", functions=(lambda x: x / ainv, lambda x: x * ainv))
        sec.set_ylabel(r"V [$a^{-1}$]")
        m, e = jackknife_band(binned)
        ok = counts > 0
        ax[1].errorbar(centres[ok], m[ok] * ainv, e[ok] * ainv, fmt="o", ms=3, color="k", label="LO, 0.05 fm bins")
        nm, ne = jackknife_band(v_nn)
        ax[1].plot(rgrid, nm, "b-", label="neural (box residual)")
        ax[1].fill_between(rgrid, nm - ne, nm + ne, color="b", alpha=0.3)
        ax[1].set(xlabel="r [fm]", ylabel="V(r) [MeV]", ylim=(-60, 200), xlim=(0, 2.0), title="binned LO vs neural")
        ax[1].legend()
    with report.figure("published_fits", ncols=2, figsize=(12, 4.5)) as (fig, ax):
        for i, src in enumerate(("wall", "exp")):
            p = pots[(src, tref)]
            ax[i].errorbar(p.r, p.v, p.err, fmt=".", ms=2, lw=0.5, color="gray", label=f"{src}, t = {tref}")
            g = results[(src, tref)]["fit"]
            curves = np.asarray(jax.vmap(lambda c, d: GaussianSum(c=c, d=d)(jnp.asarray(rgrid)))(g.c, g.d))
            ax[i].plot(rgrid, curves[0], "r-", label="4 Gaussians")
            s = curves[1:].std(axis=0)
            ax[i].fill_between(rgrid, curves[0] - s, curves[0] + s, color="r", alpha=0.3)
            lab = labels.index((src, tref))
            ax[i].plot(rgrid, v_nn40[lab, 0], "b--", label="neural")
            for t in SYST_T:
                if t != tref:
                    gt = results[(src, t)]["fit"]
                    ax[i].plot(rgrid, np.asarray(GaussianSum(c=gt.c[0], d=gt.d[0])(jnp.asarray(rgrid))), lw=0.7,
                               label=f"4 Gaussians, t = {t}")
            ax[i].set(xlabel="r [fm]", ylabel="V(r) [MeV]", ylim=(-60, 200), xlim=(0, 2.0), title=f"L = 40, {src}")
            ax[i].legend(fontsize=7)
    with report.figure("phase_shift_t_dependence", ncols=2, figsize=(12, 4.5)) as (fig, ax):
        for src, mark in (("wall", "o"), ("exp", "s")):
            ts = sorted(t for s, t in pots if s == src)
            for j, k in enumerate(MOMENTA):
                m = [results[(src, t)]["delta"][0, j] for t in ts]
                e = [results[(src, t)]["delta"][1:, j].std(ddof=1) for t in ts]
                ax[0].errorbar(ts, m, e, fmt=mark + "-", label=f"{src}, k = {k:g} fm$^{{-1}}$")
            ax[1].errorbar(ts, [results[(src, t)]["a0"][0] for t in ts],
                           [results[(src, t)]["a0"][1:].std(ddof=1) for t in ts], fmt=mark + "-", label=src)
        ax[0].set(xlabel="t [a]", ylabel=r"$\delta_0$ [deg]", title="phase shift vs t (systematic)")
        ax[0].legend(fontsize=7)
        ax[1].set(xlabel="t [a]", ylabel=r"$a_0$ [fm]", title="scattering length vs t")
        ax[1].legend()


def _check(config: dict[str, Any]) -> str | None:
    if config["bin_size"] not in (1, 2):
        return f"--bin-size={config['bin_size']} must divide the 4 measurements into >= 2 bins (1 or 2)"
    if config["t_ref"] not in SYST_T:
        return f"--t-ref={config['t_ref']} must be one of {list(SYST_T)}"
    try:
        data_root(config["data"] or None)
    except ValueError as e:
        return f"--data={config['data']!r}: {e}"
    return None


WORKFLOW = register(
    Workflow(
        name="halqcd-lattice",
        description="HAL QCD on real lattice data: Xi-Xi LO potential term by term and a neural potential on a "
        "48^4 ensemble; fits, phase shifts and scattering lengths of the published L = 40 potentials",
        run=run,
        check=_check,
        params=(
            Param("data", "", "folder holding halqcd_xixi_L48_sample/ and halqcd_xixi_L40_PRD99/ (default: "
                  "../shared/data next to the repository)"),
            Param("bin_size", 2, "orientations per jackknife bin (4 orientations of one configuration)"),
            Param("steps", 2000, "training steps of the neural potential on the 48^3 R-correlators", quick=800,
                  check=positive),
            Param("width", 32, "hidden width of the neural potentials on 48^3", check=positive),
            Param("replicas", 40, "bootstrap replicas of the published errors (L = 40), replica 0 = data", quick=10,
                  check=lambda x: None if x >= 3 else "must be >= 3"),
            Param("nn_replicas", 8, "replicas of each neural fit of the L = 40 potentials", quick=3,
                  check=lambda x: None if x >= 2 else "must be >= 2"),
            Param("fit_steps", 3000, "training steps of the neural fits to the L = 40 potentials", quick=800,
                  check=positive),
            Param("rmax", 2.0, "fit range of the L = 40 potentials", unit="fm", check=positive),
            Param("t_ref", 13, "the central time slice of the L = 40 results (lattice units)"),
        ),
    )
)
