"""retrieval_scores, power_spectra and high_k_log_error against direct NumPy computations on synthetic
standardised targets (no training)."""

import numpy as np
import pytest

import dphys.superres as sr


def _target(rng, phase, cont):
    onehot = (phase[:, None] == np.arange(3)[None, :, None, None]).astype(float)
    return np.concatenate([cont, 2 * onehot - 1], axis=1)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    n, m, size = 12, 6, 8
    phase = rng.integers(0, 3, (n, size, size))
    truth = _target(rng, phase, rng.normal(size=(n, 3, size, size)))

    def noisy(scale, flip=0.1):
        p = np.where(rng.uniform(size=phase.shape) < flip, rng.integers(0, 3, phase.shape), phase)
        return _target(rng, p, truth[:, :3] + scale * rng.normal(size=truth[:, :3].shape))

    det = noisy(0.5)
    members = np.stack([noisy(0.7) for _ in range(m)], axis=1)
    preds = {"det": det, "bicubic": noisy(0.8), "mean": members.mean(axis=1)}
    scores, rel = sr.retrieval_scores(truth, preds, members, n_boot=200, n_bins=4)
    return truth, preds, members, scores, rel


def test_scores_against_direct_numpy(case):
    truth, preds, members, scores, rel = case
    t = {k: np.asarray(v) for k, v in sr.decode_target(truth).items()}
    cloudy = t["phase"] > 0
    for var in sr.CONTINUOUS:
        for method, x in preds.items():
            d = np.asarray(sr.decode_target(x)[var])[cloudy] - t[var][cloudy]
            assert scores[f"rmse_{var}_{method}"] == pytest.approx(np.sqrt(np.mean(d**2)), rel=1e-5)
            assert scores[f"mae_{var}_{method}"] == pytest.approx(np.mean(np.abs(d)), rel=1e-5)
        ratio = scores[f"rmse_ratio_{var}"]
        assert ratio[0] == pytest.approx(scores[f"rmse_{var}_mean"] / scores[f"rmse_{var}_det"], rel=1e-5)
        assert ratio[1] > 0 and scores[f"rmse_ratio_{var}_p16"] <= ratio[0] <= scores[f"rmse_ratio_{var}_p84"]
        mv = np.asarray(sr.decode_target(members)[var])
        corr = sr.spread_skill(mv, t[var], axis=1, mask=cloudy)["correlation"]
        assert scores[f"spread_error_corr_{var}"][0] == pytest.approx(corr, rel=1e-8)
        assert scores[f"mse_{var}_mean"][0] == pytest.approx(scores[f"rmse_{var}_mean"] ** 2, rel=1e-5)
        assert len(rel[var]["rmse"]) == 4 and scores[f"reliability_{var}_bin3_rmse"][2] == rel[var]["consistent"][3]
    acc = np.mean(np.asarray(sr.decode_target(preds["det"])["phase"]) == t["phase"])
    assert scores["phase_accuracy_det"] == pytest.approx(acc)
    for cls in ("liquid", "ice", "cloud"):
        value = scores[f"csi_ratio_{cls}"][0]
        name = cls if cls != "cloud" else "cloud"
        assert value == pytest.approx(scores[f"csi_{name}_mean"] / scores[f"csi_{name}_det"], rel=1e-6)


def test_spectra_and_high_k_error(case):
    truth, preds, members, _, _ = case
    spec = sr.power_spectra(truth, {"copy": truth, **preds}, members)
    for var in sr.CONTINUOUS:
        err = sr.high_k_log_error(spec[var], 8)
        assert err["copy"] == 0.0
        assert err["det"] > 0 and err["member"] > 0
    with pytest.raises(ValueError, match="truth"):
        sr.high_k_log_error({"det": spec["cth"]["det"]}, 8)


def test_bad_input_raises():
    truth = np.zeros((3, 6, 4, 4))
    with pytest.raises(ValueError, match="lacks"):
        sr.retrieval_scores(truth, {"det": truth}, np.zeros((3, 2, 6, 4, 4)))
    preds = {"det": truth, "mean": truth, "bicubic": truth}
    with pytest.raises(ValueError, match="members"):
        sr.retrieval_scores(truth, preds, np.zeros((3, 1, 6, 4, 4)))
    with pytest.raises(ValueError, match="truth"):
        sr.retrieval_scores(truth[:1], {k: v[:1] for k, v in preds.items()}, np.zeros((1, 2, 6, 4, 4)))
