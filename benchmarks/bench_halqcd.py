"""HAL QCD: synthesis of R(r, t) on a 32^3 box, and training throughput of the neural potentials.

- Synthesis: `dphys.halqcd.synthesize_box` (Chebyshev expansion of exp(-H t) with a matrix-free
  7-point stencil, all slices from one recurrence, jitted) against SciPy's
  `scipy.sparse.linalg.expm_multiply` on the same sparse Hamiltonian (CSR, built outside the
  timing), 5 time slices, non-relativistic energies, Omega-Omega potential, a = 0.2 fm, float64.
  Both agree to 1e-10 relative (checked below before timing).
- Training: Adam steps (one jitted lax.scan; 10 for the non-local case, 50 for the local one) of the residual of the
  time-dependent HAL QCD equation on a 32^3-box correlator with 5 time slices (3 interior, order 2):
  - separable non-local U_theta (rank 2): `dphys.halqcd.residual_loss`, which applies U as
    sum_k s_k phi_k(r) [sum_r' phi_k(r') R(r')] (linear in the sites) against the same loss with the
    kernel materialised on the distinct radii (shells x shells matrix, then gathered): the smallest
    dense form; the sites x sites matrix (32768^2 doubles, 8.6 GB) would not fit.
  - local V_theta: evaluated once per distinct radius (about 600 shells) and gathered, against the
    naive evaluation at all 32768 sites.
  Steps per second = steps / time (the case names give the steps).
- LO extraction on real data: `dphys.halqcd.lo_terms` (jitted, all four terms: 7-point Laplacian,
  first and second time derivatives, total) plus the A1 projection (`a1_project`) on the Xi-Xi
  48^3 box for the three time slices t = 9, 10, 11 and all jackknife bins (4 orientations, bin size 1),
  against a NumPy implementation of the same stencil (np.roll, the same divisions, np.bincount for
  the orbit means) on the same array; both agree to 1e-10 (checked before timing). Needs
  ../shared/data/halqcd_xixi_L48_sample (the case is skipped without it).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.sparse
import scipy.sparse.linalg

from benchmarks.harness import Case
from dphys.constants import HBARC, M_OMEGA_LATTICE
from dphys.halqcd import (
    NeuralNonlocalPotential,
    NeuralPotential,
    fit_data,
    omega_omega,
    residual_loss,
    synthesize_box,
)
from dphys.halqcd.synthesis import box_distances

MU, A, TIMES, STEPS = M_OMEGA_LATTICE / 2, 0.2, 0.5 + 0.05 * np.arange(5), 50


def sparse_hamiltonian(L: int, v: np.ndarray) -> scipy.sparse.csr_matrix:
    n = L**3
    idx = np.arange(n).reshape(L, L, L)
    rows, cols = [], []
    for axis in range(3):
        for s in (1, -1):
            rows.append(idx.ravel())
            cols.append(np.roll(idx, s, axis).ravel())
    hop = scipy.sparse.csr_matrix((np.ones(6 * n), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    kin = HBARC**2 / (2 * MU * A**2)
    return (-kin * (hop - 6 * scipy.sparse.identity(n)) + scipy.sparse.diags(v.ravel())).tocsr()


def synthesis_cases(L: int, repeats: int) -> list[Case]:
    potential = omega_omega()
    dist = box_distances(L, A)
    with jax.enable_x64(True):
        v = np.asarray(potential(jnp.asarray(np.where(dist == 0, 1e-6 * A, dist))))
    h = sparse_hamiltonian(L, v) / HBARC
    src = np.ones(L**3)

    def ours():
        with jax.enable_x64(True):
            return synthesize_box(potential, mass=MU, spacing=A, sites=L, times=TIMES, relativistic=False).R

    def scipy_ref():
        return scipy.sparse.linalg.expm_multiply(-h, src, start=TIMES[0], stop=TIMES[-1], num=len(TIMES),
                                                 endpoint=True)

    got, ref = np.asarray(ours()).reshape(len(TIMES), -1), scipy_ref()
    assert np.max(np.abs(got - ref)) < 1e-10 * np.max(np.abs(ref)), "synthesis disagrees with expm_multiply"
    return [Case(f"halqcd synth {L}^3 x {len(TIMES)} t", ours, "scipy expm_multiply", scipy_ref, repeats)]


def _trainer(loss_of, model, steps=STEPS):
    """`steps` Adam steps of loss_of(model) in one jitted scan."""
    opt = optax.adam(1e-3)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    state = opt.init(params)

    @jax.jit
    def run(params, state):
        def step(carry, _):
            p, s = carry
            loss, g = jax.value_and_grad(lambda q: loss_of(eqx.combine(q, static)))(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), loss

        return jax.lax.scan(step, (params, state), None, length=steps)[1]

    return lambda: run(params, state)


def training_cases(L: int, repeats: int) -> list[Case]:
    with jax.enable_x64(True):
        corr = synthesize_box(omega_omega(), mass=MU, spacing=A, sites=L, times=TIMES)
    data = fit_data(corr)  # 3 interior slices, sites flattened, shells of equal distance
    R, K = jnp.asarray(data.R[0], jnp.float32), jnp.asarray(data.K[0], jnp.float32)
    radii = jnp.asarray(data.radii, jnp.float32)
    data = data._replace(radii=radii)
    shell = jnp.asarray(data.shell)
    key = jax.random.PRNGKey(0)
    nonlocal_model = NeuralNonlocalPotential(key, rank=2, width=32, length=1.0)
    local_model = NeuralPotential(key, width=32, depth=3, length=1.5, envelope="gaussian")

    def dense_shells(model):  # U on shells x shells, applied through shell sums, then gathered
        u = model(radii[:, None], radii[None, :])
        shell_sums = jax.ops.segment_sum(R.T, shell, num_segments=radii.size).T  # (T, S)
        res = K - (data.measure * shell_sums @ u.T)[:, shell]
        return jnp.sum(res**2) / jnp.sum(R**2) / 100.0**2

    def naive_local(model):  # V at every site
        r_sites = radii[shell]
        res = K - model(r_sites) * R
        return jnp.sum(res**2) / jnp.sum(R**2) / 100.0**2

    ours_nl = _trainer(lambda m: residual_loss(m, R, K, data, 100.0), nonlocal_model, 10)
    ours_l = _trainer(lambda m: residual_loss(m, R, K, data, 100.0), local_model)
    np.testing.assert_allclose(residual_loss(nonlocal_model, R, K, data, 100.0), dense_shells(nonlocal_model),
                               rtol=1e-3)
    return [
        Case(f"halqcd train nonlocal {L}^3x5 (10 st)", ours_nl, "dense shell kernel",
             _trainer(dense_shells, nonlocal_model, 10), repeats),
        Case(f"halqcd train local {L}^3x5 ({STEPS} st)", ours_l, "V at every site",
             _trainer(naive_local, local_model), repeats),
    ]


def lo_cases(repeats: int) -> list[Case]:
    from pathlib import Path

    from dphys.halqcd import XIXI_MASS, a1_project, decompress_singlet, lo_terms, load_xixi_sample, r_correlator
    from dphys.halqcd.lattice import orbit_index, representative_sites

    folder = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "halqcd_xixi_L48_sample"
    if not folder.is_dir():
        return []
    sample = load_xixi_sample(folder)
    mu = XIXI_MASS / 2
    R = decompress_singlet(r_correlator(sample.psi, sample.corr, sample.times, bin_size=1), sample.L)  # (4, 3, 48^3)
    idx = orbit_index(sample.L).ravel()
    n = representative_sites(sample.L).shape[0]
    counts = np.bincount(idx, minlength=n)

    def ours():
        with jax.enable_x64(True):
            terms = lo_terms(R, mu)
            return jnp.stack([a1_project(x) for x in terms])

    def numpy_ref():
        prev, mid, nxt = R[:, :-2], R[:, 1:-1], R[:, 2:]
        lap = -6 * mid
        for axis in (-1, -2, -3):
            lap = lap + np.roll(mid, 1, axis) + np.roll(mid, -1, axis)
        h0 = lap / (2 * mu * mid)
        dt = -(nxt - prev) / (2 * mid)
        dt2 = (nxt - 2 * mid + prev) / (8 * mu * mid)
        out = []
        for x in (h0, dt, dt2, h0 + dt + dt2):
            flat = x.reshape(-1, idx.size)
            out.append(np.stack([np.bincount(idx, weights=f, minlength=n) for f in flat]).reshape(x.shape[:-3] + (n,))
                       / counts)
        return np.stack(out)

    got, ref = np.asarray(ours()), numpy_ref()
    assert np.max(np.abs(got - ref)) < 1e-10 * np.max(np.abs(ref)), "LO extraction disagrees with NumPy"
    return [Case("halqcd LO 48^3 x 3 t x 4 bins (+A1)", ours, "numpy same stencil", numpy_ref, repeats)]


def cases(quick: bool) -> list[Case]:
    repeats = 3 if quick else 7
    return synthesis_cases(32, repeats) + training_cases(32, repeats) + lo_cases(repeats)
