"""Femtoscopy (dphys.femto): the pp correlation function against a SciPy reference with the same
physics, the cost of its gradient, and many correlation functions in one vmapped call.

Problem: pp, Reid soft-core 1S0 + Coulomb in the singlet (weight 1/4, even l), Coulomb-only triplet
(3/4, odd l), Gaussian source R = 1.2 fm, 100 momenta k in [0.01, 1.5] fm^-1 (30 in quick mode), the
default radial quadrature of dphys (composite Gauss-Legendre to 120 fm, 312 nodes).

SciPy reference (same physics and the same partial-wave treatment, written independently):
- the interacting 1S0 wave and the free Coulomb s wave: `scipy.integrate.solve_ivp` (DOP853,
  rtol 1e-10) of u'' = [2 mu V/hbarc^2 + 2 k_C/r - k^2] u from r = 1e-4 fm to 120 fm with dense
  output on the nodes, each normalised to F_0 cos(delta) + G_0 sin(delta) (resp. F_0) at 120 fm with
  mpmath's `coulombf`/`coulombg` and their derivatives;
- the higher Coulomb partial waves: Miller's downward recurrence in NumPy (the same L), normalised
  to the integrated F_0, F_0';
- the source integral on the same Gauss-Legendre nodes.
It shares with dphys only the quadrature nodes and the number of partial waves L (plain numbers).
Agreement (max relative difference of C(k)) is printed and put in the case name. The reference
costs about 0.35 s per momentum (solve_ivp's Python right-hand side and mpmath), hence 30 momenta
in quick mode.

Cases: (1) forward C(k), dphys (kernel + fold in one jit) vs the reference, target ratio <= 0.05;
(2) the gradient of chi^2 (reverse mode) w.r.t. the source radius and the three Reid coefficients
vs one forward evaluation, both at 100 momenta (also in quick mode), target <= 4; (3) 10^4
correlation functions (100 k each) in one vmapped call over source radii with the fixed pp kernel
(2000 in quick mode) against the same matrix products in NumPy: correlation functions per second
= count / dphys time.

Measured (2 shared CPU cores, full mode): agreement 3.1e-9; forward 0.20 s vs 35.6 s (ratio 0.006);
gradient / forward 3.7; 10^4 C(k) in 0.076 s (1.3e5 correlation functions per second).

(4) With the shared ALICE data (../shared/data/alice_pp13TeV_MB_pp): one chi^2 of the full
correlation decomposition on the real data (88 bins, 0-350 MeV/c; `dphys.femto.decomposition`:
fixed pp kernel at 100 true bins (Reid 1S0 + Coulomb; the cost does not depend on the potential
that made it), Gaussian source, chiral NLO Lednicky-Lyuboshitz p-Lambda at 1000 parent momenta,
decay and resolution matrices, lambdas, baseline) *and its gradient* with respect to (R, N) in one
jitted jax.value_and_grad, against the same model in NumPy/SciPy (`scipy.special.dawsn`) with the
gradient by central differences (5 evaluations). The two chi^2 agree to 1e-12 (printed).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

try:  # the reference's dependencies (test extras); without them the SciPy case is skipped
    import mpmath as mp
    from scipy.integrate import solve_ivp
except ImportError:  # pragma: no cover
    mp = solve_ivp = None

from benchmarks.harness import Case
from dphys.constants import ALPHA, HBARC, M_PROTON
from dphys.femto import GaussianSource, fold, n_partial_waves, pp_kernel, radial_quadrature
from dphys.scattering import ReidSoftCore1S0

MU = M_PROTON / 2
KC = ALPHA * MU / HBARC
R_SOURCE = 1.2


def reid(r, c=(-10.463, -1650.6, 6484.2)):
    x = 0.7 * r
    return (c[0] * np.exp(-x) + c[1] * np.exp(-4 * x) + c[2] * np.exp(-7 * x)) / x


def _coulomb_fg(eta, rho):
    mp.mp.dps = 20
    f, g = mp.coulombf(0, eta, rho), mp.coulombg(0, eta, rho)
    f1, g1 = mp.coulombf(1, eta, rho), mp.coulombg(1, eta, rho)
    s = mp.sqrt(1 + eta**2)  # u_0' = (1/rho + eta) u_0 - sqrt(1 + eta^2) u_1 (A-S 14.2.1)
    return float(f), float((1 / rho + eta) * f - s * f1), float(g), float((1 / rho + eta) * g - s * g1)


def _s_wave(k, r, potential):
    """u and du/dr on the nodes r, normalised to F cos d + G sin d at the end, and the squared norm."""
    two_mu = 2 * MU / HBARC**2
    rhs = lambda t, y: [y[1], (two_mu * potential(t) + 2 * KC / t - k**2) * y[0]]
    r0, r_end = 1e-4, r[-1]
    sol = solve_ivp(rhs, (r0, r_end), [r0 * (1 + KC * r0), 1 + 2 * KC * r0], method="DOP853", rtol=1e-10,
                    atol=1e-14, t_eval=r)
    u, du = sol.y
    f, df, g, dg = _coulomb_fg(KC / k, k * r_end)
    a = du[-1] / k * g - u[-1] * dg
    b = df * u[-1] - f * du[-1] / k
    norm = np.hypot(a, b)
    return u / norm, du / norm


def scipy_pp(ks, r, w, radius=R_SOURCE):
    """The reference C(k) (module docstring)."""
    n_l = n_partial_waves(ks, r[-1], mass=MU, coulomb=1.0)
    nodes = np.append(r, r[-1] + 1.0)  # an end point beyond the last node for the normalisation
    weights = 4 * np.pi * r**2 * w * (4 * np.pi * radius**2) ** -1.5 * np.exp(-(r**2) / (4 * radius**2))
    out = []
    for k in ks:
        u, _ = _s_wave(k, nodes, reid)
        f0, df0 = _s_wave(k, nodes, lambda t: 0.0 * t)
        u, f0, df0 = u[:-1], f0[:-1], df0[:-1] / k
        eta, rho = KC / k, k * r
        up, uc = np.zeros_like(rho), np.ones_like(rho)
        even = (2 * n_l + 1.0) * uc if n_l % 2 == 0 else np.zeros_like(rho)
        odd = np.zeros_like(rho) if n_l % 2 == 0 else (2 * n_l + 1.0) * uc
        for l in range(n_l, 0, -1):
            a = (2 * l + 1) * (eta + l * (l + 1) / rho) / ((l + 1) * np.sqrt(l**2 + eta**2))
            b = l * np.sqrt((l + 1) ** 2 + eta**2) / ((l + 1) * np.sqrt(l**2 + eta**2))
            up, uc = uc, a * uc - b * up
            if (l - 1) % 2 == 0:
                even += (2 * l - 1) * uc**2
            else:
                odd += (2 * l - 1) * uc**2
            scale = np.where(np.abs(uc) > 1e100, 1e-100, 1.0)
            up, uc, even, odd = up * scale, uc * scale, even * scale**2, odd * scale**2
        du0 = (1 / rho + eta) * uc - np.sqrt(1 + eta**2) * up
        c = (f0 * uc + df0 * du0) / (uc**2 + du0**2)
        singlet = 2 * (c**2 * even + u**2 - f0**2)
        triplet = 2 * c**2 * odd
        kernel = (0.25 * singlet + 0.75 * triplet) / rho**2
        out.append(1 + np.sum(weights * (kernel - 1)))
    return np.array(out)


def _in_x64(fn):
    """`fn` run in float64 (femto needs it) without switching x64 on for the other benchmarks."""

    def run():
        with jax.enable_x64(True):
            return fn()

    return run


def cases(quick: bool) -> list[Case]:
    with jax.enable_x64(True):
        built = _cases(quick)
    return [dataclasses.replace(c, dphys=_in_x64(c.dphys), baseline=_in_x64(c.baseline)) for c in built]


def _cases(quick: bool) -> list[Case]:
    n_k = 30 if quick else 100  # the SciPy reference takes about 0.35 s per momentum
    repeats = 3 if quick else 5
    ks = np.linspace(0.01, 1.5, n_k)
    ks100 = np.linspace(0.01, 1.5, 100)
    r, w = radial_quadrature()

    def make_forward(momenta):
        return jax.jit(lambda radius, c: fold(GaussianSource(radius), pp_kernel(momenta, ReidSoftCore1S0(c=c))))

    forward, forward100 = make_forward(ks), make_forward(ks100)
    c0 = jnp.array([-10.463, -1650.6, 6484.2])
    data = forward100(R_SOURCE, c0) + 0.01
    chi2 = jax.jit(jax.grad(lambda p: jnp.sum((forward100(p[0], p[1]) - data) ** 2)))
    params = (jnp.asarray(R_SOURCE), c0)

    reference_cases = []
    if mp is not None:
        ours = np.asarray(forward(R_SOURCE, c0))
        ref = scipy_pp(ks, r, w)
        agreement = float(np.max(np.abs(ours / ref - 1)))
        print(f"femto: dphys vs SciPy reference, max relative difference of C(k) over {n_k} k: {agreement:.2e}")
        reference_cases.append(
            Case(f"femto pp C(k) x{n_k} (agree {agreement:.0e})", lambda: forward(R_SOURCE, c0),
                 "SciPy solve_ivp+mpmath", lambda: scipy_pp(ks, r, w), repeats=1 if quick else 3, target=0.05))

    kernel = jax.jit(lambda: pp_kernel(ks, ReidSoftCore1S0()))()
    n_cf = 2000 if quick else 10_000
    radii = jnp.linspace(0.8, 3.0, n_cf)
    many = jax.jit(jax.vmap(lambda R: fold(GaussianSource(R), kernel)))
    values, weights, r_nodes = (np.asarray(x) for x in (kernel.values, kernel.weights, kernel.r))
    radii_np = np.asarray(radii)

    def numpy_many():
        s = (4 * np.pi * radii_np[:, None] ** 2) ** -1.5 * np.exp(-(r_nodes**2) / (4 * radii_np[:, None] ** 2))
        return 1 + (s * weights) @ (values - 1).T

    return reference_cases + _decomposition_cases(repeats) + [
        Case("femto grad chi2 / forward x100", lambda: chi2(params), "dphys forward",
             lambda: forward100(R_SOURCE, c0), repeats, target=4.0),
        Case(f"femto {n_cf} C(k) vmapped", lambda: many(radii), "NumPy matmul", numpy_many, repeats),
    ]


def _numpy_decomposition_chi2(dec, C, err, radius, norm):
    """The decomposition's chi^2 in NumPy/SciPy (independent of dphys's JAX code)."""
    from scipy.special import dawsn

    K, W, r = (np.asarray(x) for x in (dec.kernel.values, dec.kernel.weights, dec.kernel.r))
    S = (4 * np.pi * radius**2) ** -1.5 * np.exp(-r**2 / (4 * radius**2))
    c_pp = np.asarray(dec.average) @ (1 + (K - 1) @ (W * S))
    kq = np.asarray(dec.k_parent)
    c_pl = np.ones_like(kq)
    for f0, d0, w in zip(*dec.pl_params):
        f = 1 / (1 / f0 + d0 * kq**2 / 2 - 1j * kq)
        z = 2 * kq * radius
        c_pl += w * (np.abs(f) ** 2 / (2 * radius**2) * (1 - d0 / (2 * np.sqrt(np.pi) * radius))
                     + 2 * f.real * dawsn(z) / z / (np.sqrt(np.pi) * radius)
                     - f.imag * (1 - np.exp(-z**2)) / z / radius)
    c_pl = dec.pl_genuine * c_pl + 1 - dec.pl_genuine
    gen, pl, flat = dec.lam
    total = gen * c_pp + pl * (np.asarray(dec.feed) @ c_pl) + flat
    model = norm * (np.asarray(dec.resolution) @ total)
    return float(np.sum(((model - C) / err) ** 2))


def _decomposition_cases(repeats: int) -> list[Case]:
    from dphys.femto import alice
    from dphys.femto import decomposition as D

    if alice.shared_data_dir() is None:
        print("femto: ../shared/data/alice_pp13TeV_MB_pp absent, the real-data decomposition case is skipped")
        return []
    pp = alice.load_pp13()
    data = pp.data(350.0)
    dec = D.build_pp13(pp, {"1S0": ReidSoftCore1S0()})
    C, err = jnp.asarray(data.C), jnp.asarray(data.error)

    @jax.jit
    def value_and_grad(p):
        def chi2(p):
            return jnp.sum(((D.predict(dec, GaussianSource(p[0]), p[1]) - C) / err) ** 2)

        return jax.value_and_grad(chi2)(p)

    p0 = jnp.array([1.17, 1.011])
    Cn, en = np.asarray(data.C), np.asarray(data.error)

    def numpy_value_and_grad(p=(1.17, 1.011), h=1e-6):
        f0 = _numpy_decomposition_chi2(dec, Cn, en, *p)
        grad = []
        for i in range(2):
            up, down = list(p), list(p)
            up[i] += h
            down[i] -= h
            grad.append((_numpy_decomposition_chi2(dec, Cn, en, *up) - _numpy_decomposition_chi2(dec, Cn, en, *down))
                        / (2 * h))
        return np.array([f0, *grad])

    ours = float(value_and_grad(p0)[0])
    agreement = abs(ours / numpy_value_and_grad()[0] - 1)
    print(f"femto: real-data decomposition chi2, dphys vs NumPy: relative difference {agreement:.1e}")
    return [Case(f"femto ALICE pp decomposition chi2+grad (agree {agreement:.0e})", lambda: value_and_grad(p0),
                 "NumPy/SciPy, central differences", numpy_value_and_grad, repeats=max(repeats, 5))]
