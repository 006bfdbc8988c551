r"""Conditional diffusion super-resolution on gridded fields, with ensembles (the CloudDiff setting:
2 km thermal-infrared radiances and viewing geometry -> 1 km cloud phase, top height, optical
thickness and effective radius; and coarse -> fine lattice field configurations).

Fields are channel-first `(n, C, H, W)` on periodic grids, the target `factor` times finer than the
condition; channels are standardised (`decode_target` gives cth [km], log_cot, cer [um], phase).

```python
import jax

import dphys.superres as sr

key = jax.random.PRNGKey(0)
scenes = sr.generate_scenes(key, 16, sr.SceneConfig(size=16, factor=2))   # synthetic, periodic cloud scenes
cond, target = scenes.condition, scenes.target                 # (n, 4, 8, 8) coarse, (n, 6, 16, 16) fine
reg, _ = sr.train_regression(key, cond, target, factor=2, channels=(4,), steps=10, batch_size=8,
                             progress=False)
det = sr.predict(reg, cond)                                    # the deterministic baseline
score, _ = sr.train_diffusion(key, cond, target - det, factor=2, channels=(4,), steps=10, batch_size=8,
                              sigma_data=0.5, progress=False)  # a ConditionalScore of the residual
members = det[:4, None] + sr.sample_ensemble(score, key, cond[:4], n_members=3, steps=4)  # (4, 3, 6, 16, 16)
mae, rmse = sr.mae_rmse(members.mean(1)[:, :3], target[:4, :3])   # continuous channels (standardised)
crps = sr.crps_ensemble(members[:, :, :3], target[:4, :3], axis=1)
fields = sr.decode_target(target)                              # cth [km], log_cot, cer [um], phase
```

The API at a glance (a reference, not runnable):

```
import dphys.superres as sr

scenes = sr.generate_scenes(key, 512, sr.SceneConfig(size=32, factor=2))   # synthetic, periodic
score = sr.ConditionalScore(6, 4, factor=2, channels=(16, 32), key=key)     # U-Net on [x_t, up(c), flag]
loss = sr.conditional_dsm_loss(score, scenes.condition, scenes.target, key, p_uncond=0.1)
members = sr.sample_ensemble(score, key, scenes.condition[:8], n_members=30, guidance=0.0)
baseline = sr.RegressionNet(6, 4, factor=2, channels=(16, 32), key=key)   # sr.regression_loss
sr.mae_rmse(...); sr.categorical_scores(...); sr.power_spectrum(...); sr.crps_ensemble(...); sr.spread_skill(...)
sr.rmse_ratio(mean, det, truth, mask)          # paired scene bootstrap: value, error, 68 % interval
sr.ensemble_mean_decomposition(members, truth, mask, reference=det)   # MSE_m = MSE_inf + spread^2/m
sr.reliability_diagram(members, truth, mask)   # RMSE of the mean per spread bin, bootstrap errors

reg, _ = sr.train_regression(key, cond, target, factor=2, steps=600)          # dphys.fit wrappers
score, _ = sr.train_diffusion(key, cond, target - sr.predict(reg, cond), factor=2, sigma_data=0.5)
scores, reliability = sr.retrieval_scores(truth, {"det": d, "mean": m, "bicubic": b}, members)
phis, acc = sr.phi4_hmc_ensemble(key, action, L=8, n_samples=512)             # lattice part
sr.two_point_comparison(phis, {"generated": gen}, action)                     # C(r), G_c(t), paired C
```

Data (`data`; standardised channels, physical units in `UNITS`):
- `SceneConfig`, `generate_scenes` (a `SceneBatch`: condition, target, coarse target, BT), `scene_fields`,
  `cloud_fields`, `gaussian_random_field` ($P(k) \propto k^{-\beta}$): synthetic periodic cloud scenes.
- The forward model: `cloud_bt`, `clear_sky_bt` (brightness temperatures [K]), `forward_operator` (fine ->
  coarse BT with noise), `block_average`, `bicubic_upsample`.
- Encodings: `encode_condition`, `encode_target`, `decode_target`; channel names `TARGET_CHANNELS`
  (`CONTINUOUS` cth [km], log_cot, cer [um]; `PHASES` clear, liquid, ice).
- User data: `load_pairs` (checked (condition, target) pairs); `lattice_pairs` (block-averaged lattice fields).

Models and training (`model`, `training`):
- `ConditionalScore` (U-Net on [x_t, upsampled condition, flag], EDM preconditioning), `BoundScore` (bound to
  one condition, classifier-free `guidance`), `conditional_dsm_loss`, `upsample_condition`, `sample_ensemble`.
- `RegressionNet`, `regression_loss`, `predict`: the deterministic baseline.
- `train_regression`, `train_diffusion` (`dphys.fit` wrappers), `lattice_augment`, `log_interval`.

Verification (`metrics`, `uncertainty`, `evaluation`):
- `mae_rmse`, `categorical_scores` (POD, FAR, CSI per class), `crps_ensemble`, `crps_gaussian`,
  `spread_skill`, `power_spectrum`.
- Scene bootstrap (a `BootstrapEstimate`): `scene_bootstrap`, `squared_error_totals`, `rmse_ratio`,
  `csi_ratio`, `ensemble_mean_decomposition`, `reliability_diagram`, `spread_error_correlation`.
- `retrieval_scores` (every score of the cloud retrieval, `PHASE_NAMES`), `power_spectra`, `high_k_log_error`.

Lattice super-resolution (`lattice`): `phi4_hmc_ensemble`, `site_correlator` (C(r)), `two_point_comparison`,
`block_residual_rms` (consistency with the condition).
"""

