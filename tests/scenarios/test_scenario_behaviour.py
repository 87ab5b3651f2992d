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
    for s, frac in (("TNF", 0.1), ("IL6", 0.1), ("IL1B", 0.1), ("CXCL8", 0.1), ("IL10", 0.1)):
        base = series(ds, s)[0]
        assert at(ds, s, 24) - base < frac * (peak(ds, s)[0] - base), s


def _sepsis_course():  # noqa: ANN202 - (xarray.Dataset, time, IL-6, time of the IL-6 peak)
    """The untreated sepsis storm over 14 days, its time axis, total serum IL-6 and the time of the IL-6 peak."""
    ds = simulate_scenario("sepsis-storm", hours=336)
    t, il6 = ds.time.values, ds["IL6_total"].values  # serum IL-6 as immunoassays report it (free + sIL-6R-bound)
    return ds, t, il6, float(t[int(np.argmax(il6))])


def _nearer_non_survivors(level: float, window: str) -> bool:
    """``level`` is nearer (log scale) the non-survivors' IL-6 than the survivors' in the ICU cohort of ``window``."""
    s, ns = summary("IL6_total", f"sepsis_survivors_{window}").value, summary("IL6_total", f"sepsis_nonsurvivors_{window}").value
    return level > float(np.sqrt(s * ns))


def test_untreated_sepsis_storm_subsides_into_immunoparalysis() -> None:
    """Serum IL-6 peaks inside the pooled sepsis mean's 95 % CI of Leisman et al. 2020 (983.6, 550-1758 pg/mL; summaries.tsv);
    the storm is not a steady state: monocyte reprogramming (cross-tolerance, Cavaillon & Adib-Conquy 2006,
    doi:10.1186/cc5055) turns the cytokine response down over days while the untreated pathogen persists (immunoparalysis).

    The first day is held to ICU cohorts, reading ICU admission as the IL-6 peak (the maximum falls on ICU day 1, median day 1,
    IQR 1-2, Shimazui et al. 2017): 24 h after its peak IL-6 is nearer the non-survivors' level 24 h after admission (286.9 pg/mL)
    than the survivors' (65.4; Thao et al. 2018, log scale), as an infection nobody treats should be; 48-72 h after the peak it is
    still above the survivors' median then (114.2 pg/mL, Weidhase et al. 2019). Measured: 460 pg/mL at peak + 24 h, 425-449 at
    peak + 48-72 h, nearer the non-survivors' (tested below). This replaces a threshold without a source (above 500 pg/mL for
    at least 24 h; now 20.5 h); the capillary leak is a strict xfail (this test required LEAK > 0.3, also without a
    source; the xfail holds MAP to the septic-shock threshold instead), and so is TNF subsiding within a week."""
    ds, t, il6, t_peak = _sepsis_course()
    ref = summary("IL6_total", "sepsis")
    assert ref.low <= il6.max() <= ref.high, il6.max()
    assert _nearer_non_survivors(float(np.interp(t_peak + 24, t, il6)), "icu24h")
    late = il6[(t >= t_peak + 48) & (t <= t_peak + 72)]
    assert late.min() > summary("IL6_total", "sepsis_survivors_icu48_72h").value, late.min()
    il6_at = {h: float(np.interp(h, t, il6)) for h in (168, 336)}
    assert il6_at[168] < 0.5 * il6.max() and il6_at[336] < il6_at[168]
    assert at(ds, "P", 336) > 1.0  # not cleared without therapy
    assert at(ds, "TOL_mac", 168) > 10 * series(ds, "TOL_mac")[0]


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, sepsis outcomes): untreated, TNF settles at 45-46 pg/mL "
                   "from day 7 to day 14, 22 % of its peak (212), with IL-6 at 340 pg/mL: a persistent moderate storm, not the "
                   "subsidence within a week that the pathogen cross-tolerance K_TOL_P (an assumption) was chosen for while "
                   "resting IL-10 was 8 pg/mL and k_TOL_on 10 /h")
