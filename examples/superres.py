"""Conditional diffusion super-resolution of synthetic cloud scenes with a 30-member ensemble,
against a deterministic regression U-Net; the diffusion model learns the residual of the regression
(CorrDiff). Python API; the full study is `dphys run superres`.

About 2 minutes on a 2-core CPU:  python examples/superres.py
Prints RMSE per variable (cloudy pixels, physical units) of the deterministic retrieval, the
ensemble mean and single members, the spread-error correlation of the ensemble, the ratio
RMSE(mean)/RMSE(det) with its scene-bootstrap error (only 16 test scenes here) and the
decomposition MSE(mean) = MSE(infinite ensemble) + spread^2/30.
"""

import jax
import numpy as np

import dphys
import dphys.diffusion as dd
import dphys.superres as sr

key = jax.random.PRNGKey(0)
k_data, k_score, k_reg, k_fit, k_sample = jax.random.split(key, 5)

# 1. synthetic scenes: 16x16 fine (1 km) targets, 8x8 coarse (2 km) brightness temperatures + geometry
config = sr.SceneConfig(size=16, factor=2)
scenes = sr.generate_scenes(k_data, 2064, config)
train = sr.SceneBatch(*(a[:2048] for a in scenes))
test = sr.SceneBatch(*(a[2048:] for a in scenes))

# 2. the regression baseline (U-Net on the upsampled condition), then a conditional score (U-Net on
#    [noisy residual, upsampled condition, flag]) of the residual target - regression (CorrDiff)
reg = sr.RegressionNet(6, 4, factor=2, channels=(16, 32), key=k_reg)
reg = dphys.fit(lambda m, b, k: sr.regression_loss(m, b[0], b[1]), reg, dphys.warmup_cosine_adam(2e-3, 600),
                (train.condition, train.target), steps=600, batch_size=32, key=k_fit, log_every=100).model
residual = train.target - sr.predict(reg, train.condition)
sigma_data = float(np.sqrt(np.mean(np.asarray(residual) ** 2)))
score = sr.ConditionalScore(6, 4, factor=2, channels=(16, 32), key=k_score,
                            process=dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=sigma_data))
score = dphys.fit(lambda m, b, k: sr.conditional_dsm_loss(m, b[0], b[1], k, p_uncond=0.1), score,
                  dphys.warmup_cosine_adam(2e-3, 1500), (train.condition, residual), steps=1500, batch_size=32,
                  key=k_fit, log_every=100).model

# 3. 30-member ensembles for the 16 test scenes (EDM Heun, 18 steps): regression + sampled residuals
det = np.asarray(sr.predict(reg, test.condition))
members = np.asarray(sr.sample_ensemble(score, k_sample, test.condition, 30, chunk=8, base=det))
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
    # the ratio with its paired scene-bootstrap error, and what an infinite ensemble would give
    ratio = sr.rmse_ratio(mean[var], d[var], truth[var], cloudy)
    dec = sr.ensemble_mean_decomposition(mem[var], truth[var], cloudy, reference=d[var])
    print(f"         RMSE mean / det {ratio.value:.3f} +- {ratio.error:.3f} (68 %: {ratio.low:.3f}-{ratio.high:.3f}); "
          f"spread^2/30 = {dec['spread2_over_m'].value / dec['mse_mean'].value:.1%} of the MSE; "
          f"infinite ensemble / det {dec['ratio_inf'].value:.3f} +- {dec['ratio_inf'].error:.3f}")
phase = sr.categorical_scores(np.asarray(mean["phase"]), np.asarray(truth["phase"]), 3)
print(f"phase accuracy (ensemble mean) {phase['accuracy']:.3f}, CSI liquid {phase['csi_1']:.3f}, "
      f"ice {phase['csi_2']:.3f}")
