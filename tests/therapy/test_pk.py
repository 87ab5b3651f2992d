"""PK of treated models against closed forms and labelled half-lives."""

import numpy as np
import pytest

from cytonet import simulate
from cytonet.model.build import reference_network
from cytonet.therapy import Regimen, get_drug, treat


@pytest.fixture(scope="module")
def host():
    return reference_network()


def conc(spec, t_end, n=2001, drug=None):
    ds = simulate(spec, t_end, n_points=n, rtol=1e-8, atol=1e-12)
    return ds.time.values, ds.state.sel(species=f"{drug}_central").values


def terminal_half_life(t, c, t0, t1):
    """ln2 / slope of ln C between two times (the apparent half-life)."""
    i0, i1 = np.searchsorted(t, t0), np.searchsorted(t, t1)
    return np.log(2) * (t[i1] - t[i0]) / np.log(c[i0] / c[i1])


def test_iv_bolus_one_compartment_matches_closed_form(host):
    d = get_drug("anakinra")
    V, CL = d.value("V1"), d.value("CL")
    t, c = conc(treat(host, "anakinra", Regimen("100 mg", route="iv")), 12, drug="anakinra")
    expected = 100 / V * np.exp(-CL / V * t)  # C(t) = dose/V exp(-CL t / V), no target binding
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-9)
    assert terminal_half_life(t, c, 2, 8) == pytest.approx(np.log(2) * V / CL, rel=1e-4)


def test_oral_absorption_tmax_and_cmax_match_bateman(host):
    d = get_drug("ruxolitinib")
    V, k, ka, F = d.value("V1"), d.value("CL") / d.value("V1"), d.value("ka"), d.value("F_oral")
    t, c = conc(treat(host, "ruxolitinib", Regimen("20 mg", route="oral")), 12, n=12001, drug="ruxolitinib")
    tmax = np.log(ka / k) / (ka - k)
    bateman = F * 20 / V * ka / (ka - k) * (np.exp(-k * t) - np.exp(-ka * t))
    assert t[np.argmax(c)] == pytest.approx(tmax, abs=2e-3)
    np.testing.assert_allclose(c, bateman, rtol=1e-5, atol=1e-9)
    assert 1.0 <= tmax <= 2.0  # labelled peak 1-2 h after an oral dose


def test_two_compartment_conserves_dose(host):
    """infliximab: amount in V1 and V2 plus eliminated equals the dose (volume-ratio stoichiometry)."""
    d = get_drug("infliximab")
    spec = treat(host, "infliximab", Regimen("350 mg", route="iv", infusion_h=1e-3))
    ds = simulate(spec, 500, n_points=501, rtol=1e-9, atol=1e-12)
    c1 = ds.state.sel(species="infliximab_central").values
    c2 = ds.state.sel(species="infliximab_periph").values
    cplx = ds.state.sel(species="infliximab_TNF").values
    amount = c1 * d.value("V1") + c2 * d.value("V2")
    t = ds.time.values
    scale = 1e-6 * 149.1 / 17.5  # ug/mL of drug per pg/mL of TNF bound
    flux = c1 * d.value("CL") + cplx * scale * d.value("CL")  # free drug and TNF-bound drug leave at CL
    eliminated = np.concatenate([[0], np.cumsum(np.diff(t) * 0.5 * (flux[1:] + flux[:-1]))])
    bound_mg = cplx.max() * scale * d.value("V1")  # drug held in TNF complexes (tiny)
    drift = (amount + eliminated)[1:] - (amount + eliminated)[1]  # from t = 1 h, after the infusion
    assert amount[1] == pytest.approx(350 - c1[1] * d.value("CL") * 1.0, rel=1e-4)  # one hour of elimination
    assert np.abs(drift).max() < 0.01 + bound_mg


def test_anakinra_sc_half_life_is_a_few_hours(host):
    """Kineret label: terminal half-life 4-6 h after sc dosing."""
    t, c = conc(treat(host, "anakinra", Regimen("100 mg", route="sc")), 48, drug="anakinra")
    assert 4.0 <= terminal_half_life(t, c, 24, 40) <= 6.0


def test_tocilizumab_apparent_half_life_grows_with_dose(host):
    """Concentration-dependent (target-mediated) clearance: label t1/2 up to 11 d (4 mg/kg) and 13 d (8 mg/kg);
    Frey 2010 J Clin Pharmacol (doi:10.1177/0091270009350623): more saturation of the nonlinear pathway at 8 mg/kg."""
    out = {}
    for dose in ("4 mg/kg", "8 mg/kg"):
        t, c = conc(treat(host, "tocilizumab", Regimen(dose, route="iv")), 24 * 14, n=24 * 14 + 1, drug="tocilizumab")
        out[dose] = terminal_half_life(t, c, 24, 24 * 7)
    # the label's 13 / 11 d is 1.18; a linear record gives exactly 1, so more than 1.1 says the nonlinear pathway
    # saturates measurably more at 8 mg/kg (the window, days 1-7 after one dose, includes distribution, so the
    # half-lives themselves are shorter than the label's steady-state ones)
    assert out["8 mg/kg"] > 1.1 * out["4 mg/kg"]
    linear = np.log(2) * get_drug("tocilizumab").value("V1") / get_drug("tocilizumab").value("CL") / 24
    assert out["8 mg/kg"] / 24 < linear  # the target-mediated pathway always adds clearance


@pytest.mark.parametrize(("drug", "dose", "low_h", "high_h", "window"), [
    ("etanercept", "50 mg", 70, 100, (240, 480)),  # Zhou 2005 J Clin Pharmacol doi:10.1177/0091270004273321
    ("adalimumab", "40 mg", 240, 480, (24 * 21, 24 * 42)),  # Humira label: 10-20 days
])
def test_sc_anti_tnf_half_lives_in_labelled_ranges(host, drug, dose, low_h, high_h, window):
    t, c = conc(treat(host, drug, Regimen(dose, route="sc")), 24 * 60, n=24 * 60 + 1, drug=drug)
    assert low_h <= terminal_half_life(t, c, *window) <= high_h
