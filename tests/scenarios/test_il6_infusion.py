"""IL-6 alone in healthy volunteers: a 3 h rhIL-6 infusion to about 140 pg/mL (Steensberg et al. 2003,
doi:10.1152/ajpendo.00074.2003, abstract; data/il6_infusion/summaries.tsv). Held out: nothing of the network was fitted
to it. The infusion rate is the one free number, set so that total plasma IL-6 is 140 pg/mL at the end of the infusion
(the reported exposure, not a model parameter).

The abstract gives directions against saline, not magnitudes, so two readings are assumptions stated once here:
"enhanced" is a rise of at least :data:`RISE` of the resting level, and "no effect" is a change smaller than the
resolution of the datum the network's readout was fitted to (MAP: Coyle 2006's 1.3 mmHg; temperature: Barber 1993's
0.3 °C; both in data/lps_human).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from cytonet.model.spec import Infusion, ModelSpec
from cytonet.scenarios import load_scenario, simulate_scenario

ROOT = Path(__file__).resolve().parents[2]
SUMMARIES = ROOT / "data/il6_infusion/summaries.tsv"
#: the infusion's length (h) and the reading of "enhanced" (an assumption: a rise under 20 % of rest is taken as one an
#: assay of healthy volunteers' plasma would not separate from saline)
HOURS, RISE = 3.0, 1.2
#: the resolution of the fitted MAP and temperature data (mmHg, °C), read as "no effect"
MAP_RESOLUTION, TEMP_RESOLUTION = 1.3, 0.3


def reported(observable: str) -> str:
    with open(SUMMARIES, newline="") as fh:
        (row,) = [r for r in csv.DictReader(fh, delimiter="\t") if r["observableId"] == observable]
    return row["value"]


def run(rate: float, hours: float, parameters: dict[str, float] | None = None, base: ModelSpec | None = None) -> xr.Dataset:
    """The healthy host with IL-6 infused into plasma at ``rate`` (pg/mL/h) for the first :data:`HOURS`."""
    sc = load_scenario("healthy")
    ev = Infusion(id="rhIL6", start=0.0, end=HOURS, target="IL6", rate=rate)
    return simulate_scenario(sc.model_copy(update={"events": [*sc.events, ev]}), hours=hours, points_per_hour=4,
                             parameters=parameters, base=base)


@lru_cache(maxsize=1)
def exposure_rate() -> float:
    """The infusion rate whose total IL-6 at the end of the infusion is the reported level."""
    level = float(reported("IL6_total"))
    return brentq(lambda r: float(run(r, HOURS)["IL6_total"].values[-1]) - level, 1.0, 1e4, xtol=1e-3)


@lru_cache(maxsize=1)
def infusion() -> xr.Dataset:
    """24 h from the start of the infusion at :func:`exposure_rate`."""
    return run(exposure_rate(), 24.0)


def course(name: str) -> np.ndarray:
    ds = infusion()
    return ds[name].values if name in ds else ds.state.sel(species=name).values


def at(name: str, hours: float) -> float:
    return float(np.interp(hours, infusion().time.values, course(name)))


def test_the_exposure_is_the_reported_one() -> None:
    assert at("IL6_total", HOURS) == pytest.approx(float(reported("IL6_total")), rel=1e-3)
    assert course("IL6_total")[0] < 10  # from the healthy rest state


def test_il6_alone_raises_il1ra_and_cortisol_but_not_tnf() -> None:
    assert reported("TNF") == "not enhanced" and reported("IL1RN") == reported("CORT") == "enhanced"
    assert course("TNF").max() < RISE * course("TNF")[0]
    assert course("IL1RN").max() > RISE * course("IL1RN")[0]
    assert course("CORT").max() > RISE * course("CORT")[0]


def test_crp_rises_after_the_infusion_and_further_16_h_later() -> None:
    crp0, crp_early, crp_late = course("CRP")[0], at("CRP", HOURS + 3), at("CRP", HOURS + 16)
    assert crp_early > RISE * crp0 and crp_late > crp_early


def test_il6_alone_leaves_blood_pressure_unchanged() -> None:
    assert reported("MAP") == "no effect"
    assert course("MAP")[0] - course("MAP").min() < MAP_RESOLUTION


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md, IL-6 alone): 140 pg/mL of IL-6 for 3 h "
                   "raises the network's temperature by 0.49 °C (37.00 -> 37.49 at 3.25 h); the fever gain fitted to LPS "
                   "fever (k_fever_IL6) puts the fever on IL-6, which Steensberg 2003 found not pyrogenic at this level (a "
                   "half-effect K_IL6_fever above about 160 pg/mL would clear it, benchmarks/il6_alone.py; not adopted: "
                   "read as 0 +/- 0.3 degC, 0.49 is 1.6 SD away)")
def test_il6_alone_at_this_level_gives_no_fever() -> None:
    assert reported("TEMP") == "no effect"
    assert course("TEMP").max() - course("TEMP")[0] < TEMP_RESOLUTION


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md, IL-6 alone): the network's IL-10 rises "
                   "2.5 % (2.30 -> 2.36 pg/mL): no IL-10 source in it answers IL-6, and cortisol's induction of IL-10 "
                   "acts on LPS-stimulated monocytes only")
def test_il6_alone_raises_il10() -> None:
    assert reported("IL10") == "enhanced"
    assert course("IL10").max() > RISE * course("IL10")[0]
