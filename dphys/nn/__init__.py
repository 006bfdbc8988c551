"""Neural-network building blocks for physics models: score networks on ONE sample,
`net(x, noise_level) -> like x` (batches by `jax.vmap`), for periodic lattices (`LatticeUNet`,
FFT circular convolutions) and low-dimensional states (`ScoreMLP`), with an optional exact
Z2 oddness (`z2_odd=True`); a gauge-invariant plaquette network for U(1) links (`U1ScoreNet`,
`net(theta_p, log_s)` on plaquette angles); `initialise` draws a network's weights in one call."""

from dphys.nn.gauge import FiLMConvBlock as FiLMConvBlock
from dphys.nn.gauge import U1ScoreNet as U1ScoreNet
from dphys.nn.lattice import CircularConv2d as CircularConv2d
from dphys.nn.lattice import LatticeUNet as LatticeUNet
from dphys.nn.lattice import circular_conv2d as circular_conv2d
from dphys.nn.mlp import AbstractScoreNet as AbstractScoreNet
from dphys.nn.mlp import NoiseEmbedding as NoiseEmbedding
from dphys.nn.mlp import ScoreMLP as ScoreMLP
from dphys.nn.mlp import initialise as initialise
