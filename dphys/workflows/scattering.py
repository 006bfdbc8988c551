r"""`scattering`: phase shifts, scattering length, effective range and bound states of a two-body
potential, with the published values where they exist.

The radial Schroedinger equation is solved in float64 for every momentum on a grid (one vmap,
`dphys.scattering.phase_shift`); the phase shift is absolute (continuous in $k$, $\delta(0^+) = N_b\pi$
by Levinson's theorem, which the report checks against the bound states counted by node counting).
For $l = 0$: $a$ and $r$ in the particle-physics convention $k\cot\delta = -1/a + r k^2/2$ ($a > 0$ with
a shallow bound state; the femtoscopy $f_0 = -a$), Coulomb-modified ($a_C$, $r_C$) with `--coulomb`.
Binding energies by bisection on the matching of the outward and decaying solutions.

Potentials (`--potential`): `omega-omega` (HAL QCD, Gongyo et al. PRL 120 (2018) 212001: published
$a = 4.6$ fm, $r = 1.27$ fm, $B \approx 1.6$ MeV), `reid-1s0` (Reid soft core, $a \approx -17.1$ fm,
$r \approx 2.8$ fm with the nucleon-average mass), `malfliet-tjon-1s0`, `malfliet-tjon-3s1`, `p-omega`
(HAL QCD $^5S_2$). `--mass` is the *reduced* mass $\mu$ in MeV; 0 takes the preset's ($m_\Omega/2$
with the lattice $m_\Omega = 1711.5$ MeV for omega-omega, $m_N/2$ for the nucleon potentials, the
physical $p\Omega^-$ reduced mass for p-omega). References apply only to the preset mass, $l = 0$ and
no Coulomb.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from dphys.constants import HBARC, M_NUCLEON, M_OMEGA, M_OMEGA_LATTICE, M_PROTON
from dphys.report import Report
from dphys.scattering import (
    GaussianSum,
    HALQCDpOmega,
    MalflietTjon,
    ReidSoftCore1S0,
    binding_energy,
    count_bound_states,
    effective_range,
    solve_radial,
)
from dphys.workflows import Param, Workflow, nonnegative, positive, register


class Preset(NamedTuple):
    potential: Any  # a factory: () -> potential
    mass: float  # reduced mass [MeV]
    references: dict[str, float]  # published a, r [fm], B [MeV]
    source: str


PRESETS: dict[str, Preset] = {
    "omega-omega": Preset(GaussianSum, M_OMEGA_LATTICE / 2, {"a": 4.6, "r": 1.27, "B0": 1.6},
                          "Gongyo et al., PRL 120 (2018) 212001"),
    "reid-1s0": Preset(ReidSoftCore1S0, M_NUCLEON / 2, {"a": -17.1, "r": 2.8}, "REFERENCES.md (derived)"),
    "malfliet-tjon-1s0": Preset(MalflietTjon.singlet, M_NUCLEON / 2, {}, ""),
    "malfliet-tjon-3s1": Preset(MalflietTjon.triplet, M_NUCLEON / 2, {}, ""),
    "p-omega": Preset(HALQCDpOmega, M_PROTON * M_OMEGA / (M_PROTON + M_OMEGA), {}, ""),
}


def run(config: dict[str, Any], report: Report) -> None:
    preset = PRESETS[config["potential"]]
    potential = preset.potential()
    mass = config["mass"] or preset.mass
    l, coulomb, r_match = config["l"], config["coulomb"], config["r_match"]
    at_preset = config["mass"] in (0.0, preset.mass) and l == 0 and coulomb == 0
    refs = preset.references if at_preset else {}
    kw = dict(mass=mass, l=l, coulomb=coulomb, r_match=r_match)

    with jax.enable_x64(True):
        ks = np.linspace(config["kmax"] / config["nk"], config["kmax"], config["nk"])
        r_grid = np.linspace(0.0, min(r_match, 15.0), 61)
        # phase shifts and wave functions on the whole k grid in one vmapped solve
        sol = jax.vmap(lambda k: solve_radial(potential, k, r_grid, **kw))(jnp.asarray(ks))
        delta, waves = np.asarray(sol.delta), np.asarray(sol.u)
        n_bound = int(count_bound_states(potential, **kw))
        bindings = [float(binding_energy(potential, n=n, **kw)) for n in range(n_bound)]
        ere = effective_range(potential, mass=mass, coulomb=coulomb, r_match=r_match) if l == 0 else None
        v_grid = np.asarray(potential(jnp.asarray(r_grid[1:])))
    show = [len(ks) // 20, len(ks) // 4, len(ks) // 2]

    report.add("reduced_mass", mass, unit="MeV")
    if ere is not None:
        suffix = "_C" if coulomb else ""
        report.add("a" + suffix, float(ere.a), reference=refs.get("a"), unit="fm")
        report.add("r" + suffix, float(ere.r), reference=refs.get("r"), unit="fm")
    report.add("n_bound", n_bound)
    for n, b in enumerate(bindings):
        report.add(f"B{n}", b, reference=refs.get(f"B{n}"), unit="MeV")
    # Levinson's theorem: delta(0+) = N_b pi, from the lowest momentum of the grid
    report.add("delta_kmin_over_pi", delta[0] / np.pi, reference=float(n_bound))
    report.add("delta_kmax", np.degrees(delta[-1]), unit="deg")

    title = f"{config['potential']}, l = {l}" + (f", Z1Z2 = {coulomb:g}" if coulomb else "")
    with report.figure("phase_shift") as (fig, ax):
        ax.plot(ks, np.degrees(delta), "b-")
        for n in range(n_bound + 1):
            ax.axhline(180 * n, color="0.8", lw=0.8)
        ax.set(xlabel=r"$k$ [fm$^{-1}$]", ylabel=r"$\delta_l$ [deg]", title=title + f" ({n_bound} bound)")
        top = ax.secondary_xaxis("top", functions=(lambda k: (HBARC * k) ** 2 / (2 * mass),
                                                   lambda e: np.sqrt(2 * mass * np.abs(e)) / HBARC))
        top.set_xlabel(r"$E_\mathrm{cm}$ [MeV]")
    if ere is not None:
        with report.figure("k_cot_delta") as (fig, ax):
            low = ks <= min(0.6, ks[-1])
            ax.plot(ks[low] ** 2, ks[low] / np.tan(delta[low]), "b.",
                    label=r"$k\cot\delta_0$" + (" (bare)" if coulomb else ""))
            x = np.linspace(0, ks[low][-1] ** 2, 50)
            ax.plot(x, -1 / float(ere.a) + float(ere.r) * x / 2, "k--",
                    label=f"$-1/a + r k^2/2$, a = {float(ere.a):.3f} fm, r = {float(ere.r):.3f} fm")
            ax.set(xlabel=r"$k^2$ [fm$^{-2}$]", ylabel=r"[fm$^{-1}$]", title=title)
            ax.legend()
    with report.figure("wavefunction") as (fig, ax):
        for k, u in zip(ks[show], waves[show]):
            ax.plot(r_grid, u, label=f"k = {k:.3f} fm$^{{-1}}$")
        ax.set(xlabel="r [fm]", ylabel=r"$u_l(r)$ (asymptotically $F\cos\delta + G\sin\delta$)", title=title)
        ax.legend(loc="upper right")
        pot_ax = ax.twinx()
        pot_ax.plot(r_grid[1:], v_grid, "k:", lw=1)
        pot_ax.set_ylabel("V(r) [MeV] (dotted)")
        pot_ax.set_ylim(max(v_grid.min() * 1.5, -1000), min(max(-v_grid.min() * 3, 50), 2000))


WORKFLOW = register(
    Workflow(
        name="scattering",
        description="Phase shifts, scattering length, effective range and bound states of a two-body "
        "potential (Omega-Omega, Reid, Malfliet-Tjon, p-Omega) against published values",
        run=run,
        params=(
            Param("potential", "omega-omega", "the potential (a preset with its reduced mass)", choices=tuple(PRESETS)),
            Param("mass", 0.0, "reduced mass mu (0: the preset's)", unit="MeV", check=nonnegative),
            Param("l", 0, "partial wave", check=nonnegative),
            Param("coulomb", 0.0, "Z1 Z2 (0: no Coulomb; 1: pp-like)", check=nonnegative),
            Param("kmax", 2.0, "largest momentum of the phase-shift grid", unit="fm^-1", check=positive),
            Param("nk", 200, "momenta on the grid", quick=32, check=positive),
            Param("r_match", 25.0, "radius beyond which the potential is negligible", unit="fm", check=positive),
        ),
    )
)
