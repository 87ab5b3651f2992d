"""The counter-regulators' plasma levels in the untreated sepsis storm, held to septic ICU cohorts (summaries.tsv).

As in ``test_scenario_behaviour.py``, ICU admission is read as the IL-6 peak (the maximum falls on ICU day 1, Shimazui et
al. 2017) and "the first day" is the 24 h after it. None of these levels was fitted: the counter-regulators' gains come from
the 2 ng/kg LPS protocol (docs/model.md), so these are predictions for a different trigger.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from cytonet.scenarios import simulate_scenario

from clinical_data import summary


@lru_cache(maxsize=1)
def _storm():  # noqa: ANN202 - (time, time of admission, {species: level})
    """Time axis, admission (the IL-6 peak) and the counter-regulators' levels over 7 days of the untreated storm."""
    ds = simulate_scenario("sepsis-storm", hours=168)
    t = ds.time.values
    admission = float(t[int(np.argmax(ds["IL6_total"].values))])
    levels = {s: ds["state"].sel(species=s).values for s in ("IL1RN", "sTNFR1", "CORT", "IL10")}
    return t, admission, levels


def _first_day_peak(species: str) -> float:
    t, admission, y = _storm()
    return float(y[species][(t >= admission) & (t <= admission + 24)].max())


def _at_admission(species: str) -> float:
    t, admission, y = _storm()
    return float(np.interp(admission, t, y[species]))


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, sepsis outcomes): the storm's plasma IL-1Ra peaks at "
                   "1,406 pg/mL on the first day, below the 2,071 pg/mL that more than half of 529 patients with sepsis and "
                   "hypotension exceeded before randomisation (Meyer et al. 2018; 0.68x), and 0.16x the critically ill "
                   "mean of Fischer et al. 1992 (8,680 pg/mL); at either level its brake on IL-1 signalling (half-effect "
                   "52 ng/mL) stays small")
def test_il1ra_reaches_the_levels_of_septic_shock() -> None:
    """Plasma IL-1Ra on the first day reaches at least the threshold that more than half of a septic-shock cohort exceeded
    at randomisation (283 of 529 above 2,071 pg/mL, Meyer et al. 2018), the storm following the sicker patients."""
    assert _first_day_peak("IL1RN") >= summary("IL1RN", "sepsis_shock_baseline").value


def test_stnfr1_at_admission_is_in_the_high_risk_range_of_septic_patients() -> None:
    """Plasma sTNFR1 at admission is above 8,861 pg/mL, the level that 33.5-46.5 % of 400 critically ill septic patients
    exceeded and that marks the higher 30-day mortality (Anderson et al. 2019), as the storm's first day follows the ICU
    non-survivors' IL-6 (test_scenario_behaviour.py). Measured: 9.1 ng/mL (resting 1.66); 24 h later it is 3.3 ng/mL,
    a fall the cohorts that measured daily do not describe (sTNFRs stay raised for days; docs/model.md)."""
    assert _at_admission("sTNFR1") > summary("sTNFR1", "sepsis_icu_admission").value


def test_cortisol_on_the_first_day_is_in_the_septic_shock_spread() -> None:
    """Total plasma cortisol on the first day lies in the basal range of 40 septic-shock patients (7.9-113 µg/dL, mean 36.8;
    Intensive Care Med 1995) and above the lower cohort mean of Salgado et al. 2006 (15.5 µg/dL with albumin at most
    2.5 g/dL; 22.4 above it). Measured: 291 ng/mL (29.1 µg/dL), 0.79x the 40-patient mean."""
    ref = summary("CORT", "septic_shock")
    peak = _first_day_peak("CORT")
    assert ref.low <= peak <= ref.high, peak
    assert peak >= summary("CORT", "septic_shock_low_albumin").value, peak


def test_il10_on_the_first_day_is_inside_the_septic_spread_and_above_the_septic_shock_median() -> None:
    """Plasma IL-10 on the first day is at least the median first-day peak of 16 septic-shock patients (48 pg/mL, J Clin
    Immunol 1995), as for a storm following the sicker patients, and inside the range of 53 septic patients in their first
    48 h (0-1,698.9 pg/mL, Crit Care 2011). Measured: 235 pg/mL, 4.9x that median and 13x the non-survivors' median of the
    second cohort (17.6); it falls to 86 by day 5, where non-survivors' IL-10 stays raised (J Infect Dis 1997)."""
    peak = _first_day_peak("IL10")
    assert summary("IL10", "septic_shock_day1").value <= peak <= summary("IL10", "sepsis_icu_48h").high, peak
