r"""Forward (noising) processes of score-based diffusion models.

Every process is an Ito SDE $dx = f(t) x\,dt + g(t)\,dW$ with a linear drift, so that
conditioned on clean data $x_0$ the state at time $t$ is Gaussian:

$$ x_t \mid x_0 \sim \mathcal N(\alpha_t x_0,\; s_t^2 I). $$

A process gives the marginal coefficients `mean_std(t) -> (alpha_t, s_t)`, the drift
`drift(t, x) = f(t) x` and the scalar diffusion `diffusion(t) = g(t)` of the forward SDE
(integrated by `dphys.integrate_sde`), the prior $p_{T}$ at `t_max` that sampling starts
from, the scalar `noise_level(t)` fed to a network, the inverse `t_of_std(s)` of $s_t$
(used to sample training times uniformly in $\log s$), and the time `schedule(u)` of the
fixed-step samplers, $u \in [0, 1] \mapsto t$ from `t_max` down to `t_min`.

Processes act leaf-wise on PyTree states. Their parameters are concrete Python floats
(static fields), checked when the process is built.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys._checks import positive_number

__all__ = ["AbstractProcess", "VESong", "VEGeometric", "VP", "EDM"]


_positive = positive_number


def _ordered(cls: str, lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    if not lo < hi:
        raise ValueError(f"{cls}: {lo_name}={lo} must be smaller than {hi_name}={hi}")


def _leaf_size(x: PyTree) -> int:
    return sum(jnp.size(leaf) for leaf in jtu.tree_leaves(x))


class AbstractProcess(eqx.Module):
    r"""A forward process $dx = f(t)\,x\,dt + g(t)\,dW$ with
    $x_t \mid x_0 \sim \mathcal N(\alpha_t x_0, s_t^2 I)$ on $t \in [t_{min}, t_{max}]$.

    Subclasses implement `t_min`, `t_max`, `mean_std`, `drift_coefficient`, `diffusion`,
    `noise_level`, `t_of_std` and, optionally, `schedule` and `prior_std`.
    """

    @property
    @abc.abstractmethod
    def t_min(self) -> float:
        """The earliest time (where sampling ends and data live)."""

    @property
    @abc.abstractmethod
    def t_max(self) -> float:
        """The latest time (where the prior is and sampling starts)."""

    @abc.abstractmethod
    def mean_std(self, t: Float[ArrayLike, ""]) -> tuple[Float[Array, ""], Float[Array, ""]]:
        r"""`(alpha_t, s_t)`: $x_t \mid x_0 \sim \mathcal N(\alpha_t x_0, s_t^2)$."""

    @abc.abstractmethod
    def drift_coefficient(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""$f(t)$ of the linear drift $f(t)\,x$ (0 for variance-exploding processes)."""

    @abc.abstractmethod
    def diffusion(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""The scalar diffusion coefficient $g(t)$ of the forward SDE."""

    @abc.abstractmethod
    def noise_level(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        """The scalar fed to a network as its noise conditioning (order one over the range)."""

    @abc.abstractmethod
    def t_of_std(self, s: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""The time $t$ at which the marginal standard deviation is $s_t = s$ (inverse of `mean_std`)."""

    def drift(self, t: Float[ArrayLike, ""], x: PyTree[Array]) -> PyTree[Array]:
        r"""The forward drift $f(t)\,x$, a PyTree like `x`."""
        f = self.drift_coefficient(t)
        return jtu.tree_map(lambda leaf: f * leaf, x)

    def schedule(self, u: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""Time of the fixed-step samplers: $t(u)$ for $u \in [0, 1]$, from `t_max` at $u = 0$ to
        `t_min` at $u = 1$; linear unless the process says otherwise."""
        return self.t_max + (self.t_min - self.t_max) * jnp.asarray(u)

    def sigma_of_t(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""The noise-to-signal ratio $\sigma_t = s_t/\alpha_t$ (EDM's $\sigma$; equal to $s_t$ under VE)."""
        alpha, s = self.mean_std(t)
        return s / alpha

    def t_of_sigma(self, sigma: Float[ArrayLike, ""]) -> Float[Array, ""]:
        r"""Inverse of `sigma_of_t` (default: `t_of_std`, right for $\alpha_t = 1$)."""
        return self.t_of_std(sigma)

    def karras_schedule(self, u: Float[ArrayLike, ""], rho: float = 7.0) -> Float[Array, ""]:
        r"""EDM's time steps: $\sigma(u) = (\sigma_{max}^{1/\rho} + u(\sigma_{min}^{1/\rho} -
        \sigma_{max}^{1/\rho}))^\rho$ between $\sigma(t_{max})$ and $\sigma(t_{min})$, as times
        `t_of_sigma(sigma(u))`; dense at small noise where the score changes fastest."""
        hi = self.sigma_of_t(self.t_max) ** (1 / rho)
        lo = self.sigma_of_t(self.t_min) ** (1 / rho)
        t = self.t_of_sigma((hi + jnp.asarray(u) * (lo - hi)) ** rho)
        return jnp.clip(t, self.t_min, self.t_max)

    @property
    def prior_std(self) -> Float[Array, ""]:
        """Standard deviation of the Gaussian prior at `t_max` (default: $s_{t_{max}}$)."""
        return self.mean_std(self.t_max)[1]

    def prior_sample(self, key: PRNGKeyArray, shape: tuple[int, ...]) -> Float[Array, "..."]:
        r"""A draw from the prior $\mathcal N(0, \sigma_T^2 I)$ of the given shape."""
        return self.prior_std * jax.random.normal(key, shape)

    def prior_log_prob(self, x: PyTree[Array]) -> Float[Array, ""]:
        r"""$\log \mathcal N(x; 0, \sigma_T^2 I)$ of one state (summed over all components), in nats."""
        var = self.prior_std**2
        sq = sum(jnp.sum(leaf**2) for leaf in jtu.tree_leaves(x))
        return -0.5 * sq / var - 0.5 * _leaf_size(x) * jnp.log(2 * jnp.pi * var)

    def perturb(self, key: PRNGKeyArray, x0: PyTree[Array], t: Float[ArrayLike, ""]) -> PyTree[Array]:
        r"""A draw of $x_t = \alpha_t x_0 + s_t z$ from the exact marginal (one key for all leaves)."""
        alpha, s = self.mean_std(t)
        leaves, tree = jtu.tree_flatten(x0)
        keys = jax.random.split(key, len(leaves))
        noisy = [alpha * x + s * jax.random.normal(k, jnp.shape(x), jnp.result_type(x))
                 for x, k in zip(leaves, keys)]
        return jtu.tree_unflatten(tree, noisy)


class VESong(AbstractProcess):
    r"""Variance-exploding SDE of Song's tutorial: $dx = \sigma^t\,dW$ on $t \in [t_{min}, 1]$,

    $$ \alpha_t = 1,\qquad s_t^2 = \frac{\sigma^{2t} - 1}{2\ln\sigma}. $$

    Network conditioning: $\log s_t$.

    **Arguments:** `sigma` (> 1), `t_min` (in (0, 1); the data are identified with $t_{min}$,
    where $s_{t_{min}} \approx \sqrt{t_{min}}$).
    """

    sigma: float = eqx.field(static=True, default=25.0)
    t_min_: float = eqx.field(static=True, default=1e-5)

    def __init__(self, sigma: float = 25.0, t_min: float = 1e-5):
        self.sigma = _positive("VESong", "sigma", sigma)
        self.t_min_ = _positive("VESong", "t_min", t_min)
        if self.sigma <= 1:
            raise ValueError(f"VESong: sigma={self.sigma} must be > 1 (g(t) = sigma^t must grow)")
        _ordered("VESong", "t_min", self.t_min_, "t_max", 1.0)

    @property
    def t_min(self) -> float:
        return self.t_min_

    @property
    def t_max(self) -> float:
        return 1.0

    def mean_std(self, t):
        t = jnp.asarray(t)
        log_sigma = math.log(self.sigma)
        var = jnp.expm1(2 * t * log_sigma) / (2 * log_sigma)
        return jnp.ones_like(t), jnp.sqrt(var)

    def drift_coefficient(self, t):
        return jnp.zeros_like(jnp.asarray(t))

    def diffusion(self, t):
        return jnp.asarray(self.sigma) ** jnp.asarray(t)

    def noise_level(self, t):
        return jnp.log(self.mean_std(t)[1])

    def t_of_std(self, s):
        log_sigma = math.log(self.sigma)
        return jnp.log1p(2 * log_sigma * jnp.asarray(s) ** 2) / (2 * log_sigma)


class VEGeometric(AbstractProcess):
    r"""Variance-exploding SDE of score_sde with geometric noise levels on $t \in [0, 1]$:
    $\sigma(t) = \sigma_{min} (\sigma_{max}/\sigma_{min})^t$,
    $dx = \sigma(t)\sqrt{2 \ln(\sigma_{max}/\sigma_{min})}\,dW$,

    $$ \alpha_t = 1,\qquad s_t = \sigma(t). $$

    The marginal at $t = 0$ is the data convolved with $\mathcal N(0, \sigma_{min}^2)$ (the
    convention of Song et al. 2021), which keeps $x_t = x_0 + \sigma(t) z$ exact for every $t$.
    Network conditioning: $\log s_t$.

    **Arguments:** `sigma_min`, `sigma_max` with $0 < \sigma_{min} < \sigma_{max}$.
    """

    sigma_min: float = eqx.field(static=True, default=0.01)
    sigma_max: float = eqx.field(static=True, default=50.0)

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0):
        self.sigma_min = _positive("VEGeometric", "sigma_min", sigma_min)
        self.sigma_max = _positive("VEGeometric", "sigma_max", sigma_max)
        _ordered("VEGeometric", "sigma_min", self.sigma_min, "sigma_max", self.sigma_max)

    @property
    def t_min(self) -> float:
        return 0.0

    @property
    def t_max(self) -> float:
        return 1.0

    def _log_ratio(self) -> float:
        return math.log(self.sigma_max / self.sigma_min)

    def mean_std(self, t):
        t = jnp.asarray(t)
        return jnp.ones_like(t), self.sigma_min * jnp.exp(t * self._log_ratio())

    def drift_coefficient(self, t):
        return jnp.zeros_like(jnp.asarray(t))

    def diffusion(self, t):
        return self.mean_std(t)[1] * math.sqrt(2 * self._log_ratio())

    def noise_level(self, t):
        return jnp.log(self.mean_std(t)[1])

    def t_of_std(self, s):
        return jnp.log(jnp.asarray(s) / self.sigma_min) / self._log_ratio()


class VP(AbstractProcess):
    r"""Variance-preserving SDE (DDPM in continuous time) on $t \in [t_{min}, 1]$:
    $dx = -\tfrac12\beta(t)\,x\,dt + \sqrt{\beta(t)}\,dW$,
    $\beta(t) = \beta_{min} + t(\beta_{max} - \beta_{min})$,

    $$ \alpha_t = \exp\!\Big(-\tfrac14 t^2 (\beta_{max} - \beta_{min}) - \tfrac12 t\beta_{min}\Big),
       \qquad s_t^2 = 1 - \alpha_t^2. $$

    The prior is $\mathcal N(0, I)$ (the stationary law). Network conditioning:
    $\ln\sigma_t = \ln(s_t/\alpha_t)$ (resolves the fast change of $s_t \approx \sqrt{\beta_{min} t}$ at small $t$).

    **Arguments:** `beta_min`, `beta_max` with $0 < \beta_{min} < \beta_{max}$; `t_min` in (0, 1).
    """

    beta_min: float = eqx.field(static=True, default=0.1)
    beta_max: float = eqx.field(static=True, default=20.0)
    t_min_: float = eqx.field(static=True, default=1e-3)

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3):
        self.beta_min = _positive("VP", "beta_min", beta_min)
        self.beta_max = _positive("VP", "beta_max", beta_max)
        self.t_min_ = _positive("VP", "t_min", t_min)
        _ordered("VP", "beta_min", self.beta_min, "beta_max", self.beta_max)
        _ordered("VP", "t_min", self.t_min_, "t_max", 1.0)

    @property
    def t_min(self) -> float:
        return self.t_min_

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def prior_std(self) -> Float[Array, ""]:
        return jnp.asarray(1.0)

    def beta(self, t):
        return self.beta_min + jnp.asarray(t) * (self.beta_max - self.beta_min)

    def _log_alpha(self, t):
        t = jnp.asarray(t)
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def mean_std(self, t):
        log_alpha = self._log_alpha(t)
        return jnp.exp(log_alpha), jnp.sqrt(-jnp.expm1(2 * log_alpha))

    def drift_coefficient(self, t):
        return -0.5 * self.beta(t)

    def diffusion(self, t):
        return jnp.sqrt(self.beta(t))

    def noise_level(self, t):
        return jnp.log(self.sigma_of_t(t))

    def t_of_sigma(self, sigma):
        sigma = jnp.asarray(sigma)
        return self.t_of_std(sigma * jax.lax.rsqrt(1 + sigma**2))  # s = sigma alpha, alpha^2 = 1/(1 + sigma^2)

    def t_of_std(self, s):
        # log alpha = log(1 - s^2)/2 = -(a/4) t^2 - (b/2) t, a = beta_max - beta_min, b = beta_min
        c = -0.5 * jnp.log1p(-jnp.asarray(s) ** 2)  # = (a/4) t^2 + (b/2) t >= 0
        a, b = self.beta_max - self.beta_min, self.beta_min
        # positive root, written to avoid cancellation: t = 2c / (b/2 + sqrt(b^2/4 + a c))
        return 2 * c / (0.5 * b + jnp.sqrt(0.25 * b**2 + a * c))


