"""The spread of the lps-endotoxemia virtual population against the spread human endotoxemia cohorts reported.

Every row of ``data/lps_human/cohort_spreads.tsv`` (a source each) is one readout: the simulated
statistic (CV, IQR / median or a rank correlation over 400 patients, seed 0) must lie inside the 95 %
interval of the cohort's statistic given its n. Two variations are tested:

- ``default``, the shipped one: every CV an assumption except that of the vasodilation gain ``E_VASO_MAP``, fitted to
  one row (Coyle 2006, MAP fall, 48 men; ``benchmarks/hemodynamics.py --fit-spread``); that row is not tested there;
- ``fitted``, ``data/lps_human/calibration/population_variation.yaml``: the same with the CV of the
  half-effect levels ``K_*`` fitted to one row (GENE, peak CRP, 193 European-ancestry adults;
  ``benchmarks/cohort_spread.py --fit``); that row is not tested there, every other row is held out.

Readouts known to lie outside are strict xfails whose reason gives the measured gap.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cytonet.errors import InputError
from cytonet.population.cohort import (
    CONDITION_DOSE, CohortSpread, SimulatedCohort, SpreadKind, cohort_interval, compare, compare_mean, population_statistic,
    read_spread_rows, readout_values, row_id, sample_statistic, simulate_cohort, spread_from_row,
)
from cytonet.population.sampling import load_variation

TABLE = Path(__file__).resolve().parents[2] / "data" / "lps_human" / "cohort_spreads.tsv"
FITTED = TABLE.parent / "calibration" / "population_variation.yaml"
FIT_ROW = "CRP-peak-lps_1ngkg-n193"
#: the row the default variation's E_VASO_MAP CV is fitted to
MAP_FIT_ROW = "MAP-fall-lps_2ngkg-n48"
N_PATIENTS, SEED = 400, 0


#: measured with the shipped variation (seed 0, 400 patients): the gap is the simulated statistic minus the nearer end
#: of the cohort's 95 % interval
OUTSIDE = {
    "default-CRP-peak-lps_1ngkg-n193": "simulated peak-CRP IQR/median 0.48 lies 0.08 below the GENE European-ancestry interval "
                               "0.56-0.88 (mixed-sex cohort; the population has no sex or body-size covariate)",
    "default-CRP-peak-lps_1ngkg-n101": "simulated peak-CRP IQR/median 0.48 lies 0.05 below the GENE African-ancestry interval 0.53-0.98",
}


#: the cohort means (mean +/- SEM rows: van Eijk 2007, 15 men; Coyle 2006, 48 men; 2 ng/kg) the population's mean
#: misses, measured with 400 patients, seed 0; no row is fitted: the LPS calibration fits TNF, fever and CRP of other
#: cohorts (Barber 1993, Dillingh 2014) and the IL-10 of van der Poll 1996 (data/lps_human/calibration)
MEAN_OUTSIDE = {
    "TNF-rise": "simulated mean TNF rise {} pg/mL against van Eijk's 411 +/- 35 (SEM): the default patient peaks at 176 pg/mL at 1 h, "
                "fitted to 155 +/- 4 pg/mL at 90 min in the van der Poll/Barber cohort (same dose; reported TNF differs several-fold "
                "between laboratories and assays)",
    "CRP-rise": "simulated mean CRP rise {} mg/L against van Eijk's 29 +/- 3 (SEM); the default patient peaks at 42 mg/L at 16 h, "
                "fitted to Barber's 42 mg/L (was 46 before CRP synthesis was fitted, mean 43.9)",
    "TEMP-rise": "simulated mean rise of core temperature {} degC against Coyle's 2.1 +/- 0.1 (SEM): the default patient's fever "
                 "peaks 1.71 degC above rest at 4.3 h, fitted to Barber's 1.9 +/- 0.3 and Dillingh's 1.5 (was 1.07 before the IL-6 "
                 "fever gain was fitted, mean 1.01)",
}
MEAN_MEASURED = {("default", "TNF-rise"): "153", ("fitted", "TNF-rise"): "133", ("default", "CRP-rise"): "39.7",
                 ("fitted", "CRP-rise"): "38.8", ("default", "TEMP-rise"): "1.60", ("fitted", "TEMP-rise"): "1.45"}


def _mean_params() -> list:
    out = []
    for variation in ("default", "fitted"):
        for row in read_spread_rows(TABLE):
            if row["spread_kind"] != SpreadKind.SEM:
                continue
            key = f"{row['observableId']}-{row['measure']}"
            marks = ([pytest.mark.xfail(strict=True, reason=MEAN_OUTSIDE[key].format(MEAN_MEASURED[variation, key]))]
                     if key in MEAN_OUTSIDE else [])
            out.append(pytest.param(variation, row, id=f"{variation}-mean-{row_id(row)}", marks=marks))
    return out


def _params() -> list:
    out = []
    for variation in ("default", "fitted"):
        for row in read_spread_rows(TABLE):
            rid = f"{variation}-{row_id(row)}"
            if (variation, row_id(row)) in (("fitted", FIT_ROW), ("default", MAP_FIT_ROW)):
                continue  # fitted to it: not a test
            marks = [pytest.mark.xfail(strict=True, reason=OUTSIDE[rid])] if rid in OUTSIDE else []
            out.append(pytest.param(variation, row, id=rid, marks=marks))
    return out


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("cohorts")
    variations = {"default": load_variation(), "fitted": load_variation(FITTED)}
    return {(name, d): simulate_cohort(d, N_PATIENTS, SEED, str(out / f"{name}_{d}"), vf, N_PATIENTS // 2)
            for name, vf in variations.items() for d in sorted(set(CONDITION_DOSE.values()))}


@pytest.mark.parametrize(("variation", "row"), _params())
def test_simulated_spread_lies_inside_the_cohort_interval(variation: str, row: dict[str, str], cohorts: dict) -> None:
    sim = cohorts[variation, CONDITION_DOSE[row["conditionId"]]]
    assert sim.n >= 0.85 * N_PATIENTS  # nearly every sampled host has a rest state
    c = compare(row, sim)
    assert c.inside, (f"{row['quantity']}: simulated {c.spread.statistic} {c.simulated.estimate:.3f} "
                      f"outside the cohort's {c.cohort.low:.3f}-{c.cohort.high:.3f} (gap {c.gap:+.3f})")


@pytest.mark.parametrize(("variation", "row"), _mean_params())
def test_simulated_mean_lies_inside_the_cohort_mean_interval(variation: str, row: dict[str, str], cohorts: dict) -> None:
    """Means as well as spreads: the population's mean readout lies within 1.96 standard errors of the cohort's."""
    c = compare_mean(row, cohorts[variation, CONDITION_DOSE[row["conditionId"]]])
    assert c.inside, f"{row['quantity']}: simulated mean {c.simulated:.3g} vs {c.value:g} (z = {c.z:+.1f})"


def test_the_fitted_variation_differs_from_the_default_in_one_cv_with_its_data() -> None:
    default, fitted = load_variation().variations, load_variation(FITTED).variations
    changed = [(a, b) for a, b in zip(default, fitted) if a != b]
    assert len(default) == len(fitted) and len(changed) == 1
    a, b = changed[0]
    assert a.parameters == b.parameters == ["K_*"] and b.cv != a.cv and "doi:10.1186/1479-5876-11-63" in b.refs


def test_the_vasodilation_gain_varies_between_patients_with_its_cv_from_coyle() -> None:
    """The one default CV fitted to a cohort spread: the MAP fall per unit vasodilation, from Coyle 2006's 48 men."""
    group = next(v for v in load_variation().variations if "E_VASO_MAP" in v.parameters)
    assert group.parameters == ["E_VASO_MAP"] and "doi:10.1097/01.shk.0000232589.39001.4d" in group.refs
    row = next(r for r in read_spread_rows(TABLE) if row_id(r) == MAP_FIT_ROW)
    assert "doi:10.1097/01.shk.0000232589.39001.4d" in row["source"]