def test_untreated_sepsis_tnf_subsides_within_a_week() -> None:
    """Monocyte reprogramming (cross-tolerance, Cavaillon & Adib-Conquy 2006) turns TNF down over days while the untreated
    pathogen persists: a week after the inoculum TNF is below a fifth of its peak (K_TOL_P's design, not a published number)."""
    ds, *_ = _sepsis_course()
    assert at(ds, "TNF", 168) < 0.2 * peak(ds, "TNF")[0]


def test_untreated_sepsis_il6_persists_as_in_non_survivors() -> None:
    """Untreated, the infection persists, so IL-6 48-72 h after its peak should be nearer (log scale) the median of septic ICU
    non-survivors 48-72 h after admission (746.6 pg/mL) than that of survivors (114.2; Weidhase et al. 2019, n = 328, who count
    survival as successful antibiotic therapy): non-survivors' IL-6 stays high while survivors' falls (Thao et al. 2018)."""
    _, t, il6, t_peak = _sepsis_course()
    late = il6[(t >= t_peak + 48) & (t <= t_peak + 72)]
    assert _nearer_non_survivors(float(late.min()), "icu48_72h"), late


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, sepsis outcomes): the untreated storm's MAP nadir is "
                   "72.2 mmHg (NO-mediated vasodilation 0.52, capillary leak 0.23) at the fitted k_TOL_on (22.1 /h), 70.0 at "
                   "the lower end of its 95 % interval (9.0 /h); 73.8 with the linear leak proxy 93 - 80 LEAK that the "
                   "vasodilation readout replaced (benchmarks/hemodynamics.py); it was 63.6 before the counter-regulators (soluble TNF receptors, cortisol and its "
                   "IL-10 induction lower the leak) and the scenario's inoculum is not redefined to force it")
def test_untreated_sepsis_storm_reaches_septic_shock_hypotension() -> None:
    """The storm's capillary leak lowers MAP below 65 mmHg, the pressure septic shock needs vasopressors to hold (Sepsis-3,
    Singer et al. 2016, JAMA 315:801-810); the network has no vasopressor, so a MAP below 65 is the shock."""
    ds = simulate_scenario("sepsis-storm")
    assert float(ds["MAP"].values.min()) < 65.0


@pytest.mark.xfail(strict=True, reason="known deviation (docs/validation.md, Haemodynamics): NO-mediated vasodilation carries "
                   "14.5 mmHg of the untreated storm's fall at its nadir (VASO 0.52; 11.8-16.9 over the 95 % interval of "
                   "k_VASO_TNF, fitted to the LPS MAP fall), below the 19.6 mmHg that L-NMMA restored in septic hypotension "
                   "(Petros 1994); the storm itself stays above shock (72.2 mmHg), while those patients were hypotensive")
def test_untreated_sepsis_vasodilation_is_as_large_as_nos_inhibition_restores() -> None:
    """Petros et al. 1994 (summaries.tsv): NO-synthase inhibition raised MAP by 19.6 mmHg in severe sepsis with hypotension.
    The MAP the network would regain at the storm's nadir without NO-mediated vasodilation is at least that (the smaller
    of the two reports read; Avontuur 1998's 28 mmHg sets the vasodilation ceiling E_VASO_MAP, so it is not a test)."""
    from cytonet.model.build import reference_network

    ds = simulate_scenario("sepsis-storm")
    i = int(np.argmin(ds["MAP"].values))
    ceiling = next(p.value for p in reference_network().parameters if p.id == "E_VASO_MAP")
    regained = 93.0 * ceiling * float(ds.state.sel(species="VASO").values[i])
    assert regained >= summary("MAP", "septic_shock_nos_inhibition").value, regained


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


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, benchmarks/hlh_profile.py): hlh total serum IL-6 peaks at "
                   "1,112 pg/mL, above IFN-γ 928 and IL-10 167 (Tang 2008 medians IL-6 63.8, IFN-γ 901.7, IL-10 879.0), TNF 189 "
                   "pg/mL (normal in Tang 2008); the endothelium makes 851 of 1,112 pg/mL/h of IL-6, activated by TNF "
                   "(lymphocytes 246 of 425 pg/mL/h) and IFN-γ, and the network has no T-cell IL-10; with effector CD8 and Th1 "
                   "IL-10 fitted to Tang's IL-10 (benchmarks/tcell_il10.py, not adopted) IL-6 602, IFN-γ 282, IL-10 1,045 pg/mL")
