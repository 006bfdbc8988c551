"""Super-resolution of 2D phi^4 lattice configurations: an HMC ensemble (L = 8), a conditional
diffusion model trained on (2x2 block average -> configuration) pairs with translations by whole
blocks and phi -> -phi, one generated fine configuration per held-out coarse one, compared with the
true configurations by the site correlator C(r) and G_c(t) (jackknife errors). Python API; the same
study is the lattice part of `dphys run superres`.

About a minute on a 2-core CPU:  python examples/superres_lattice.py
Prints C(0), C(1) of the truth, the generated and the upsampled (nearest, bicubic) configurations,
the largest deviations from the truth in combined standard errors and the paired C(0) difference.
"""

import jax
import numpy as np

import dphys.superres as sr
from dphys.lattice.phi4 import Phi4Action

key = jax.random.PRNGKey(0)
k_hmc, k_train, k_gen = jax.random.split(key, 3)
L, factor = 8, 2
action = Phi4Action(kappa=0.27, lam=0.022)

# 1. HMC ensemble: 8 chains x 64 configurations (step size adapted, then frozen); the last 16 held out
phis, acceptance = sr.phi4_hmc_ensemble(k_hmc, action, L, 512, chains=8)
phis = np.asarray(phis)
train, test = phis[:-16].reshape(-1, L, L), phis[-16:]
print(f"HMC acceptance {acceptance:.2f}; {train.shape[0]} training and {test.size // L**2} test configurations")

# 2. conditional score on (block average, configuration) pairs
cond, target = sr.lattice_pairs(train, factor)
score, _ = sr.train_diffusion(k_train, cond, target, factor=factor, channels=(8, 16), steps=600, batch_size=32,
                              p_uncond=0.0, augment=sr.lattice_augment(factor))

# 3. one fine configuration per held-out coarse configuration (EDM Heun, 36 steps), and the upsampling baselines
c_test, _ = sr.lattice_pairs(test.reshape(-1, L, L), factor)
gen = np.asarray(sr.sample_ensemble(score, k_gen, c_test, 1, steps=36, chunk=64)[:, 0, 0]).reshape(test.shape)
candidates = {"diffusion": gen}
for method in ("nearest", "bicubic"):
    candidates[method] = np.asarray(sr.upsample_condition(c_test[:, 0], factor, method)).reshape(test.shape)
cmp = sr.two_point_comparison(test, candidates, action, n_blocks=10)
for name, c in cmp["C"].items():
    dev = "" if name == "truth" else (f"; max deviation C {cmp['maxdev']['C_' + name]:.1f} sigma, "
                                      f"G_c {cmp['maxdev']['G_' + name]:.1f} sigma, paired C(0) "
                                      f"{cmp['paired'][name].value[0]:+.3f} +- {cmp['paired'][name].error[0]:.3f}")
    print(f"{name:9s} C(0) {c.value[0]:.3f} +- {c.error[0]:.3f}  C(1) {c.value[1]:.3f} +- {c.error[1]:.3f}{dev}")
residual = sr.block_residual_rms(gen.reshape(-1, L, L), c_test[:, 0], factor)
print(f"block-average residual of the generated configurations {residual:.3f} (coarse field RMS "
      f"{float(np.sqrt(np.mean(np.asarray(c_test) ** 2))):.3f})")
