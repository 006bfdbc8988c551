"""dphys.femto.data: CSV and HEPData readers and writer (units, error labels, bad input), the dataset
object, and the shipped default pseudo-data (regenerated bit for bit from its documented recipe)."""

import textwrap

import jax
import numpy as np
import pytest

from dphys.constants import HBARC
from dphys.femto.data import (
    DEFAULT_SEED,
    DEFAULT_SOURCE,
    CorrelationData,
    convert_k,
    default_errors,
    load_default,
    make_pseudo_data,
    read_csv,
    read_data,
    read_hepdata_yaml,
    write_csv,
)

K = np.array([0.05, 0.1, 0.2, 0.4])
C = np.array([2.5, 1.6, 1.1, 1.01])
STAT = np.array([0.05, 0.02, 0.01, 0.005])
SYST = np.array([0.01, 0.01, 0.005, 0.0])


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_unit_conversion():
    assert convert_k(197.3269804, "MeV/c") == pytest.approx(1.0, rel=1e-15)
    assert convert_k(0.1973269804, "GeV/$c$") == pytest.approx(1.0, rel=1e-15)
    assert convert_k(2.0, "fm$^{-1}$") == 2.0 and convert_k(2.0, "1/fm") == 2.0
    with pytest.raises(ValueError, match="'MeV/c2'"):
        convert_k(1.0, "MeV/c2")


def test_csv_round_trip_is_exact_in_both_units(tmp_path):
    data = CorrelationData(K, C, STAT, SYST, label="test", meta={"origin": "unit test"})
    for unit in ("MeV/c", "fm^-1"):
        path = write_csv(data, tmp_path / f"d_{unit.replace('/', '')}.csv", k_unit=unit, meta={"extra": 3})
        back = read_csv(path)
        np.testing.assert_allclose(back.k, K, rtol=1e-15)
        for field in ("C", "stat", "syst"):
            np.testing.assert_array_equal(getattr(back, field), getattr(data, field))
        assert back.label == "test" and back.meta["origin"] == "unit test" and back.meta["extra"] == "3"
    np.testing.assert_allclose(data.error, np.hypot(STAT, SYST))
    np.testing.assert_allclose(data.k_mev, K * HBARC)


def test_hepdata_csv_export_with_plus_minus_errors_and_bin_edges(tmp_path):
    path = write(tmp_path, "hep.csv", """
        #: table_doi: 10.17182/hepdata.test
        #: name: Figure 1
        $k^*$ [MeV/$c$],$k^*$ [MeV/$c$] LOW,$k^*$ [MeV/$c$] HIGH,$C(k^*)$,stat +,stat -,sys +,sys -
        10.0,8.0,12.0,2.5,0.05,-0.05,0.02,-0.01
        30.0,28.0,32.0,1.2,0.01,-0.03,0.004,-0.004
        """)
    data = read_data(path)
    np.testing.assert_allclose(data.k, np.array([10.0, 30.0]) / HBARC, rtol=1e-15)
    np.testing.assert_allclose(data.C, [2.5, 1.2])
    np.testing.assert_allclose(data.stat, [0.05, 0.02])  # mean of |+| and |-|
    np.testing.assert_allclose(data.syst, [0.015, 0.004])
    assert data.meta["name"] == "Figure 1"


def test_hepdata_yaml_table(tmp_path):
    path = write(tmp_path, "table.yaml", """
        independent_variables:
        - header: {name: '$k^*$', units: 'GeV/$c$'}
          values:
          - {low: 0.008, high: 0.012}
          - {value: 0.03}
          - {value: 0.05}
        dependent_variables:
        - header: {name: 'other'}
          values: [{value: 0}, {value: 0}, {value: 0}]
        - header: {name: '$C(k^*)$'}
          qualifiers:
          - {name: SQRT(S), units: GeV, value: 13000}
          values:
          - value: 2.5
            errors:
            - {symerror: 0.05, label: stat}
            - {asymerror: {plus: 0.03, minus: -0.01}, label: sys}
            - {symerror: 0.02, label: 'sys,norm'}
          - value: 1.2
            errors:
            - {symerror: '2%', label: stat}
          - value: 1.05
            errors:
            - {symerror: 0.004}
            - {symerror: 0.003, label: syst}
        """)
    data = read_hepdata_yaml(path, dependent="$C(k^*)$")
    np.testing.assert_allclose(data.k, np.array([10.0, 30.0, 50.0]) / HBARC, rtol=1e-14)
    np.testing.assert_allclose(data.C, [2.5, 1.2, 1.05])
    np.testing.assert_allclose(data.stat, [0.05, 0.024, 0.004])  # percent of the value; unlabelled = stat
    np.testing.assert_allclose(data.syst, [np.hypot(0.02, 0.02), 0.0, 0.003])  # quadrature sum of sys errors
    assert "13000" in data.label and data.meta["k_unit"] == "GeV/$c$"
    assert read_data(path, dependent=1).C[0] == 2.5
    with pytest.raises(ValueError, match="no dependent variable 'C'"):
        read_hepdata_yaml(path, dependent="C")
    with pytest.raises(ValueError, match="dependent=2 out of range"):
        read_hepdata_yaml(path, dependent=2)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("k [MeV/c],C\n10,1.5\n", r"lacks the column\(s\) \['stat'\]"),
        ("k,C,stat\n10,1.5,0.01\n", "does not state the unit of k"),
        ("k [MeV/c2],C,stat\n10,1.5,0.01\n", "unknown unit 'MeV/c2'"),
        ("k [MeV/c],C,stat\n10,1.5,0.01\n-5,1.2,0.01\n", r"momenta must be > 0, got k\[1\] = -5"),
        ("k [MeV/c],C,stat\n10,1.5,0.0\n", r"statistical errors must be > 0, got stat\[0\] = 0 "),
        ("k [MeV/c],C,stat,syst\n10,1.5,0.01,-0.1\n", r"syst\[0\] = -0.1"),
        ("k [MeV/c],C,stat\n10,abc,0.01\n", "C = 'abc' is not a number"),
        ("k [MeV/c],C,stat\n", "no data rows"),
        ("k [MeV/c],C,stat\n10,nan,0.01\n", "is not finite"),
    ],
)
def test_bad_csv_raises_value_error_naming_the_problem(tmp_path, text, match):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError, match=match):
        read_csv(path)


