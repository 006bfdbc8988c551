r"""`halqcd`: potentials learned without labels from synthetic HAL QCD R-correlators, and the
scattering they predict, against the true potential.

1. Synthesis (`dphys.halqcd.synthesize_radial`): the s-wave R-correlator of the system's true
   potential on a radial grid in a spherical box, a sum of the lowest `n_states` eigenstates of the
   discretised Hamiltonian with unit overlaps and relativistic energies, on `slices` time slices
   $t_0, t_0 + a_t, \ldots$; with `noise` > 0 (by default $10^{-4}$ for the local systems, exact
   data for the non-local ones), `configs` noisy configurations and their jackknife samples
   (`add_noise`). Time derivatives are symmetric differences of `order` 4 by default (5-point;
   `--order 2` is the published 3-point choice).
2. Leading-order extraction $V_\text{LO} = K/R$ (`lo_potential`) on the middle time slice (for its
   scattering, interpolated linearly and set to 0 beyond `lo_cut`, where it is noise over a
   vanishing $R$).
3. A neural potential trained on the residual of the time-dependent HAL QCD equation over all
   interior slices (and every jackknife sample, one network each: the error bands), no labels:
   local `NeuralPotential` for the local systems, separable `NeuralNonlocalPotential` (symmetric by
   construction) for the non-local ones.
4. Scattering from each potential: phase shifts for $k \le$ `kmax` (`dphys.scattering.phase_shift`
   for the local systems, `nonlocal_phase_shift` for the non-local ones, the LO potential included,
   so that each system compares like with like), scattering length and effective range
   (particle-physics sign, $k\cot\delta = -1/a + r k^2/2$), binding energy for local bound systems;
   each metric carries the true potential's value as its reference and a jackknife error.

Systems (`--system`): `omega-omega` (HAL QCD, Gongyo et al. 2018; local), `omega-ccc` (a Gaussian
fitted with dphys to the quoted $a$, $r$ of Lyu et al. 2021; local; with the Coulomb repulsion of the
two charge-2 baryons added to the true, LO and neural potentials: the Coulomb-modified $a_C$, $r_C$
(`dphys.scattering.effective_range` with $Z_1Z_2 = 4$, fitted at $k = 0.05 \ldots 0.2$ fm^-1) for point
charges (`aC_point_*`) and for dipole charge form factors of r.m.s. radius
`OMEGA_CCC_CHARGE_RADIUS` = 0.41 fm (`FormFactorCoulomb`, `aC_ff_*`); `*_true` carries Lyu et al.'s
$a_C \approx -19$ fm, $r_C \approx 0.45$ fm as its reference; measured, `--quick`, seed 0: true
$a_C$ = -10.38 fm (point) and -21.26 fm (form factor), $r_C$ = 0.463 and 0.442 fm; neural
-10.47(66) and -21.26(1.04) fm; LO -11.6 and -23.5 fm), `yamaguchi` (separable,
$a = -5$ fm, $\beta = 1.2$ fm^-1, nucleon mass), `nonlocal` (Gaussian-kernel non-local potential,
nucleon mass). Phase-shift errors are relative, $\max_k |\delta - \delta_\text{true}|/|\delta_\text{true}|$
(differences modulo $\pi$).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from dphys.constants import M_NUCLEON, M_OMEGA_LATTICE
from dphys.halqcd import (
    M_OMEGA_CCC,
    OMEGA_CCC_CHARGE_RADIUS,
    FormFactorCoulomb,
    GaussianKernel,
    NeuralNonlocalPotential,
    NeuralPotential,
    TabulatedPotential,
    Yamaguchi,
    add_noise,
    fit_potential,
    jackknife_band,
    lo_potential,
    omega_ccc,
    omega_omega,
    synthesize_radial,
)
from dphys.report import Report
from dphys.scattering import binding_energy, effective_range, phase_shift
from dphys.scattering.non_local import nonlocal_effective_range, nonlocal_phase_shift
from dphys.workflows import Param, Workflow, nonnegative, positive, register


class System(NamedTuple):
    potential: Any  # factory () -> potential
    mass: float  # reduced mass [MeV]
    spacing: float  # grid step [fm]
    sites: int
    local: bool
    source: str
    noise: float  # default relative noise (0: exact data)


SYSTEMS: dict[str, System] = {
    "omega-omega": System(omega_omega, M_OMEGA_LATTICE / 2, 0.05, 200, True,
                          "Gongyo et al., PRL 120 (2018) 212001", 1e-4),
    "omega-ccc": System(omega_ccc, M_OMEGA_CCC / 2, 0.05, 120, True,
                        "Gaussian fitted with dphys to a = 1.6 fm, r = 0.57 fm "
                        "(Lyu et al., PRL 127 (2021) 072003)", 1e-4),
    "yamaguchi": System(lambda: Yamaguchi.from_scattering(-5.0, 1.2, M_NUCLEON / 2), M_NUCLEON / 2, 0.1, 119, False,
                        "Yamaguchi separable, a = -5 fm, beta = 1.2 fm^-1", 0.0),
    "nonlocal": System(lambda: GaussianKernel(-100.0, 1.0, 0.5), M_NUCLEON / 2, 0.1, 119, False,
                       "Gaussian-kernel non-local, v0 = -100 MeV, R = 1 fm, b = 0.5 fm", 0.0),
}


COULOMB_K_FIT = (0.05, 0.1, 0.15, 0.2)  # [fm^-1] fit momenta of the Coulomb-modified ERE (eta = 7 ... 1.8)
LYU = {"a": -19.0, "r": 0.45}  # Lyu et al. PRL 127 (2021) 072003, Omega_ccc-Omega_ccc with Coulomb [fm]


def _wrap(x):
    """x modulo pi, in (-pi/2, pi/2]."""
    return x - np.pi * np.ceil(x / np.pi - 0.5)


def _members(fn, ensemble):
    return eqx.filter_vmap(fn)(ensemble)


def run(config: dict[str, Any], report: Report) -> None:
    system = SYSTEMS[config["system"]]
    mu, local = system.mass, system.local
    key = jax.random.PRNGKey(config["seed"])
    with jax.enable_x64(True):
        truth = system.potential()
        times = config["t0"] + config["dt"] * np.arange(config["slices"])
        corr = synthesize_radial(truth, mass=mu, spacing=system.spacing, sites=system.sites, times=times,
                                 n_states=config["n_states"])
        noise = system.noise if config["noise"] < 0 else config["noise"]
        noisy = noise > 0
        if noisy:
            corr = add_noise(corr, jax.random.fold_in(key, 7), configs=config["configs"], noise=noise)
        r = np.asarray(corr.r)
        order = config["order"]
        mid = (corr.t.size - order) // 2  # the middle interior slice
        v_lo_all = np.asarray(lo_potential(corr, order))
        v_lo_samples = v_lo_all[:, mid] if noisy else v_lo_all[None, mid]
        v_lo, v_lo_err = jackknife_band(v_lo_samples, noisy)
        cut = r <= config["lo_cut"]  # beyond, V_LO is noise over a vanishing R: cut as HAL QCD fits do
        lo = TabulatedPotential(jnp.asarray(r[cut]), jnp.asarray(v_lo[cut]))

        if local:
            init = lambda k: NeuralPotential(k, width=config["width"], depth=3, length=1.5, scale=100.0,  # noqa: E731
                                             envelope="gaussian")
        else:
            init = lambda k: NeuralNonlocalPotential(k, rank=config["rank"], width=config["width"], depth=2,  # noqa: E731
                                                     length=1.0, scale=100.0)
        trained = fit_potential(corr, init, key=key, steps=config["steps"], learning_rate=3e-3, order=order,
                                progress=True)
        nn = trained.model

        ks = np.linspace(config["kmax"] / config["nk"], config["kmax"], config["nk"])
        kj = jnp.asarray(ks)
        if local:
            d_true = np.asarray(jax.vmap(lambda k: phase_shift(truth, k, mass=mu))(kj))
            d_nn = np.asarray(_members(lambda m: jax.vmap(lambda k: phase_shift(m, k, mass=mu))(kj), nn))
            ere_true = effective_range(truth, mass=mu)
            ere_nn = _members(lambda m: effective_range(m, mass=mu), nn)
            v_true = np.asarray(truth(jnp.asarray(r)))
            v_nn = np.asarray(_members(lambda m: m(jnp.asarray(r)), nn))
        else:
            d_true = np.asarray(jax.vmap(lambda k: nonlocal_phase_shift(truth, k, mass=mu))(kj))
            d_nn = np.asarray(_members(lambda m: jax.vmap(lambda k: nonlocal_phase_shift(m, k, mass=mu))(kj), nn))
            ere_true = nonlocal_effective_range(truth, mass=mu)
            ere_nn = _members(lambda m: nonlocal_effective_range(m, mass=mu), nn)
            v_true = np.asarray(truth(jnp.asarray(r)[:, None], jnp.asarray(r)[None, :]))
            v_nn = np.asarray(_members(lambda m: m(jnp.asarray(r)[:, None], jnp.asarray(r)[None, :]), nn))
        if local:
            d_lo = np.asarray(jax.vmap(lambda k: phase_shift(lo, k, mass=mu))(kj))
            ere_lo = effective_range(lo, mass=mu)
        else:  # the same integral-equation solver as for the non-local truth, with V_LO as its local part
            d_lo = np.asarray(jax.vmap(lambda k: nonlocal_phase_shift(None, k, mass=mu, local=lo))(kj))
            ere_lo = nonlocal_effective_range(None, mass=mu, local=lo)
        coulomb = {}
        if config["system"] == "omega-ccc":  # both Omega_ccc carry charge +2: Z1 Z2 = 4
            for label, dress in (("point", lambda p: p),
                                 ("ff", lambda p: FormFactorCoulomb(p, 4.0, OMEGA_CCC_CHARGE_RADIUS))):
                ere_c = lambda p: effective_range(dress(p), mass=mu, coulomb=4.0, k_fit=COULOMB_K_FIT)  # noqa: E731
                coulomb[label] = (ere_c(truth), _members(ere_c, nn), ere_c(lo))
        bound = local and float(np.asarray(d_true)[0]) > np.pi / 2  # Levinson: delta(0+) = N_b pi
        if bound:
            b_true = float(binding_energy(truth, mass=mu))
            b_nn = np.asarray(_members(lambda m: binding_energy(m, mass=mu), nn))

    # --- metrics ---
    sel = r >= 0.1
    scale = np.max(np.abs(v_true))
    v_nn_mean, v_nn_err = jackknife_band(v_nn, noisy)
    dev = np.abs(v_nn_mean - v_true)
    report.add("reduced_mass", mu, unit="MeV")
    report.add("final_loss", float(trained.losses[-1]) / corr.samples)
    if local:
        report.add("lo_dev", np.max(np.abs(v_lo - v_true)[sel]) / scale)
        report.add("nn_dev", np.max(dev[sel]) / scale)
        if noisy:
            meaningful = sel & (np.abs(v_true) > 1e-3 * scale)
            report.add("nn_dev_sigma", np.max(dev[meaningful] / v_nn_err[meaningful]))
    else:
        block = np.ix_(sel, sel)
        report.add("nn_dev", np.max(dev[block]) / scale)
    rel = lambda d: np.abs(_wrap(d - d_true)) / np.abs(_wrap(d_true))  # noqa: E731
    rel_nn = np.max(np.stack([rel(d) for d in d_nn]), axis=0) if not noisy else rel(np.mean(d_nn, axis=0))
    report.add("delta_rel_nn", float(np.max(rel_nn)))
    report.add("delta_rel_lo", float(np.max(rel(d_lo))))
    for name, true, samples, lo_val in (("a", ere_true.a, ere_nn.a, ere_lo.a), ("r", ere_true.r, ere_nn.r, ere_lo.r)):
        mean, err = jackknife_band(np.asarray(samples), noisy)
        report.add(f"{name}_nn", float(mean), error=float(err) if noisy else None, reference=float(true), unit="fm")
        report.add(f"{name}_lo", float(lo_val), reference=float(true), unit="fm")
    for label, (c_true, c_nn, c_lo) in coulomb.items():  # Coulomb-modified a_C, r_C (k cot delta with C0^2, h)
        for name in ("a", "r"):
            mean, err = jackknife_band(np.asarray(getattr(c_nn, name)), noisy)
            true = float(getattr(c_true, name))
            report.add(f"{name}C_{label}_true", true, reference=LYU[name], unit="fm")
            report.add(f"{name}C_{label}_nn", float(mean), error=float(err) if noisy else None, reference=true,
                       unit="fm")
            report.add(f"{name}C_{label}_lo", float(getattr(c_lo, name)), reference=true, unit="fm")
    if bound:
        mean, err = jackknife_band(b_nn, noisy)
        report.add("B_nn", float(mean), error=float(err) if noisy else None, reference=b_true, unit="MeV")
    if isinstance(truth, Yamaguchi):  # the non-local solver against the closed form
        closed_form = np.asarray(truth.phase_shift(ks, mu))
        report.add("yamaguchi_solver_check", float(np.max(np.abs(_wrap(d_true - closed_form)))),
                   reference=0.0, unit="rad")

    # --- figures ---
    title = f"{config['system']} ({system.source})"
    d_mean, d_err = jackknife_band(d_nn, noisy)
    with report.figure("phase_shifts") as (fig, ax):
        unwrap = lambda d: d_true + _wrap(d - d_true)  # noqa: E731 (the branch of the true phase shift)
        ax.plot(ks, np.degrees(d_true), "k-", lw=2, label="true potential")
        ax.plot(ks, np.degrees(unwrap(d_lo)), "r--", label=f"LO local, t = {float(corr.t[mid + order // 2]):.2f} fm")
        ax.plot(ks, np.degrees(unwrap(d_mean)), "b-", label="neural " + ("local" if local else "non-local"))
        ax.fill_between(ks, np.degrees(unwrap(d_mean - d_err)), np.degrees(unwrap(d_mean + d_err)), color="b",
                        alpha=0.3)
        ax.set(xlabel=r"$k$ [fm$^{-1}$]", ylabel=r"$\delta_0$ [deg]")
        ax.set_title(title, fontsize=9)
        ax.legend()
    with report.figure("potentials", ncols=1 if local else 2, figsize=(6 if local else 11, 4.5)) as (fig, ax):
        if local:
            ax.plot(r, v_true, "k-", lw=2, label="true V(r)")
            ax.plot(r, v_lo, "r--", label="LO")
            ax.plot(r, v_nn_mean, "b-", label="neural (jackknife band)" if noisy else "neural")
            ax.fill_between(r, v_nn_mean - v_nn_err, v_nn_mean + v_nn_err, color="b", alpha=0.3)
            lo_lim = min(v_true.min(), 0) * 1.5 - 5
            ax.set(xlabel="r [fm]", ylabel="V(r) [MeV]", ylim=(lo_lim, -3 * lo_lim), xlim=(0, min(r[-1], 3.0)))
            ax.set_title(title, fontsize=9)
            ax.legend()
        else:
            for j, r0 in enumerate((0.5, 1.5)):
                i = int(np.argmin(np.abs(r - r0)))
                ax[0].plot(r, v_true[i], "k-" if j == 0 else "k:", lw=2, label=f"true W(r, {r[i]:.1f} fm)")
                ax[0].plot(r, v_nn_mean[i], "b-" if j == 0 else "c-", label=f"neural W(r, {r[i]:.1f} fm)")
                ax[0].fill_between(r, v_nn_mean[i] - v_nn_err[i], v_nn_mean[i] + v_nn_err[i], color="b", alpha=0.3)
            ax[0].set(xlabel="r [fm]", ylabel=r"$W(r, r')$ [MeV fm$^{-1}$]", xlim=(0, 5), title="non-local kernel")
            ax[0].legend()
            ax[1].plot(r, v_lo, "r--", label="LO local potential (non-local truth)")
            ax[1].set(xlabel="r [fm]", ylabel="V_LO(r) [MeV]", xlim=(0, 5), title=f"LO extraction, {config['system']}")
            ax[1].legend()


def _check(config: dict[str, Any]) -> str | None:
    if config["slices"] < config["order"] + 1:
        return (f"--slices={config['slices']} is too few: the order-{config['order']} time derivatives need at "
                f"least {config['order'] + 1} time slices")
    if config["noise"] != 0 and config["configs"] < 2:
        return f"--configs={config['configs']} must be >= 2 for jackknife samples when --noise > 0"
    return None


WORKFLOW = register(
    Workflow(
        name="halqcd",
        description="HAL QCD: synthetic R-correlators, LO and unsupervised neural (local / non-local) potentials, "
        "and their scattering against the true potential",
        run=run,
        check=_check,
        params=(
            Param("system", "omega-omega", "the true system", choices=tuple(SYSTEMS)),
            Param("slices", 10, "time slices", check=positive),
            Param("dt", 0.05, "time-slice spacing", unit="fm", check=positive),
            Param("order", 4, "order of the symmetric time differences (2: 3-point, 4: 5-point)", choices=(2, 4)),
            Param("t0", 0.2, "first time slice", unit="fm", check=nonnegative),
            Param("n_states", 8, "finite-volume eigenstates in the correlator", check=positive),
            Param("noise", -1.0, "relative noise per configuration (0: exact data, no jackknife; -1: the system's "
                  "default, 1e-4 for the local systems and 0 for the non-local ones)",
                  check=lambda x: None if x == -1 or x >= 0 else "must be >= 0 (or -1: the system's default)"),
            Param("configs", 16, "configurations (jackknife samples)", quick=8, check=positive),
            Param("steps", 8000, "training steps", quick=5000, check=positive),
            Param("width", 32, "hidden width of the networks", check=positive),
            Param("rank", 2, "rank of the separable non-local network", check=positive),
            Param("lo_cut", 4.0, "the LO potential is set to 0 beyond this radius for its scattering", unit="fm",
                  check=positive),
            Param("kmax", 1.0, "largest momentum of the phase shifts", unit="fm^-1", check=positive),
            Param("nk", 20, "momenta", quick=12, check=positive),
        ),
    )
)
