r"""Neural-network building blocks for physics models: score networks on ONE sample,
`net(x, noise_level) -> like x` (batches by `jax.vmap`), for periodic lattices (`LatticeUNet`,
FFT circular convolutions) and low-dimensional states (`ScoreMLP`), with an optional exact
Z2 oddness (`z2_odd=True`); a gauge-invariant plaquette network for U(1) links (`U1ScoreNet`,
`net(theta_p, log_s)` on plaquette angles); `initialise` draws a network's weights in one call.

Fields are channel-first `(C, L, L)` on a periodic lattice (lattice units); the noise level is the
diffusion's $\sigma$ (or $\ln s$ for U(1) links, radians); all networks are equinox modules.

```python
import jax
import jax.numpy as jnp

from dphys import nn

key = jax.random.PRNGKey(0)
mlp = nn.ScoreMLP(2, width=32, depth=2, z2_odd=True, key=key)     # state (2,); exactly odd in x
s = jax.vmap(mlp, in_axes=(0, None))(jnp.ones((5, 2)), 0.5)       # a batch by vmap; noise level 0.5
unet = nn.LatticeUNet(1, channels=(8, 16), key=key)               # periodic L x L fields, (C, L, L)
s_phi = unet(jnp.zeros((1, 8, 8)), 0.5)                           # like x
u1 = nn.U1ScoreNet(width=8, depth=2, key=key)                     # gauge invariant: sees plaquettes only
r_p = u1(jnp.zeros((8, 8)), jnp.log(0.3))                         # theta_p [rad], log s -> r_P (L, L)
y = nn.circular_conv2d(jnp.ones((1, 8, 8)), jnp.ones((3, 3, 1, 2)))  # periodic cross-correlation (2, 8, 8)
```

Score networks (`mlp`, `lattice`):
- `AbstractScoreNet`: the contract `net(x, noise_level) -> like x`.
- `ScoreMLP`: an MLP for a state of fixed shape, with a `NoiseEmbedding` (sinusoidal features + MLP) of
  the noise level; `z2_odd=True` antisymmetrises it.
- `LatticeUNet`: a FiLM-modulated U-Net of circular convolutions, translation equivariant.
- `CircularConv2d` (a layer) and `circular_conv2d` (the function): periodic 2D convolutions (FFT or direct).

Gauge networks (`gauge`):
- `U1ScoreNet`: the plaquette network $r_P(\cos\theta, \sin\theta; \ln s)$ of the U(1) link score, built of
  `FiLMConvBlock`s.

Initialisation (`mlp`):
- `initialise`: every weight of a network from ONE uniform draw (one compiled kernel instead of one per layer).
"""

from dphys.nn.gauge import FiLMConvBlock as FiLMConvBlock
from dphys.nn.gauge import U1ScoreNet as U1ScoreNet
from dphys.nn.lattice import CircularConv2d as CircularConv2d
from dphys.nn.lattice import LatticeUNet as LatticeUNet
from dphys.nn.lattice import circular_conv2d as circular_conv2d
from dphys.nn.mlp import AbstractScoreNet as AbstractScoreNet
from dphys.nn.mlp import NoiseEmbedding as NoiseEmbedding
from dphys.nn.mlp import ScoreMLP as ScoreMLP
from dphys.nn.mlp import initialise as initialise
