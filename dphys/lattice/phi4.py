r"""Real scalar $\phi^4$ theory on a periodic hypercubic lattice, in the hopping parametrisation.

$$S[\phi] = \sum_x \Big[ -2\kappa \sum_{\mu=1}^{d} \phi_x \phi_{x+\hat\mu} + (1 - 2\lambda)\phi_x^2
+ \lambda \phi_x^4 \Big]$$

with dimensionless field and couplings (lattice units). The action is $\mathbb{Z}_2$ symmetric
($\phi \to -\phi$) and translation invariant. Per-configuration observables are pure functions of
ONE configuration (vmap them over a batch); `phi4_observables` turns an ensemble into estimates
with block-jackknife errors.

This module also holds the small pieces shared by the other lattice models
(`check_lattice_shape`, `effective_mass`, the ensemble helpers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from dphys._checks import check_concrete, check_int_range
from dphys.lattice.measure import jackknife_dict, measure
from dphys.stats import Estimate

__all__ = [
    "Phi4Action",
    "action_density",
    "check_lattice_shape",
    "effective_mass",
    "magnetisation",
    "phi4_observables",
    "symmetry_augment",
    "two_point",
]


# ---------------------------------------------------------------------------
# Validation helpers (shared with u1.py and quantum.py)
# ---------------------------------------------------------------------------


def check_lattice_shape(shape: Sequence[int], what: str = "lattice") -> tuple[int, ...]:
    """Validate the shape of a periodic hypercubic lattice `(L,) * d` and return it as a tuple.

    **Arguments:** `shape` (a sequence of ints); `what` names the array in the error message.

    **Returns:** the shape as a tuple of Python ints.

    **Raises:** `ValueError` if the shape is empty, an extent is not an integer >= 2 (a periodic
    nearest-neighbour lattice needs two sites per direction), or the extents differ.
    """
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"{what} shape {shape}: expected at least one lattice direction, (L,) * d")
    for extent in shape:
        if isinstance(extent, bool) or not isinstance(extent, (int, np.integer)) or extent < 2:
            raise ValueError(f"{what} shape {shape}: expected integer extents L >= 2, got {extent!r}")
    if len(set(shape)) != 1:
        raise ValueError(f"{what} shape {shape}: expected a hypercubic lattice (L,) * d with equal extents")
    return tuple(int(extent) for extent in shape)


def effective_mass(g: ArrayLike) -> np.ndarray:
    r"""Effective mass from a correlator on a periodic lattice, in lattice units:

    $$m_\text{eff}(t) = \operatorname{arccosh}\frac{G(t+1) + G(t-1)}{2 G(t)}, \qquad t = 1 \dots L/2,$$

    with periodic indices ($G(L) = G(0)$). It is exactly $m$ for every $t$ when
    $G(t) = A\cosh(m(t - L/2))$, the form of a single state on a periodic lattice, so it needs
    no fit and no plateau in $t$ beyond the contamination by heavier states. Where noise makes the
    ratio drop below 1 the value is NaN.

    **Arguments:** `g`: correlator $G(t)$, $t = 0 \dots L-1$, along the last axis (NumPy, any
    leading shape).

    **Returns:** float64 array with last axis $L/2$ (integer division): entry $i$ is $t = i + 1$.
    """
    g = np.asarray(g, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (np.roll(g, 1, axis=-1) + np.roll(g, -1, axis=-1)) / (2 * g)
        return np.arccosh(ratio[..., 1 : g.shape[-1] // 2 + 1])


# ---------------------------------------------------------------------------
# The action and per-configuration observables
# ---------------------------------------------------------------------------


class Phi4Action(eqx.Module):
    r"""The hopping-form $\phi^4$ action on a periodic lattice of shape `(L,) * d`:

    $$S = \sum_x \Big[ -2\kappa \sum_\mu \phi_x \phi_{x+\hat\mu} + (1 - 2\lambda)\phi_x^2
    + \lambda \phi_x^4 \Big].$$

    **Arguments:** `kappa` (hopping parameter), `lam` (quartic coupling $\lambda \ge 0$; a
    negative concrete value raises `ValueError` because $e^{-S}$ is then not normalisable).
    Dimensionless, differentiable fields. Calling the module with a field `phi` of shape
    `(L,) * d` returns the scalar action.
    """

    kappa: Float[ArrayLike, ""]
    lam: Float[ArrayLike, ""]

    def __check_init__(self):
        check_concrete(self.lam, "lam", lambda v: v >= 0, "lam >= 0 (the action is unbounded below for lam < 0)")

    def __call__(self, phi: Float[Array, "*lattice"]) -> Float[Array, ""]:
        check_lattice_shape(jnp.shape(phi), "phi")
        hopping = sum(phi * jnp.roll(phi, -1, axis=mu) for mu in range(phi.ndim))
        phi2 = phi**2
        return jnp.sum(-2 * self.kappa * hopping + (1 - 2 * self.lam) * phi2 + self.lam * phi2**2)


def magnetisation(phi: Float[Array, "*lattice"]) -> Float[Array, ""]:
    r"""Volume-averaged field $M = \frac{1}{V}\sum_x \phi_x$ of one configuration."""
    check_lattice_shape(jnp.shape(phi), "phi")
    return jnp.mean(phi)


def action_density(action: Callable[[Array], Array], phi: Float[Array, "*lattice"]) -> Float[Array, ""]:
    r"""Action per site $S[\phi]/V$ of one configuration."""
    return action(phi) / jnp.size(phi)


def two_point(phi: Float[Array, "*lattice"]) -> Float[Array, " L"]:
    r"""Zero-momentum two-point function of one configuration, averaged over the $d$ axes.

    With the time-slice average $m_\mu(t)$ (the mean of $\phi$ over all sites with
    $x_\mu = t$),

    $$G(t) = \frac{1}{d}\sum_\mu \frac{1}{L}\sum_{t_0} m_\mu(t_0)\, m_\mu(t_0 + t),
    \qquad t = 0 \dots L-1,$$

    computed as a circular autocorrelation by FFT. Normalisation: $\langle m_\mu(t)\rangle =
    \langle M\rangle$, so the connected correlator is $G_c(t) = \langle G(t)\rangle -
    \langle M\rangle^2$ with no extra factor, and $\sum_t G(t) = L M^2$ on every configuration,
    hence $L^{d-1}\sum_t G_c(t) = V(\langle M^2\rangle - \langle M\rangle^2) = \chi_2$. (The
    convention that sums over the spatial sites instead of averaging is $L^{d-1} G(t)$.) In one
    dimension this is $\frac{1}{L}\sum_{t_0}\phi_{t_0}\phi_{t_0+t}$.

    **Arguments:** `phi` of shape `(L,) * d`.

    **Returns:** $G(t)$, shape `(L,)`.
    """
    shape = check_lattice_shape(jnp.shape(phi), "phi")
    extent = shape[0]
    total = 0.0
    for mu in range(phi.ndim):
        m = jnp.mean(phi, axis=tuple(nu for nu in range(phi.ndim) if nu != mu))
        f = jnp.fft.rfft(m)
        total = total + jnp.fft.irfft(f.real**2 + f.imag**2, n=extent) / extent
    return total / phi.ndim


# ---------------------------------------------------------------------------
# Ensemble analysis
# ---------------------------------------------------------------------------


def _phi4_measure(phi: Array, action: Phi4Action | None) -> dict[str, Array]:
    out = {"M": magnetisation(phi), "G": two_point(phi)}
    if action is not None:
        out["s"] = action_density(action, phi)
    return out


def phi4_observables(
    phis: Float[ArrayLike, "n_samples *chains_and_lattice"],  # noqa: F821 (jaxtyping dims)
    action: Phi4Action | None = None,
    *,
    lattice_ndim: int = 2,
    n_blocks: int = 20,
) -> dict[str, Estimate]:
    r"""Ensemble averages of $\phi^4$ observables with block-jackknife errors.

    From the magnetisation $M$ and the two-point function $G(t)$ of every configuration
    (`magnetisation`, `two_point`), with $V = L^d$ and $\langle\cdot\rangle$ the average over all
    samples (and chains):

    - `"M"`: $\langle M\rangle$; `"abs_M"`: $\langle |M|\rangle$;
    - `"chi2"`: $\chi_2 = V(\langle M^2\rangle - \langle M\rangle^2)$ (REFERENCES.md);
      `"chi2_abs"`: $V(\langle M^2\rangle - \langle |M|\rangle^2)$, the finite-volume
      susceptibility to use in the broken phase, where $\langle M\rangle = 0$ by symmetry only;
    - `"binder"`: $U_L = 1 - \langle M^4\rangle / (3\langle M^2\rangle^2)$;
    - `"G"`: connected $G_c(t) = \langle G(t)\rangle - \langle M\rangle^2$, $t = 0 \dots L-1$,
      normalised so that $L^{d-1}\sum_t G_c(t) = \chi_2$;
    - `"m_eff"`: `effective_mass` of $G_c$ (cosh form), $t = 1 \dots L/2$; NaN where noise
      makes it undefined;
    - `"action_density"`: $\langle S\rangle / V$, only when `action` is given.

    Errors: delete-one-block jackknife (`dphys.stats.jackknife`) over `n_blocks` contiguous blocks
    in Monte Carlo time (all chains of a time block are removed together), which includes
    autocorrelations when a block is much longer than the integrated autocorrelation time.

    **Arguments:**

    - `phis`: ensemble of shape `(n_samples, *lattice)` or `(n_samples, n_chains, *lattice)`
      with `lattice = (L,) * lattice_ndim`, samples in Monte Carlo time order.
    - `action`: optional `Phi4Action` for the action density.
    - `lattice_ndim`: the lattice dimension d (default 2).
    - `n_blocks`: jackknife blocks, `2 <= n_blocks <= n_samples`.

    **Returns:** dict of `dphys.stats.Estimate` (floats, or arrays for `"G"` and `"m_eff"`).
    """
    lattice_ndim = check_int_range(lattice_ndim, "lattice_ndim", 1)
    shape = check_lattice_shape(np.shape(phis)[-lattice_ndim:], "phis (trailing lattice axes)")
    volume = int(np.prod(shape))
    data, n_lead = measure(_phi4_measure, phis, lattice_ndim, args=(action,))
    axes = tuple(range(n_lead))

    def estimates(d: dict) -> dict:
        mean = lambda a: np.mean(a, axis=axes)
        m = d["M"]
        m1, m_abs, m2, m4 = mean(m), mean(np.abs(m)), mean(m**2), mean(m**4)
        g = mean(d["G"]) - m1**2
        out = {
            "M": m1,
            "abs_M": m_abs,
            "chi2": volume * (m2 - m1**2),
            "chi2_abs": volume * (m2 - m_abs**2),
            "binder": 1 - m4 / (3 * m2**2),
            "G": g,
            "m_eff": effective_mass(g),
        }
        if "s" in d:
            out["action_density"] = mean(d["s"])
        return out

    return jackknife_dict(estimates, data, n_blocks)


def symmetry_augment(key: Array, phis: Float[Array, "batch *lattice"]) -> Float[Array, "batch *lattice"]:  # noqa: F821 (jaxtyping dims)
    r"""Apply to every configuration of a batch a random lattice translation and a random sign,
    both symmetries of the $\phi^4$ action: data augmentation for learning a distribution that has
    them (e.g. a diffusion model's score).

    **Arguments:** `key` a PRNG key; `phis` a batch of configurations (leading axis = batch).

    **Returns:** the transformed batch, same shape.
    """
    n, lattice = phis.shape[0], phis.shape[1:]
    k_shift, k_sign = jax.random.split(key)
    shifts = jax.random.randint(k_shift, (n, len(lattice)), 0, jnp.asarray(lattice))
    signs = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n,)), 1.0, -1.0).astype(phis.dtype)
    axes = tuple(range(len(lattice)))
    rolled = jax.vmap(lambda c, s: jnp.roll(c, tuple(s[i] for i in axes), axis=axes))(phis, shifts)
    return rolled * signs.reshape((n,) + (1,) * len(lattice))