from dphys.superres.data import CONTINUOUS as CONTINUOUS
from dphys.superres.data import PHASES as PHASES
from dphys.superres.data import TARGET_CHANNELS as TARGET_CHANNELS
from dphys.superres.data import UNITS as UNITS
from dphys.superres.data import SceneBatch as SceneBatch
from dphys.superres.data import SceneConfig as SceneConfig
from dphys.superres.data import bicubic_upsample as bicubic_upsample
from dphys.superres.data import block_average as block_average
from dphys.superres.data import clear_sky_bt as clear_sky_bt
from dphys.superres.data import cloud_bt as cloud_bt
from dphys.superres.data import cloud_fields as cloud_fields
from dphys.superres.data import decode_target as decode_target
from dphys.superres.data import encode_condition as encode_condition
from dphys.superres.data import encode_target as encode_target
from dphys.superres.data import forward_operator as forward_operator
from dphys.superres.data import gaussian_random_field as gaussian_random_field
from dphys.superres.data import generate_scenes as generate_scenes
from dphys.superres.data import lattice_pairs as lattice_pairs
from dphys.superres.data import load_pairs as load_pairs
from dphys.superres.data import scene_fields as scene_fields
from dphys.superres.evaluation import PHASE_NAMES as PHASE_NAMES
from dphys.superres.evaluation import high_k_log_error as high_k_log_error
from dphys.superres.evaluation import power_spectra as power_spectra
from dphys.superres.evaluation import retrieval_scores as retrieval_scores
from dphys.superres.lattice import block_residual_rms as block_residual_rms
from dphys.superres.lattice import phi4_hmc_ensemble as phi4_hmc_ensemble
from dphys.superres.lattice import site_correlator as site_correlator
from dphys.superres.lattice import two_point_comparison as two_point_comparison
from dphys.superres.metrics import categorical_scores as categorical_scores
from dphys.superres.metrics import crps_ensemble as crps_ensemble
from dphys.superres.metrics import crps_gaussian as crps_gaussian
from dphys.superres.metrics import mae_rmse as mae_rmse
from dphys.superres.metrics import power_spectrum as power_spectrum
from dphys.superres.metrics import spread_skill as spread_skill
from dphys.superres.model import BoundScore as BoundScore
from dphys.superres.model import ConditionalScore as ConditionalScore
from dphys.superres.model import RegressionNet as RegressionNet
from dphys.superres.model import conditional_dsm_loss as conditional_dsm_loss
from dphys.superres.model import predict as predict
from dphys.superres.model import regression_loss as regression_loss
from dphys.superres.model import sample_ensemble as sample_ensemble
from dphys.superres.model import upsample_condition as upsample_condition
from dphys.superres.training import lattice_augment as lattice_augment
from dphys.superres.training import log_interval as log_interval
from dphys.superres.training import train_diffusion as train_diffusion
from dphys.superres.training import train_regression as train_regression
from dphys.superres.uncertainty import BootstrapEstimate as BootstrapEstimate
from dphys.superres.uncertainty import csi_ratio as csi_ratio
from dphys.superres.uncertainty import ensemble_mean_decomposition as ensemble_mean_decomposition
from dphys.superres.uncertainty import reliability_diagram as reliability_diagram
from dphys.superres.uncertainty import rmse_ratio as rmse_ratio
from dphys.superres.uncertainty import scene_bootstrap as scene_bootstrap
from dphys.superres.uncertainty import spread_error_correlation as spread_error_correlation
from dphys.superres.uncertainty import squared_error_totals as squared_error_totals
