"""One behaviour test per scenario: the signatures the literature describes, asserted on the reference network.

Calibrated behaviours (the network's parameters were chosen to reproduce them) are marked as such in the
test docstrings; the others are consequences of the network's structure.
"""

from __future__ import annotations

import numpy as np
import pytest

from cytonet.analysis.steady import continuation, steady_state
from cytonet.model.spec import Bolus, Infusion
from cytonet.scenarios import host_model, load_scenario, simulate_scenario

from clinical_data import summary


def series(ds, species: str) -> np.ndarray:
    return ds["state"].sel(species=species).values


def at(ds, species: str, t: float) -> float:
    return float(ds["state"].sel(species=species).sel(time=t, method="nearest"))


def peak(ds, species: str) -> tuple[float, float]:
    y = series(ds, species)
    k = int(np.argmax(y))
    return float(y[k]), float(ds.time.values[k])


def test_healthy_baseline_is_a_stable_steady_state() -> None:
    """Every Jacobian eigenvalue at the healthy steady state has a negative real part, and a run stays there."""
    ss = steady_state(host_model(load_scenario("healthy")))
    assert ss.stable, f"slowest mode {ss.slowest_rate:.3g} /h"
    ds = simulate_scenario("healthy")
    for s in ("IL6", "TNF", "IL10", "CRP", "TEMP", "Th17", "Treg"):
        y = series(ds, s)
        assert np.max(np.abs(y - y[0])) <= 1e-3 * max(abs(y[0]), 1e-3), s


def test_healthy_baseline_within_published_healthy_ranges() -> None:
    """IL-6, IL-1β and TNF at rest lie within the healthy serum ranges recorded in the knowledge base (CoLaus)."""
    from cytonet import kb

    rest = steady_state(host_model(load_scenario("healthy"))).as_dict()
    for cid in ("IL6", "IL1B", "TNF"):
        rng = kb.cytokine(cid).serum_range
        assert rng is not None and rng.low <= rest[cid] <= rng.high, (cid, rest[cid], rng)


def test_resolving_infection_clears_and_returns_to_baseline() -> None:
    ds = simulate_scenario("infection-resolving")
    assert at(ds, "P", 72) < 1e-3
    for s in ("IL6", "TNF"):
        base, (top, _) = series(ds, s)[0], peak(ds, s)
        assert top > 10 * base, s
        assert series(ds, s)[-1] < 1.5 * base, s


def test_lps_challenge_matches_the_human_endotoxemia_time_course() -> None:
    """Calibrated: human 2 ng/kg LPS gives TNF then IL-6 peaks at ~1.5-3 h, IL-6 of the order of 1,000 pg/mL
    (Copeland et al. 2005, doi:10.1128/CDLI.12.1.60-67.2005), IL-10 peaking after TNF at ~3 h (Fijen et al. 2000,
    doi:10.1016/s0953-6205(00)00068-6) and about +1.5 °C fever (Dillingh et al. 2014, doi:10.1186/s12950-014-0028-1)."""
    ds = simulate_scenario("lps-endotoxemia")
    (tnf, t_tnf), (il6, t_il6), (il10, t_il10) = peak(ds, "TNF"), peak(ds, "IL6"), peak(ds, "IL10")
    assert 0.75 <= t_tnf <= 2.0
    assert t_tnf < t_il6 <= 4.0
    assert t_tnf < t_il10 <= 5.0
    assert 300 <= il6 <= 3000
    assert 100 <= tnf <= 2000
    fever = peak(ds, "TEMP")[0] - series(ds, "TEMP")[0]
    assert 1.0 <= fever <= 2.5
    # back near baseline within 24 h: the excess over baseline has fallen below 10 % of the peak excess
    # (IL-10 lingers longer in the model: below 25 %, a known deviation from the human data)
    for s, frac in (("TNF", 0.1), ("IL6", 0.1), ("IL1B", 0.1), ("CXCL8", 0.1), ("IL10", 0.25)):
        base = series(ds, s)[0]
        assert at(ds, s, 24) - base < frac * (peak(ds, s)[0] - base), s