def test_hlh_cytokine_profile_is_ifng_and_il10_dominated() -> None:
    """Tang et al. 2008 (data/inflammatory_syndromes/summaries.tsv): median IFN-γ 901.7, IL-10 879.0, IL-6 63.8 pg/mL."""
    hlh = simulate_scenario("hlh")
    il6 = hlh["IL6_total"].values.max()
    assert series(hlh, "IFNG").max() > 3 * il6 and series(hlh, "IL10").max() > 3 * il6


@pytest.mark.xfail(strict=True, reason="known deviation (docs/model.md, benchmarks/hlh_profile.py): the hlh scenario (primary, "
                   "perforin-deficient) has IFN-γ 921 pg/mL and IL-10/IFN-γ 0.18 on day 7 of the established storm; primary HLH in children "
                   "sits at IFN-γ at most 225 with IL-10/IFN-γ above 1.33 (Xu 2022); the network has no T-cell IL-10; with effector "
                   "CD8 and Th1 IL-10 fitted to Tang 2008's IL-10 (benchmarks/tcell_il10.py, not adopted: it also abolishes the "
                   "autoimmune lock-in) the ratio is 3.45 but IFN-γ 254")
def test_primary_hlh_has_more_il10_than_ifng() -> None:
    """Xu et al. 2022 (data/inflammatory_syndromes/summaries.tsv): IL-10/IFN-γ above 1.33 with IFN-γ at most 225 pg/mL
    identified primary HLH at diagnosis (sensitivity 73 %, specificity 84 %), read here on day 7, in the established
    storm (steady from about day 4), not in the innate response to the viral onset."""
    hlh = simulate_scenario("hlh")
    il10, ifng = at(hlh, "IL10", 168.0), at(hlh, "IFNG", 168.0)
    assert il10 / ifng > summary("", "hlh_primary", "classifier cutoff (above)").value
    assert ifng <= summary("IFNG", "hlh_primary").value


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
    """A trigger that resolves with normal regulation locks in when Treg supply or IL-10 production is halved. Measured
    thresholds (self-antigen rate for 72 h): normal 0.022-0.025, IL-10 production halved 0.015-0.02, Treg supply halved
    0.01-0.015; the probe is 0.02 (the normal threshold was above 0.04 while resting IL-10 was 8 pg/mL instead of 2)."""
    rate = 0.02
    normal = _autoimmune(rate)
    assert series(normal, "Th17")[-1] < 2 * series(normal, "Th17")[0]
    fewer_treg = _autoimmune(rate, s_Treg=0.025)
    assert series(fewer_treg, "Th17")[-1] > 10 * series(fewer_treg, "Th17")[0]
    net = {p.id: p.value for p in host_model(load_scenario("autoimmune-chronic")).parameters}
    less_il10 = _autoimmune(rate, k_IL10_Ma=net["k_IL10_Ma"] / 2, k_IL10_Treg=net["k_IL10_Treg"] / 2)
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
                                                                          "k_IL10_GR": 1e-9, "k_IL10_Mr": 1e-9})
    assert peak(knockout, "IL6")[0] > 1.2 * peak(normal, "IL6")[0]


def test_unknown_scenario_and_parameter_names_suggest_close_matches() -> None:
    from cytonet.errors import ModelSpecError, UnknownEntityError

    with pytest.raises(UnknownEntityError, match="did you mean sepsis-storm"):
        load_scenario("sepsis-strom")
    with pytest.raises(ModelSpecError, match="did you mean k_IL6_renal"):
        simulate_scenario("healthy", parameters={"k_IL6_renl": 1.0})