class EDM(AbstractProcess):
    r"""The noise levels of Karras et al. 2022 (EDM): time is the noise level,
    $t = \sigma \in [\sigma_{min}, \sigma_{max}]$, $dx = \sqrt{2t}\,dW$,

    $$ \alpha_t = 1,\qquad s_t = t, $$

    and the fixed-step samplers use the $\rho$-schedule
    $t(u) = (\sigma_{max}^{1/\rho} + u(\sigma_{min}^{1/\rho} - \sigma_{max}^{1/\rho}))^\rho$.
    Network conditioning: $c_{noise} = \ln(\sigma)/4$. `sigma_data` is the data standard
    deviation used by the EDM preconditioning and loss weighting (`ScoreModel`, `dsm_loss`).

    **Arguments:** `sigma_min` < `sigma_max` (> 0), `sigma_data` > 0, `rho` > 0.
    """

    sigma_min: float = eqx.field(static=True, default=0.002)
    sigma_max: float = eqx.field(static=True, default=80.0)
    sigma_data: float = eqx.field(static=True, default=0.5)
    rho: float = eqx.field(static=True, default=7.0)

    def __init__(self, sigma_min: float = 0.002, sigma_max: float = 80.0, sigma_data: float = 0.5,
                 rho: float = 7.0):
        self.sigma_min = _positive("EDM", "sigma_min", sigma_min)
        self.sigma_max = _positive("EDM", "sigma_max", sigma_max)
        self.sigma_data = _positive("EDM", "sigma_data", sigma_data)
        self.rho = _positive("EDM", "rho", rho)
        _ordered("EDM", "sigma_min", self.sigma_min, "sigma_max", self.sigma_max)

    @property
    def t_min(self) -> float:
        return self.sigma_min

    @property
    def t_max(self) -> float:
        return self.sigma_max

    def mean_std(self, t):
        t = jnp.asarray(t)
        return jnp.ones_like(t), t

    def drift_coefficient(self, t):
        return jnp.zeros_like(jnp.asarray(t))

    def diffusion(self, t):
        return jnp.sqrt(2 * jnp.asarray(t))

    def noise_level(self, t):
        return 0.25 * jnp.log(jnp.asarray(t))

    def t_of_std(self, s):
        return jnp.asarray(s)

    def schedule(self, u):
        return self.karras_schedule(u, self.rho)