def test_untreated_sepsis_storm_subsides_into_immunoparalysis() -> None:
    """Serum IL-6 peaks inside the pooled sepsis mean's 95 % CI of Leisman et al. 2020 (983.6, 550-1758 pg/mL; summaries.tsv),
    with capillary leak; the storm is not a steady state: monocyte reprogramming (cross-tolerance, Cavaillon & Adib-Conquy 2006,
    doi:10.1186/cc5055) turns the cytokine response down over days while the untreated pathogen persists (immunoparalysis)."""
    ds = simulate_scenario("sepsis-storm", hours=336)
    il6 = ds["IL6_total"].values  # serum IL-6 as immunoassays report it (free + sIL-6R-bound)
    ref = summary("IL6_total", "sepsis")
    assert ref.low <= il6.max() <= ref.high, il6.max()
    hours_above = np.count_nonzero(il6 > 500) * float(ds.time.values[1] - ds.time.values[0])
    assert hours_above >= 24
    assert series(ds, "LEAK").max() > 0.3
    il6_at = {h: float(np.interp(h, ds.time.values, il6)) for h in (168, 336)}
    assert il6_at[168] < 0.5 * il6.max() and il6_at[336] < il6_at[168]
    assert at(ds, "TNF", 168) < 0.2 * peak(ds, "TNF")[0]
    assert at(ds, "P", 336) > 1.0  # not cleared without therapy
    assert at(ds, "TOL_mac", 168) > 10 * series(ds, "TOL_mac")[0]


def test_antimicrobial_therapy_clears_the_pathogen_and_the_storm_resolves() -> None:
    """The same host and inoculum with a bactericidal antimicrobial from 6 h: the pathogen is cleared within 3 days, serum IL-6
    (peak inside the Leisman 2020 CI) and TNF return to baseline within a week, and damage does not persist."""
    ds = simulate_scenario("sepsis-treated")
    ref = summary("IL6_total", "sepsis")
    assert ref.low <= ds["IL6_total"].values.max() <= ref.high
    assert at(ds, "P", 72) < 1e-6
    for s in ("IL6", "TNF"):
        assert at(ds, s, 168) < 1.5 * series(ds, s)[0], s
    assert series(ds, "DAMAGE")[-1] < 0.01


def _crs(tumour: float, dose: float):
    sc = load_scenario("car-t-crs")
    events = [Bolus(id="tumour_burden", time=0, target="TUM", amount=tumour), Bolus(id="car_t_infusion", time=0, target="CARTq", amount=dose)]
    return simulate_scenario(sc.model_copy(update={"events": events}))


def test_car_t_crs_rises_over_days_and_grows_with_burden_and_dose() -> None:
    """CRS peaks days after infusion and is larger with more tumour (Hay et al. 2017: marrow tumour burden and CAR-T dose
    are independent predictors of CRS; the dose levels there span 100-fold, here 10-fold)."""
    ds = simulate_scenario("car-t-crs")
    for s in ("IL6", "IFNG", "CRP", "FERRITIN"):
        top, when = peak(ds, s)
        assert top > 10 * series(ds, s)[0], s
        assert 24 <= when <= 240, (s, when)
    il6 = {(tum, dose): peak(_crs(tum, dose), "IL6")[0] for tum in (1.0, 2.0) for dose in (0.0025, 0.025)}
    assert il6[(2.0, 0.0025)] > il6[(1.0, 0.0025)] and il6[(2.0, 0.025)] > il6[(1.0, 0.025)]
    assert il6[(1.0, 0.025)] > il6[(1.0, 0.0025)] and il6[(2.0, 0.025)] > il6[(2.0, 0.0025)]