def test_every_row_names_its_source_and_a_known_condition() -> None:
    conditions = {r["conditionId"] for r in csv.DictReader(open(TABLE.parent / "conditions.tsv"), delimiter="\t")}
    readme = (TABLE.parents[1] / "README.md").read_text()
    for row in read_spread_rows(TABLE):
        assert row["conditionId"] in conditions and row["source"] and row["location"] == "abstract", row
        assert row["source"].split()[0] in readme and row["reading"], row
        spread_from_row(row)  # every row parses


# ----------------------------------------------------------------------------- the statistics
@pytest.mark.parametrize("kind", [SpreadKind.SEM, SpreadKind.IQR_WIDTH])
def test_population_statistic_is_the_large_sample_limit(kind: SpreadKind) -> None:
    z = np.random.default_rng(5).standard_normal(2_000_000)
    for sigma in (0.2, 0.5, 0.9):
        assert sample_statistic(kind, np.exp(sigma * z)) == pytest.approx(float(population_statistic(kind, sigma)), rel=0.01)


@pytest.mark.parametrize(("kind", "n", "sigma"), [(SpreadKind.SEM, 15, 0.4), (SpreadKind.IQR_WIDTH, 101, 0.5)])
def test_interval_covers_the_true_statistic_in_about_95_percent_of_cohorts(kind: SpreadKind, n: int, sigma: float) -> None:
    """40 cohorts of n from a log-normal population: the interval holds the population's statistic in nearly all."""
    rng = np.random.default_rng(11)
    truth = float(population_statistic(kind, sigma))
    hits = 0
    for _ in range(40):
        x = np.exp(sigma * rng.standard_normal(n))
        if kind == SpreadKind.SEM:
            c = CohortSpread(kind, float(x.mean()), n, float(x.std(ddof=1) / np.sqrt(n)))
        else:
            q1, q2, q3 = np.percentile(x, [25, 50, 75])
            c = CohortSpread(kind, float(q2), n, float(q3 - q1))
        hits += truth in cohort_interval(c, draws=300)
    assert 34 <= hits <= 40


