r"""Continuous-mixture autoregressive networks (CANs): exact, normalised densities over lattice
fields, trained by maximum likelihood or reverse KL, with effective actions, independence
Metropolis and partition-function estimates.

```python
import dphys.autoregressive as da
net = da.CANetwork((32,), key, n_components=4, n_hidden=8, depth=2, mixture="gaussian",
                   cond_range=(t_min, t_max))       # or (L, L); mixture "logistic" | "beta"
net = da.CANetwork((32,), key, kernel_size=1, positional=6, direct=False, ...)  # sees x_{i-1}, x_0 only:
                                                     # the structure of a nearest-neighbour ring
logp = da.log_prob(net, x, cond)                     # (n,) exact, one parallel pass each
x, logq = da.sample_with_log_prob(net, key, n, cond)             # site by site in a jitted scan
net = da.train_ml(net, x, cond, steps=..., key=key).model
net = da.train_reverse_kl(net, action, steps=..., key=key, cond=c).model
err = da.action_error(net, x_heldout, action, cond)  # {"rel_rms", "log_z", "S", "S_theta", ...}
chain, acc, _ = da.independence_metropolis(net, key, n, action, cond)
log_z, err = da.log_partition(net, key, n, action, cond)
exact = da.chain_log_conditionals(x, a, V, x_max=3.0, n_grid=201)  # (n, N) exact log p(x_i | x_<i)
err = da.relative_action_error(exact.sum(1), S)      # the metric's floor: rel_rms = 0
```
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
