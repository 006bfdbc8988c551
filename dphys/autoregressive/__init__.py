r"""Continuous-mixture autoregressive networks (CANs): exact, normalised densities over lattice
fields, trained by maximum likelihood or reverse KL, with effective actions, independence
Metropolis and partition-function estimates.

A `CANetwork` on a lattice of shape `(N,)` or `(L, L)` factorises $p_\theta(x) = \prod_i p(x_i \mid x_{<i})$,
each conditional a mixture of `n_components` (Gaussian, logistic or beta); densities are in nats, actions
$S(x)$ dimensionless (one configuration in, a scalar out), an optional condition `cond` (e.g. a
temperature, scaled by `cond_range`) is one float per configuration.

```python
import jax
import jax.numpy as jnp
import numpy as np

import dphys.autoregressive as da

a, key = 0.5, jax.random.PRNGKey(0)
def action(x):                                                 # a harmonic path of N = 8 sites, spacing a
    return jnp.sum((jnp.roll(x, -1) - x) ** 2 / (2 * a) + a * x**2 / 2)

net = da.CANetwork((8,), key, n_components=4, n_hidden=8, depth=2, mixture="gaussian",
                   x_scale=2.0)                                # or (L, L); mixture "logistic" | "beta"
x, logq = da.sample_with_log_prob(net, key, 64)                # site by site in a jitted scan
logp = da.log_prob(net, x)                                     # (n,) exact, one parallel pass
net = da.train_reverse_kl(net, action, steps=20, key=key, progress=False).model
net = da.train_ml(net, x, steps=20, key=key, batch_size=32, progress=False).model  # on samples x
err = da.action_error(net, x, action)                          # {"rel_rms", "log_z", "S", "S_theta", ...}
chain, acc, _ = da.independence_metropolis(net, key, 64, action)  # exact for e^{-S}
log_z, log_z_err = da.log_partition(net, key, 64, action)     # importance sampling
exact = da.chain_log_conditionals(np.asarray(x), a, lambda v: v**2 / 2, x_max=6.0, n_grid=201)  # (n, N)
floor = da.relative_action_error(exact.sum(1), jax.vmap(action)(x))  # the metric's floor: rel_rms = 0
```

`CANetwork(shape, key, kernel_size=1, positional=6, direct=False, ...)` sees only $x_{i-1}$ and $x_0$: the
structure of a nearest-neighbour ring; `cond_range=(t_min, t_max)` makes it conditional.

Network (`network`):
- `CANetwork`: the model; `MaskedLinear`: its masked dense layer.
- `log_prob`: exact $\log p_\theta(x \mid c)$ of a batch, one parallel pass.
- `sample_with_log_prob`: n configurations and their log-densities, site by site in a jitted scan.

Training (`training`):
- `train_ml` (on samples, `nll_loss`), `train_reverse_kl` (against an action, `reverse_kl_loss`): both
  with `dphys.fit`, returning a `TrainResult`.

Effective actions and Monte Carlo (`training`):
- `action_error`: $\mathrm{RMS}(S_\theta - S)/\mathrm{std}(S)$ with $S_\theta = -\log p_\theta - \log Z_\mathrm{est}$
  (`fit_log_z` fixes the constant), from the log-densities by `relative_action_error`.
- `independence_metropolis`: network proposals made an exact chain for $e^{-S}$; `log_partition`:
  $\log Z$ by importance sampling, with its error.

Exact references (`exact`):
- `chain_log_conditionals`: exact $\log p(x_i \mid x_{<i})$ of periodic paths under a potential V (transfer
  matrices on a grid); `double_well_log_conditionals`: for $V = \lambda(x^2 - \eta^2)^2$.
"""

from dphys.autoregressive.exact import chain_log_conditionals as chain_log_conditionals
from dphys.autoregressive.exact import double_well_log_conditionals as double_well_log_conditionals
from dphys.autoregressive.network import CANetwork as CANetwork
from dphys.autoregressive.network import MaskedLinear as MaskedLinear
from dphys.autoregressive.network import log_prob as log_prob
from dphys.autoregressive.network import sample_with_log_prob as sample_with_log_prob
from dphys.autoregressive.training import action_error as action_error
from dphys.autoregressive.training import fit_log_z as fit_log_z
from dphys.autoregressive.training import independence_metropolis as independence_metropolis
from dphys.autoregressive.training import log_partition as log_partition
from dphys.autoregressive.training import nll_loss as nll_loss
from dphys.autoregressive.training import relative_action_error as relative_action_error
from dphys.autoregressive.training import reverse_kl_loss as reverse_kl_loss
from dphys.autoregressive.training import train_ml as train_ml
from dphys.autoregressive.training import train_reverse_kl as train_reverse_kl