def test_car_t_cells_expand_after_a_lag_and_contract() -> None:
    """Infused CAR-T cells expand 10^2-10^5-fold in vivo (Teachey et al. 2016, doi:10.1158/2159-8290.CD-16-0040; the fold
    range is in data/inflammatory_syndromes/summaries.tsv) and then contract; CRS begins with fever days, not hours,
    after infusion (Hay et al. 2017: no cytokine rise within hours), and no new CRS starts after two weeks."""
    ds = simulate_scenario("car-t-crs")
    fold_range = summary("CART", "crs")
    dose = float(ds["state"].sel(species="CARTq").values[0])
    top, when = peak(ds, "CART")
    assert fold_range.low <= top / dose <= fold_range.high, top / dose
    assert 72 <= when <= 240, when
    assert series(ds, "CART")[-1] < 0.05 * top  # contraction
    for s in ("IL6", "IFNG", "TNF", "TEMP"):  # nothing moves in the first 12 h
        base = series(ds, s)[0]
        assert at(ds, s, 12) - base < 0.5 * max(base, 1.0), s
    temp = series(ds, "TEMP")
    onset = float(ds.time.values[np.argmax(temp >= 38.0)])
    assert temp.max() >= 38.0 and 24 <= onset <= 14 * 24, onset


def test_soluble_il6_receptor_rises_in_crs_and_trans_signalling_reaches_the_endothelium() -> None:
    """Teachey et al. 2016 (doi:10.1158/2159-8290.CD-16-0040): sIL-6R is elevated in CRS (inflammation-driven ADAM17 shedding);
    IL-6/sIL-6R complexes activate endothelial gp130 (Kang et al. 2020, doi:10.1073/pnas.2010229117)."""
    crs = simulate_scenario("car-t-crs")
    assert series(crs, "sIL6R").max() > 1.3 * series(crs, "sIL6R")[0]
    assert series(crs, "STAT3_endo").max() > 0.2
    assert series(crs, "STAT3_endo")[0] < 1e-3  # quiet at rest


def test_hlh_is_ifng_driven_with_extreme_ferritin() -> None:
    """Perforin-deficient host: IFN-γ storm and ferritin > 10,000 ng/mL; the same virus in a normal host resolves."""
    hlh = simulate_scenario("hlh")
    assert series(hlh, "FERRITIN").max() > 10_000
    assert series(hlh, "IFNG").max() > 100 * series(hlh, "IFNG")[0]
    sc = load_scenario("hlh")
    normal = {k: v for k, v in sc.parameters.items() if k not in ("k_DC_kill", "k_P_CD8", "k_P_NK")}
    healthy_host = simulate_scenario(sc.model_copy(update={"parameters": normal}))
    assert series(healthy_host, "FERRITIN").max() < 0.1 * series(hlh, "FERRITIN").max()
    assert series(healthy_host, "IFNG")[-1] < 10 * series(healthy_host, "IFNG")[0]


def test_hlh_shows_its_diagnostic_readouts() -> None:
    """sIL-2R (sCD25) at or above the HLH-2004 criterion of 2,400 U/mL (Hayden et al. 2017, doi:10.1182/bloodadvances.2017012310:
    at most 2,400 U/mL rules HLH out), IL-18 above 1,000 pg/mL (pmid:33128796) and CXCL9, the serum surrogate of IFN-γ activity
    (Buatois et al. 2017, doi:10.1016/j.trsl.2016.07.023), far above rest; all three within their healthy ranges at rest."""
    hlh = simulate_scenario("hlh")
    srl = summary("sIL2R", "healthy")
    for sid in ("sIL2R", "IL18", "CXCL9"):
        assert series(hlh, sid)[0] == pytest.approx(series(simulate_scenario("healthy"), sid)[0], rel=1e-6)
    assert srl.low <= series(hlh, "sIL2R")[0] <= srl.high
    assert series(hlh, "sIL2R").max() >= summary("sIL2R", "hlh").low
    assert series(hlh, "IL18").max() > summary("IL18", "hlh").low
    assert series(hlh, "CXCL9").max() > 100 * series(hlh, "CXCL9")[0]


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md): in the hlh scenario endothelial IL-6 (activated by IFN-γ, TNF "
                   "and IL-6 trans-signalling) keeps total serum IL-6 above IFN-γ; in children with HLH IFN-γ and IL-10 dominate")
