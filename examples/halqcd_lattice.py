"""HAL QCD on real lattice QCD data with dphys: the Xi-Xi 1S0 potential from compressed NBS wave functions
on a 48^4 ensemble (m_pi = 510 MeV), and the scattering of the published L = 40 potentials.

Reads ../shared/data (next to the repository): decompresses the spin-singlet wave functions, builds
R = Re psi / C_Xi^2 with jackknife over 2 bins of 2 orientations (of ONE configuration: the error is
the orientation spread only), computes the leading-order potential term by term and prints its A1
projection at a few radii; then fits 4 Gaussians to the published wall-source potential at t = 13
(bootstrap over the published errors) and prints its phase shifts and scattering length.
Runs in about a minute on a laptop CPU.

    python examples/halqcd_lattice.py
"""

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)  # the scattering solver needs float64

from dphys.halqcd import (  # noqa: E402
    XIXI_AINV,
    XIXI_MASS,
    a1_project,
    bootstrap_replicas,
    decompress_singlet,
    fit_gaussians,
    jackknife_band,
    lattice_spacing,
    lo_terms,
    load_published,
    load_xixi_sample,
    r_correlator,
    representative_sites,
)
from dphys.scattering import GaussianSum, effective_range, phase_shift  # noqa: E402

data = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
if not data.is_dir():
    raise SystemExit(f"the HAL QCD data folder {data} is absent")

# --- the 48^3 box: LO potential term by term at t = 10 ---
sample = load_xixi_sample(data / "halqcd_xixi_L48_sample")
R = decompress_singlet(r_correlator(sample.psi, sample.corr, sample.times, bin_size=2), sample.L)
terms = lo_terms(R, XIXI_MASS / 2)  # lattice units
r = lattice_spacing() * np.sqrt((representative_sites(sample.L) ** 2).sum(1))  # [fm]
for r0 in (0.1, 0.3, 0.5, 1.0):
    sel = np.abs(r - r0) < 0.025
    parts = [jackknife_band(np.asarray(a1_project(t[:, 0]))[:, sel].mean(1) * XIXI_AINV) for t in terms]
    print(f"r = {r0:.1f} fm: " + ", ".join(f"{name} {m:8.2f} +- {e:5.2f}" for name, (m, e) in zip(terms._fields, parts))
          + " MeV")

# --- the published L = 40 potential (wall source, t = 13): 4 Gaussians, phase shifts, a0 ---
p = load_published(data / "halqcd_xixi_L40_PRD99")[("wall", 13)]
fit = fit_gaussians(p.r, bootstrap_replicas(jax.random.PRNGKey(0), p.v, p.err, 10), p.err)
mu = XIXI_MASS / 2 * XIXI_AINV  # reduced mass [MeV]
ks = jnp.array([0.2, 0.5, 1.0])
deltas = np.degrees(np.asarray(eqx.filter_vmap(
    lambda c, d: jax.vmap(lambda k: phase_shift(GaussianSum(c=c, d=d), k, mass=mu))(ks))(fit.c, fit.d)))
a0 = np.asarray(eqx.filter_vmap(lambda c, d: effective_range(GaussianSum(c=c, d=d), mass=mu).a)(fit.c, fit.d))
print(f"chi2/dof = {float(fit.chi2[0]) / fit.dof:.2f}")
for k, m, e in zip(np.asarray(ks), deltas[0], deltas[1:].std(0, ddof=1)):
    print(f"delta(k = {k:.1f} fm^-1) = {m:.2f} +- {e:.2f} deg")
print(f"a0 = {a0[0]:.3f} +- {a0[1:].std(ddof=1):.3f} fm")
