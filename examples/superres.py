"""Conditional diffusion super-resolution of synthetic cloud scenes with a 30-member ensemble,
against a deterministic regression U-Net (Python API; the full study is `dphys run superres`).

About 2-4 minutes on a 2-core CPU:  python examples/superres.py
Prints RMSE per variable (cloudy pixels, physical units) of the deterministic retrieval, the
ensemble mean and single members, and the spread-error correlation of the ensemble.
"""

import jax
import numpy as np
import optax

import dphys
import dphys.superres as sr

key = jax.random.PRNGKey(0)
k_data, k_score, k_reg, k_fit, k_sample = jax.random.split(key, 5)

# 1. synthetic scenes: 16x16 fine (1 km) targets, 8x8 coarse (2 km) brightness temperatures + geometry
config = sr.SceneConfig(size=16, factor=2)
scenes = sr.generate_scenes(k_data, 400, config)
train = sr.SceneBatch(*(a[:384] for a in scenes))
test = sr.SceneBatch(*(a[384:] for a in scenes))
data = (train.condition, train.target)

# 2. conditional score (U-Net on [noisy target, upsampled condition, flag]) and the regression baseline
score = sr.ConditionalScore(6, 4, factor=2, channels=(16, 32), key=k_score)
score = dphys.fit(lambda m, b, k: sr.conditional_dsm_loss(m, b[0], b[1], k, p_uncond=0.1), score,
                  optax.adam(optax.warmup_cosine_decay_schedule(0.0, 2e-3, 100, 1500, 1e-4)), data,
                  steps=1500, batch_size=32, key=k_fit, log_every=100).model
reg = sr.RegressionNet(6, 4, factor=2, channels=(16, 32), key=k_reg)
reg = dphys.fit(lambda m, b, k: sr.regression_loss(m, b[0], b[1]), reg, optax.adam(1e-3), data,
                steps=600, batch_size=32, key=k_fit, log_every=100).model

# 3. 30-member ensembles for the 16 test scenes (EDM Heun, 18 steps), and the deterministic retrieval
members = np.asarray(sr.sample_ensemble(score, k_sample, test.condition, 30, chunk=8))
det = np.asarray(sr.predict(reg, test.condition))
truth = sr.decode_target(test.target)
cloudy = np.asarray(truth["phase"]) > 0
mem = sr.decode_target(members)
mean = sr.decode_target(members.mean(axis=1))
d = sr.decode_target(det)
for var, unit in (("cth", "km"), ("log_cot", ""), ("cer", "um")):
    r_det = sr.mae_rmse(d[var], truth[var], cloudy)[1]
    r_mean = sr.mae_rmse(mean[var], truth[var], cloudy)[1]
    r_mem = np.mean([sr.mae_rmse(np.asarray(mem[var])[:, j], truth[var], cloudy)[1] for j in range(30)])
    ss = sr.spread_skill(np.asarray(mem[var]), np.asarray(truth[var]), axis=1, mask=cloudy)
    print(f"{var:8s} RMSE det {r_det:.3f}  ensemble mean {r_mean:.3f}  member {r_mem:.3f} {unit}; "
          f"spread-error correlation {ss['correlation']:.2f}, ratio {ss['ratio']:.2f}")
phase = sr.categorical_scores(np.asarray(mean["phase"]), np.asarray(truth["phase"]), 3)
print(f"phase accuracy (ensemble mean) {phase['accuracy']:.3f}, CSI liquid {phase['csi_1']:.3f}, ice {phase['csi_2']:.3f}")