def test_rounding_and_small_cohorts_widen_the_interval() -> None:
    exact = cohort_interval(CohortSpread(SpreadKind.IQR_WIDTH, 17.4, 193, 12.0))
    rounded = cohort_interval(CohortSpread(SpreadKind.IQR_WIDTH, 17.4, 193, 12.0, 0.1, 1.0))
    small = cohort_interval(CohortSpread(SpreadKind.IQR_WIDTH, 17.4, 30, 12.0))
    assert rounded.low <= exact.low < exact.estimate < exact.high <= rounded.high
    assert small.high - small.low > exact.high - exact.low


def test_rank_correlation_bound_is_fisher_z_and_readouts_are_paired() -> None:
    iv = cohort_interval(CohortSpread(SpreadKind.UPPER_BOUND, 0.2, 193))
    assert iv.high == pytest.approx(np.tanh(np.arctanh(0.2) + 1.959964 / np.sqrt(190)), rel=1e-6) and iv.low == -1
    sim = SimulatedCohort({"IL6": np.array([10.0, 30.0])}, {"IL6": np.array([1.0, 2.0]), "MAP": np.array([90.0, 95.0])},
                          {"MAP": np.array([80.0, 70.0])})
    np.testing.assert_array_equal(readout_values("rise", "IL6", sim), [9.0, 28.0])
    np.testing.assert_array_equal(readout_values("fall", "MAP", sim), [10.0, 25.0])
    assert readout_values("rank_correlation_rest_peak", "IL6", sim)[0] is sim.rests["IL6"]
    with pytest.raises(InputError, match="unknown measure 'rice'; did you mean rise"):
        readout_values("rice", "IL6", sim)
    with pytest.raises(InputError, match="no fall of 'IL6'"):
        readout_values("fall", "IL6", sim)


def test_mean_comparison_allows_both_standard_errors_and_the_rounding() -> None:
    tnf = next(r for r in read_spread_rows(TABLE) if r["observableId"] == "TNF" and r["measure"] == "rise")
    peaks = np.array([90.0, 100.0, 110.0, 120.0])
    sim = SimulatedCohort({"TNF": peaks}, {"TNF": np.zeros(4)}, {})
    row = {**tnf, "value": "100", "spread": "3", "value_resolution": "1", "spread_resolution": "2"}
    c = compare_mean(row, sim)
    se = np.hypot(3 + 1, peaks.std(ddof=1) / 2)  # the SEM rounded up by half its resolution; SD / sqrt(4)
    assert c.simulated == 105 and c.se == pytest.approx(se) and c.half_width == pytest.approx(1.959964 * se + 0.5)
    assert c.inside and not compare_mean({**row, "value": "80"}, sim).inside
    with pytest.raises(InputError, match="reports no mean"):
        compare_mean(next(r for r in read_spread_rows(TABLE) if r["spread_kind"] == "iqr_width"), sim)


def test_a_malformed_row_is_a_one_line_input_error() -> None:
    good = read_spread_rows(TABLE)[0]
    with pytest.raises(InputError, match="unknown spread_kind 'sd'"):
        spread_from_row({**good, "spread_kind": "sd"})
    with pytest.raises(InputError, match="upper_bound goes with measure rank_correlation_rest_peak"):
        spread_from_row({**good, "spread_kind": "upper_bound"})
    with pytest.raises(InputError, match="must be numbers"):
        spread_from_row({**good, "n": "fifteen"})
