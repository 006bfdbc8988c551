"""Neural-network building blocks for physics models: score networks on ONE sample,
`net(x, noise_level) -> like x` (batches by `jax.vmap`), for periodic lattices (`LatticeUNet`,
FFT circular convolutions) and low-dimensional states (`ScoreMLP`), with an optional exact
Z2 oddness (`z2_odd=True`)."""

from dphys.nn.lattice import CircularConv2d as CircularConv2d
from dphys.nn.lattice import LatticeUNet as LatticeUNet
from dphys.nn.lattice import circular_conv2d as circular_conv2d
from dphys.nn.mlp import AbstractScoreNet as AbstractScoreNet
from dphys.nn.mlp import NoiseEmbedding as NoiseEmbedding
from dphys.nn.mlp import ScoreMLP as ScoreMLP
