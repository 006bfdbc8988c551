r"""Super-resolution of lattice field configurations: 2D $\phi^4$ (`dphys.lattice.phi4`) from its
block averages, the HMC ensemble it is trained and tested on, and the two-point functions that
test the generated fine configurations against the true ones.

```python
import dphys.superres as sr
from dphys.lattice.phi4 import Phi4Action

action = Phi4Action(kappa=0.27, lam=0.022)
phis, acceptance = sr.phi4_hmc_ensemble(key, action, L=8, n_samples=512)   # (64, 8 chains, 8, 8)
cond, target = sr.lattice_pairs(phis.reshape(-1, 8, 8), 2)                 # block averages -> fine
cmp = sr.two_point_comparison(phis, {"nearest": up}, action, n_blocks=10)   # C(r), G_c(t), paired C
```
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys._checks import positive_int
from dphys.lattice.phi4 import Phi4Action, phi4_observables
from dphys.mcmc import HMC, adapted_ensemble
from dphys.stats import jackknife
from dphys.superres.data import block_average

__all__ = ["block_residual_rms", "phi4_hmc_ensemble", "site_correlator", "two_point_comparison"]


def phi4_hmc_ensemble(key: PRNGKeyArray, action: Phi4Action, L: int, n_samples: int, *, chains: int = 8,
                      n_adapt: int = 100, thin: int = 2, n_leapfrog: int = 10) -> tuple[Float[Array, "n chains L L"],
                                                                                       float]:
    r"""An HMC ensemble of the 2D $\phi^4$ action on an `L` x `L` lattice with
    `dphys.mcmc.adapted_ensemble`: `chains` chains started from $\phi_x \sim N(0, 0.5^2)$, the
    leapfrog step size adapted over `n_adapt` updates (target acceptance 0.8, median over chains
    frozen), then `n_samples // chains` kept configurations per chain, every `thin`-th update
    (`n_leapfrog` leapfrog steps per trajectory).

    **Arguments:** `key`; `action` (`Phi4Action`); `L` >= 2; `n_samples` >= `chains` (total kept
    configurations, rounded down to a multiple of `chains`); `chains`, `n_adapt`, `thin`,
    `n_leapfrog` >= 1.

    **Returns:** `(phis, acceptance)`: configurations `(n_samples // chains, chains, L, L)`,
    time-major (Monte Carlo order kept for blocked errors), and the mean acceptance probability.
    """
    L = positive_int("phi4_hmc_ensemble", "L (lattice size)", L)
    chains = positive_int("phi4_hmc_ensemble", "chains", chains)
    n_samples = positive_int("phi4_hmc_ensemble", "n_samples (kept configurations)", n_samples)
    for what, v in (("n_adapt", n_adapt), ("thin", thin), ("n_leapfrog", n_leapfrog)):
        positive_int("phi4_hmc_ensemble", what, v)
    if L < 2 or n_samples < chains:
        raise ValueError(f"phi4_hmc_ensemble: L={L} must be >= 2 and n_samples={n_samples} >= chains={chains}")
    k_init, k_run = jax.random.split(key)
    x0 = 0.5 * jax.random.normal(k_init, (chains, L, L))
    out, acceptance = adapted_ensemble(HMC(action, 0.1, n_leapfrog), k_run, x0, n_samples // chains,
                                       n_adapt=n_adapt, thin=thin)
    return out.samples, acceptance


def site_correlator(phis: Float[ArrayLike, "*batch L L"]) -> np.ndarray:
    r"""$C(r) = \frac{1}{2V}\sum_{x,\mu}\phi_x\phi_{x + r\hat\mu}$, $r = 0 \dots L/2$, of each
    configuration (leading axes kept; periodic, by FFT): the fine-scale two-point function, which a
    piecewise-constant upsampling gets wrong at $r <$ factor.

    **Arguments:** `phis` `(..., L, L)` (lattice units).

    **Returns:** `(..., L // 2 + 1)` NumPy array.
    """
    phis = np.asarray(phis)
    if phis.ndim < 2 or phis.shape[-1] != phis.shape[-2]:
        raise ValueError(f"site_correlator: configurations of shape {phis.shape}, expected (..., L, L)")
    f = np.fft.fft2(phis)
    full = np.fft.ifft2(np.abs(f) ** 2).real / (phis.shape[-1] * phis.shape[-2])
    L = phis.shape[-1]
    return 0.5 * (full[..., : L // 2 + 1, 0] + full[..., 0, : L // 2 + 1])


def _site_mean(c):
    return c.mean(axis=(0, 1))


def two_point_comparison(truth: Float[ArrayLike, "n chains L L"],
                         candidates: dict[str, Float[ArrayLike, "n chains L L"]],
                         action: Phi4Action | None = None, n_blocks: int = 10) -> dict[str, dict]:
    r"""Compare generated (or upsampled) fine configurations with the true ones, each candidate
    configuration paired with the true one of the same coarse condition, by two-point functions
    with delete-one-block jackknife errors over Monte Carlo time (`dphys.stats.jackknife`):
    the site correlator $C(r)$ (`site_correlator`), the connected zero-momentum $G_c(t)$
    (`phi4_observables`), and the paired difference $C_\text{cand}(r) - C_\text{true}(r)$ per
    configuration, which removes the magnetisation fluctuations common to both (the stricter test).

    **Arguments:** `truth` and every `candidates[name]` of one shape `(n, chains, L, L)` (time-major,
    n >= `n_blocks`); `action` (for `phi4_observables`); `n_blocks` >= 2.

    **Returns:** dict with `C`, `G` {"truth" | name: `Estimate` over r resp. t}, `paired`
    {name: `Estimate` of the paired difference}, `maxdev` {"C_name" | "G_name": largest
    $|X_\text{cand} - X_\text{true}|/\sqrt{\sigma_\text{cand}^2 + \sigma_\text{true}^2}$ over r or t},
    `paired_maxdev` {name: largest |paired difference| / its error}.
    """
    truth = np.asarray(truth)
    cands = {k: np.asarray(v) for k, v in candidates.items()}
    if truth.ndim != 4:
        raise ValueError(f"two_point_comparison: truth of shape {truth.shape}, expected (n, chains, L, L)")
    for k, v in cands.items():
        if v.shape != truth.shape:
            raise ValueError(f"two_point_comparison: candidates[{k!r}] of shape {v.shape}, expected {truth.shape}")
    n_blocks = positive_int("two_point_comparison", "n_blocks", n_blocks)
    if not 2 <= n_blocks <= truth.shape[0]:
        raise ValueError(f"two_point_comparison: n_blocks={n_blocks} must be in [2, n = {truth.shape[0]}]")
    configs = {"truth": truth, **cands}
    c_true = site_correlator(truth)
    corr = {name: jackknife(_site_mean, site_correlator(x), n_blocks) for name, x in configs.items()}
    g_c = {name: phi4_observables(x, action, n_blocks=n_blocks)["G"] for name, x in configs.items()}
    maxdev, paired, paired_maxdev = {}, {}, {}
    for name, x in cands.items():
        for label, est, ref in (("C", corr[name], corr["truth"]), ("G", g_c[name], g_c["truth"])):
            maxdev[f"{label}_{name}"] = float(np.max(np.abs(est.value - ref.value) / np.hypot(est.error, ref.error)))
        paired[name] = diff = jackknife(_site_mean, site_correlator(x) - c_true, n_blocks)
        paired_maxdev[name] = float(np.max(np.abs(diff.value) / diff.error))
    return {"C": corr, "G": g_c, "maxdev": maxdev, "paired": paired, "paired_maxdev": paired_maxdev}


def block_residual_rms(fine: Float[ArrayLike, "*batch L L"], coarse: Float[ArrayLike, "*batch l l"],
                       factor: int) -> float:
    r"""Consistency of fine configurations with their condition: the RMS over all coarse sites of
    $\bar\phi_B(\text{fine}) - \phi^\text{coarse}_B$, the block average (`block_average`) minus the
    coarse configuration it was generated from (0 for exact consistency; lattice units).

    **Arguments:** `fine` `(..., L, L)`, `coarse` `(..., L/factor, L/factor)` with the same leading
    axes; `factor` >= 1.

    **Returns:** the RMS residual, a float.
    """
    factor = positive_int("block_residual_rms", "factor", factor)
    fine, coarse = jnp.asarray(fine), np.asarray(coarse)
    L = fine.shape[-1]
    if fine.shape[:-2] != coarse.shape[:-2] or coarse.shape[-2:] != (L // factor, L // factor) or L % factor:
        raise ValueError(f"block_residual_rms: fine {fine.shape} and coarse {coarse.shape} do not match "
                         f"factor={factor}")
    resid = np.asarray(block_average(fine.reshape(-1, L, L), factor)).reshape(coarse.shape) - coarse
    return float(np.sqrt(np.mean(resid**2)))