def test_bad_hepdata_and_bad_dataset(tmp_path):
    no_stat = write(tmp_path, "t.yaml", """
        independent_variables:
        - header: {name: k, units: MeV/c}
          values: [{value: 10}]
        dependent_variables:
        - header: {name: C}
          values:
          - value: 1.5
            errors: [{symerror: 0.1, label: sys}]
        """)
    with pytest.raises(ValueError, match="no statistical error"):
        read_hepdata_yaml(no_stat)
    no_unit = write(tmp_path, "u.yaml", """
        independent_variables:
        - header: {name: k}
          values: [{value: 10}]
        dependent_variables:
        - header: {name: C}
          values: [{value: 1.5, errors: [{symerror: 0.1}]}]
        """)
    with pytest.raises(ValueError, match="has no units"):
        read_hepdata_yaml(no_unit)
    assert read_hepdata_yaml(no_unit, k_unit="fm^-1").k[0] == 10.0
    with pytest.raises(ValueError, match="not a HEPData table"):
        read_hepdata_yaml(write(tmp_path, "x.yaml", "a: 1\n"))
    with pytest.raises(ValueError, match="suffix '.txt'"):
        read_data(tmp_path / "data.txt")
    with pytest.raises(ValueError, match="shape"):
        CorrelationData(K, C[:3], STAT)
    with pytest.raises(ValueError, match="not positive definite"):
        CorrelationData(K, C, STAT, covariance=np.ones((4, 4)))
    with pytest.raises(ValueError, match="no data point"):
        CorrelationData(K, C, STAT).select(kmin=1.0)


def test_select_and_parametric_resampling():
    cov = np.diag(STAT**2) + 0.5 * np.outer(STAT, STAT)
    data = CorrelationData(K, C, STAT, covariance=cov)
    low = data.select(kmax=0.15)
    assert len(low) == 2 and low.covariance.shape == (2, 2)
    np.testing.assert_allclose(data.error, np.sqrt(np.diag(cov)))
    replicas = np.stack([data.resample(key).C for key in jax.random.split(jax.random.PRNGKey(0), 500)])
    n = len(replicas)
    # mean within 4 standard errors, covariance within 4 standard errors of a sample covariance
    np.testing.assert_array_less(np.abs(replicas.mean(0) - C), 4 * STAT / np.sqrt(n))
    sample = np.cov(replicas.T)
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    np.testing.assert_array_less(np.abs(sample - cov), 4 * se)


def test_default_errors_are_alice_like():
    k = np.array([6.0, 25.0, 100.0, 300.0]) / HBARC
    stat, syst = default_errors(k, np.ones(4))
    np.testing.assert_allclose(stat, [0.02, 0.01, 0.005, 0.005])
    np.testing.assert_allclose(syst, 0.002)


def test_default_data_is_labelled_pseudo_data_and_regenerates_exactly():
    data = load_default()
    assert len(data) == 50 and data.k_mev[0] == pytest.approx(6.0) and data.k_mev[-1] == pytest.approx(300.0)
    assert "PSEUDO-DATA" in data.meta["kind"] and "pseudo-data" in data.label
    assert data.meta["true_source"] == "CoreTailSource(radius={radius:g}, tail_length={tail_length:g}, " \
        "tail_fraction={tail_fraction:g})".format(**DEFAULT_SOURCE)
    assert data.meta["seed"] == str(DEFAULT_SEED)
    with jax.enable_x64(True):
        again = make_pseudo_data()
    np.testing.assert_allclose(again.k, data.k, rtol=1e-15)
    np.testing.assert_allclose(again.C, data.C, rtol=1e-12)
    np.testing.assert_allclose(again.stat, data.stat, rtol=1e-12)
    np.testing.assert_allclose(again.syst, data.syst, rtol=1e-12)
    # the errors and the noise are the documented ones: errors from the noiseless C, and
    # (C - C_true)/error standard normal
    from dphys.femto import correlation, sources

    with jax.enable_x64(True):
        c_true = np.asarray(correlation.pp_correlation(sources.CoreTailSource(**DEFAULT_SOURCE), data.k))
    stat, syst = default_errors(data.k, c_true)
    np.testing.assert_allclose(data.stat, stat, rtol=1e-12)
    np.testing.assert_allclose(data.syst, syst, rtol=1e-12)
    pulls = (data.C - c_true) / data.error
    assert abs(pulls.mean()) < 4 / np.sqrt(50)
    assert abs(pulls.std(ddof=1) - 1) < 4 / np.sqrt(2 * 49)