def test_hlh_cytokine_profile_is_ifng_and_il10_dominated() -> None:
    """Tang et al. 2008 (data/inflammatory_syndromes/summaries.tsv): median IFN-γ 901.7, IL-10 879.0, IL-6 63.8 pg/mL."""
    hlh = simulate_scenario("hlh")
    il6 = hlh["IL6_total"].values.max()
    assert series(hlh, "IFNG").max() > 3 * il6 and series(hlh, "IL10").max() > 3 * il6


def _autoimmune(rate: float, **params: float):
    sc = load_scenario("autoimmune-chronic")
    ev = Infusion(id="self_antigen_exposure", start=0, end=72, target="SELF_AG", rate=rate)
    return simulate_scenario(sc.model_copy(update={"events": [ev], "parameters": {**sc.parameters, **params}}))


def test_autoimmunity_locks_in_after_a_large_trigger_only() -> None:
    small, large = _autoimmune(0.02), _autoimmune(0.1)
    assert at(small, "SELF_AG", 1000) < 1e-3 and at(large, "SELF_AG", 1000) < 1e-3  # the trigger is gone
    assert series(small, "Th17")[-1] < 2 * series(small, "Th17")[0]
    assert series(small, "IL6")[-1] < 1.2 * series(small, "IL6")[0]
    for s in ("Th17", "IL17A", "IL6", "IL21"):
        assert series(large, s)[-1] > 3 * series(large, s)[0], s


def test_less_regulation_lowers_the_autoimmune_threshold() -> None:
    """A trigger that resolves with normal regulation locks in when Treg supply or IL-10 production is halved."""
    rate = 0.04
    normal = _autoimmune(rate)
    assert series(normal, "Th17")[-1] < 2 * series(normal, "Th17")[0]
    fewer_treg = _autoimmune(rate, s_Treg=0.025)
    assert series(fewer_treg, "Th17")[-1] > 10 * series(fewer_treg, "Th17")[0]
    less_il10 = _autoimmune(rate, k_IL10_Ma=125.0, k_IL10_Treg=1.0)
    assert series(less_il10, "Th17")[-1] > 10 * series(less_il10, "Th17")[0]


def test_th17_gain_continuation_shows_hysteresis() -> None:
    """Sweeping the Th17 expansion gain up and back down gives two branches: a bistable window. Its upper edge is set by the
    IL-17/IL-6 amplifier; once the diseased branch has formed resident memory (Th17m) it persists down to the lowest gain swept,
    the disease memory that makes relapse after therapy the rule."""
    host = host_model(load_scenario("healthy"))
    c = continuation(host, "k_Th17_autocrine", np.geomspace(0.1, 8, 14))
    window = c.hysteresis("Th17")
    assert window.size >= 2
    assert window.max() < 8
    assert all(s.stable for s in c.up[:3]) and all(s.stable for s in c.down[-3:])


def test_il10_knockout_raises_the_il6_peak() -> None:
    normal = simulate_scenario("lps-endotoxemia")
    knockout = simulate_scenario("lps-endotoxemia", parameters={"s_IL10_basal": 1e-9, "k_IL10_Ma": 1e-9, "k_IL10_Treg": 1e-9, "k_IL10_B": 1e-9,
                                                                          "k_IL10_GR": 1e-9})
    assert peak(knockout, "IL6")[0] > 1.2 * peak(normal, "IL6")[0]


def test_unknown_scenario_and_parameter_names_suggest_close_matches() -> None:
    from cytonet.errors import ModelSpecError, UnknownEntityError

    with pytest.raises(UnknownEntityError, match="did you mean sepsis-storm"):
        load_scenario("sepsis-strom")
    with pytest.raises(ModelSpecError, match="did you mean k_IL6_renal"):
        simulate_scenario("healthy", parameters={"k_IL6_renl": 1.0})
