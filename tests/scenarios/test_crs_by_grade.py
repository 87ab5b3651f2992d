"""CRS after CD19 CAR-T by grade: a small car-t-crs virtual population against published grade fractions, the
direction of the cytokine contrast between severe and milder CRS, and the timing of CRS onset.

The population is the shipped ``car_t_crs_hill2018`` variation: the default host variation, the CAR-T infusion at the
trial's three dose levels in the proportions Hill et al. 2018 (Table 1) report for Hay 2017's 133 adults, and a
tumour-burden spread (an assumption).

Every published number is read from ``data/inflammatory_syndromes/summaries.tsv`` (each row has its source), so
the test re-measures itself when the network changes. ASTCT grades as :func:`cytonet.analysis.clinical.crs_grade`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cytonet.population.runner import PopulationConfig, run_population
from cytonet.population.sampling import load_variation
from cytonet.population.summary import wilson
from cytonet.scenarios import simulate_scenario
from cytonet.store import runs as store

from clinical_data import rows, summary

#: small, fixed population: about 15 s on one core; enough to tell 12 % severe from 70 %
N, SEED = 60, 1
#: the shipped variation with the Hill 2018 dose levels and a tumour-burden spread
VARIATION = "car_t_crs_hill2018"
#: "severe" CRS in this test is ASTCT grade >= 4; an assumption (the abstracts read do not define severe)
SEVERE_GRADE = 4


@pytest.fixture(scope="module")
def patients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = Path(tmp_path_factory.mktemp("crs")) / "pop"
    cfg = PopulationConfig(scenario="car-t-crs", n=N, variation=load_variation(VARIATION), seed=SEED, batch_size=N)
    run_population(cfg, out, show_progress=False, workers=1)
    p = store.connect(out).execute("SELECT * FROM patients ORDER BY patient").fetchnumpy()
    ok = p["crs_grade"] >= 0
    assert ok.sum() >= 0.9 * N, f"{N - ok.sum()} of {N} patients failed to simulate"
    return {k: np.asarray(v)[ok] for k, v in p.items()}


def _hay(quantity_starts: str) -> str:
    return next(r["value"] for r in rows() if r["conditionId"] == "crs_adults_cd19" and r["quantity"].startswith(quantity_starts))


def hay_grade_fractions() -> dict[int, float]:
    """Grade 1..5 fractions of Hay et al. 2017 (one row: 'f1 / f2 / f3 / f4 / f5')."""
    return {g: float(f) for g, f in enumerate(_hay("CRS grade 1").split("/"), start=1)}


def _fraction_check(grades: np.ndarray, published: float, at_least: int) -> tuple[bool, str]:
    k = int((grades >= at_least).sum())
    ci = wilson(k, len(grades))
    inside = ci.low <= published <= ci.high
    return inside, f"grade >= {at_least}: simulated {ci.estimate:.2f} ({ci.low:.2f}-{ci.high:.2f}, n={len(grades)}) vs Hay 2017 {published:.3f}"


def test_any_grade_crs_fraction_matches_hay_2017(patients: dict[str, np.ndarray]) -> None:
    """Hay 2017: CRS of any grade in 70 %. The patients at the lower dose levels and burdens stay afebrile; the burden
    spread is an assumption (the cohort's was not read), so an agreement rests on it as much as on the network.
    Measured: 43 of 57 (0.75, Wilson 0.63-0.85); at n = 200 (benchmarks/crs_profile.py --population 200) 0.80
    (0.73-0.85), just above Hay's 0.70; with the linear leak proxy 93 - 80 LEAK, 48 of 56 (0.86, 0.74-0.93)."""
    inside, msg = _fraction_check(patients["crs_grade"], float(_hay("CRS after CD19 CAR-T, any grade")), 1)
    assert inside, msg


@pytest.mark.xfail(strict=True, reason="grade >= 3 in 17 of 59 virtual patients (0.29, Wilson 0.19-0.41; grades 0-4: 13 / 2 / 27 / "
                   "10 / 7) vs 0.121 in Hay 2017 (133 adults), at the trial's dose levels (Hill 2018) with a tumour-burden "
                   "spread and the between-patient vasodilation gain (E_VASO_MAP CV 0.69, fitted to Coyle 2006's spread of "
                   "the LPS MAP fall); MAP nadir median 70.6 mmHg, below 65 in 17, 65-70 in 12. It was 32 of 57 (0.56; "
                   "grades 14 / 3 / 8 / 32 / 0) with the gain the same in every patient, and 42 of 56 (0.75) with the linear "
                   "leak proxy MAP = 93 - 80 LEAK (benchmarks/hemodynamics.py --crs); measured on car-t-crs, "
                   "car_t_crs_hill2018, n=60, seed 1")
def test_severe_crs_fraction_matches_hay_2017(patients: dict[str, np.ndarray]) -> None:
    f = hay_grade_fractions()
    inside, msg = _fraction_check(patients["crs_grade"], f[3] + f[4] + f[5], 3)
    assert inside, msg


def test_mild_crs_fraction_matches_hay_2017(patients: dict[str, np.ndarray]) -> None:
    """Hay 2017: grade 1-2 in 58 %. Measured: 29 of 59 (0.49, Wilson 0.37-0.62); 11 of 57 (0.19) before the vasodilation
    gain varied between patients, when nearly every febrile patient reached grade-3 hypotension."""
    f = hay_grade_fractions()
    g = patients["crs_grade"]
    ci = wilson(int(((g >= 1) & (g <= 2)).sum()), len(g))
    assert ci.low <= f[1] + f[2] <= ci.high, f"grade 1-2: simulated {ci.estimate:.2f} ({ci.low:.2f}-{ci.high:.2f}) vs {f[1] + f[2]:.3f}"


def test_grade_4_crs_fraction_matches_hay_2017(patients: dict[str, np.ndarray]) -> None:
    """Hay 2017: grade 4-5 in 7.6 % (the network has no death, so grade 4 stands for both). Measured: 7 of 59 (0.12,
    Wilson 0.06-0.23), the patients with a high vasodilation gain; none (MAP floor 58.7 mmHg) before it varied."""
    f = hay_grade_fractions()
    inside, msg = _fraction_check(patients["crs_grade"], f[4] + f[5], 4)
    assert inside, msg


@pytest.mark.parametrize("cytokine, observable, condition", [("IL6", "IL6_total", "crs_ctl019"),
                                                              ("IFNG", "IFNG", "crs_ctl019"),
                                                              ("IL6", "IL6_total", "crs_cd19_28z_children")])
def test_severe_crs_has_higher_cytokine_peaks_than_milder_crs(patients: dict[str, np.ndarray], cytokine: str,
                                                              observable: str, condition: str) -> None:
    """Teachey et al. 2016 (peak in the first month) and Lee et al. 2015 (maximum fold change): IL-6 and IFN-γ are higher
    in severe CRS. Compared here: median peak of grade >= 4 against grade <= 3 (free IL-6, as the population stores it).
    Measured: 7 severe patients; IL-6 848 against 547 pg/mL (1.55x), IFN-γ 579 against 233 (2.48x). Before the
    vasodilation gain varied between patients no patient reached grade 4 (strict xfail)."""
    ref = next(r for r in rows() if r["observableId"] == observable and r["conditionId"] == condition)
    assert ref["value"] == "higher"
    g = patients["crs_grade"]
    severe, milder = patients[f"peak_{cytokine}"][g >= SEVERE_GRADE], patients[f"peak_{cytokine}"][g < SEVERE_GRADE]
    assert len(severe) >= 5 and len(milder) >= 5, (len(severe), len(milder))
    ratio = float(np.median(severe) / np.median(milder))
    assert ratio > 1.0, f"{cytokine}: median peak severe / milder = {ratio:.2f} (published: {ref['value']})"


@pytest.fixture(scope="module")
def fever() -> tuple[np.ndarray, np.ndarray]:
    """The default car-t-crs patient: time (h) and whether the body temperature is >= 38 °C (fever starts ASTCT CRS)."""
    ds = simulate_scenario("car-t-crs")
    return ds.time.values, ds["state"].sel(species="TEMP").values >= 38.0


def test_crs_onset_is_near_the_published_median_day(fever: tuple[np.ndarray, np.ndarray]) -> None:
    """JULIET (tisagenlecleucel): median CRS onset 3 days after infusion. The default car-t-crs patient's first fever
    falls within one day of it: the onset is reported in whole days."""
    median_days = summary("TEMP", "crs_juliet", "median").value
    t, febrile = fever
    assert febrile.any()
    onset_h = float(t[np.argmax(febrile)])
    assert abs(onset_h - 24 * median_days) <= 24, f"onset {onset_h:.0f} h vs published median {median_days:g} d"


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md): the default patient is febrile for 9.6 days, inside "
                   "JULIET's range (2-30) but 2.6 days above its median (7); 8.6 days before the IL-6 fever gain was fitted "
                   "to LPS fever (k_fever_IL6 0.6 -> 0.99 degC/h, a higher, longer IL-6-driven fever); it was within a day while resting IL-10 was 8 pg/mL "
                   "instead of the designed 2 (the resting Treg and macrophage IL-10 sources were scaled down to balance "
                   "clearance, which also lowers their IL-10 during CRS)")
def test_crs_lasts_as_long_as_published(fever: tuple[np.ndarray, np.ndarray]) -> None:
    """JULIET: CRS lasts a median 7 days (range 2-30). The default patient's fever, first to last febrile hour, lasts
    within the range and within one day of the median; it has ended before the horizon."""
    ref = summary("TEMP", "crs_juliet", "median (range)")
    t, febrile = fever
    first, last = float(t[np.argmax(febrile)]), float(t[len(t) - 1 - np.argmax(febrile[::-1])])
    assert last < t[-1], "still febrile at the end of the horizon"
    days = (last - first) / 24
    assert ref.low <= days <= ref.high and abs(days - ref.value) <= 1, f"{days:.1f} d vs {ref.value:g} ({ref.low:g}-{ref.high:g}) d"
