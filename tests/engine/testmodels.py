"""Small specs with known analytic behaviour, shared by the engine and SBML tests."""

from __future__ import annotations

from typing import Any

from cytonet.model.spec import ModelSpec, spec_from_dict


def par(pid: str, value: float, unit: str) -> dict[str, Any]:
    return {"id": pid, "value": value, "unit": unit, "assumption": "test value"}


def sp(sid: str, initial: float, unit: str = "pg/mL", **kw: Any) -> dict[str, Any]:
    return {"id": sid, "compartment": "blood", "initial": initial, "unit": unit, **kw}


def model(mid: str, species: list, parameters: list, reactions: list, events: list = (), observables: list = ()) -> ModelSpec:
    return spec_from_dict({
        "id": mid, "compartments": [{"id": "blood", "volume": 1.0}],
        "species": species, "parameters": parameters, "reactions": reactions,
        "events": list(events), "observables": list(observables),
    })


def decay(k: float = 0.5, a0: float = 10.0) -> ModelSpec:
    return model("decay", [sp("A", a0)], [par("k", k, "1/h")],
                 [{"id": "clear", "rate_law": "first_order", "reactants": {"A": 1}, "params": {"k": "k"}}])


def production(s: float = 3.0, k: float = 0.2) -> ModelSpec:
    return model("production", [sp("A", 0.0)], [par("s", s, "pg/mL/h"), par("k", k, "1/h")], [
        {"id": "make", "rate_law": "constant", "products": {"A": 1}, "params": {"k": "s"}},
        {"id": "clear", "rate_law": "first_order", "reactants": {"A": 1}, "params": {"k": "k"}},
    ])


def michaelis(s: float = 4.0, vmax: float = 10.0, km: float = 5.0) -> ModelSpec:
    return model("michaelis", [sp("A", 0.0)], [par("s", s, "pg/mL/h"), par("vmax", vmax, "pg/mL/h"), par("km", km, "pg/mL")], [
        {"id": "make", "rate_law": "constant", "products": {"A": 1}, "params": {"k": "s"}},
        {"id": "clear", "rate_law": "michaelis_menten", "reactants": {"A": 1}, "params": {"vmax": "vmax", "km": "km"}},
    ])


def binding(l0: float = 5.0, r0: float = 3.0, kon: float = 0.4, koff: float = 0.6) -> ModelSpec:
    return model("binding", [sp("L", l0), sp("R", r0), sp("C", 0.0)], [par("kon", kon, "mL/pg/h"), par("koff", koff, "1/h")], [
        {"id": "bind", "rate_law": "binding", "reactants": {"L": 1, "R": 1}, "products": {"C": 1},
         "params": {"kon": "kon", "koff": "koff"}},
    ], observables=[{"id": "occupancy", "expression": "C / (R + C)", "unit": "1"}])


def hill(k: float = 2.0, K: float = 3.0, n: float = 2.5, act: bool = True) -> ModelSpec:
    law = "hill_activation" if act else "hill_inhibition"
    return model("hill", [sp("S", 0.0), sp("Y", 0.0)], [par("k", k, "pg/mL/h"), par("K", K, "pg/mL"), par("n", n, "1"),
                                                        par("ks", 1.0, "pg/mL/h")], [
        {"id": "signal", "rate_law": "constant", "products": {"S": 1}, "params": {"k": "ks"}},
        {"id": "resp", "rate_law": law, "products": {"Y": 1}, "modifiers": ["S"], "params": {"k": "k", "K": "K", "n": "n"}},
    ])


def logistic(r: float = 0.3, K: float = 100.0, x0: float = 1.0) -> ModelSpec:
    return model("logistic", [sp("X", x0, "cells/uL", kind="cell")], [par("r", r, "1/h"), par("K", K, "cells/uL")], [
        {"id": "grow", "rate_law": "logistic", "modifiers": ["X"], "products": {"X": 1}, "params": {"r": "r", "K": "K"}},
    ])


def delay(tau: float = 6.0, stages: int = 4, x0: float = 1.0) -> ModelSpec:
    return model("delay", [sp("X", x0), sp("Y", 0.0)], [par("tau", tau, "h")], [
        {"id": "mature", "rate_law": "delay_chain", "reactants": {"X": 1}, "products": {"Y": 1}, "stages": stages,
         "params": {"tau": "tau"}},
    ])


def dosing() -> ModelSpec:
    """Bolus, infusion and a piecewise input into first-order-cleared species."""
    return model("dosing", [sp("D", 0.0, "ug/mL", kind="drug"), sp("G", 0.0)],
                 [par("kd", 0.3, "1/h"), par("kg", 0.1, "1/h")], [
        {"id": "clear_D", "rate_law": "first_order", "reactants": {"D": 1}, "params": {"k": "kd"}},
        {"id": "clear_G", "rate_law": "first_order", "reactants": {"G": 1}, "params": {"k": "kg"}},
    ], events=[
        {"kind": "bolus", "id": "dose1", "time": 5.0, "target": "D", "amount": 8.0},
        {"kind": "infusion", "id": "drip", "start": 12.0, "end": 15.5, "target": "D", "rate": 2.0},
        {"kind": "input", "id": "trigger", "target": "G", "times": [0.0, 3.0, 9.0], "rates": [1.0, 0.0, 0.5]},
    ])


def threshold(s: float = 2.0, thr: float = 7.0) -> ModelSpec:
    """A grows linearly (A = s t); when A >= thr it is reset to 0 and parameter s is halved."""
    return model("threshold", [sp("A", 0.0)], [par("s", s, "pg/mL/h")], [
        {"id": "make", "rate_law": "constant", "products": {"A": 1}, "params": {"k": "s"}},
    ], events=[{"kind": "threshold", "id": "reset", "species": "A", "threshold": thr, "direction": "rising",
                "assignments": [{"target": "A", "op": "set", "value": 0.0}, {"target": "s", "op": "multiply", "value": 0.5}]}])


def network() -> ModelSpec:
    """A small storm-like network using every regulator kind, binding, a delay and a trigger input."""
    return model("mini_network", [
        sp("LPS", 0.0, "ng/mL", kind="trigger"), sp("M", 100.0, "cells/uL", kind="cell"), sp("TNF", 5.0), sp("IL6", 3.0),
        sp("IL10", 4.0), sp("IL6R", 50.0, kind="receptor"), sp("IL6_IL6R", 0.0, kind="complex"), sp("CRP", 1.0, "mg/L", kind="readout"),
    ], [
        par("k_lps", 0.5, "1/h"), par("k_tnf", 2.0, "pg/mL/h"), par("K_lps", 1.0, "ng/mL"), par("n2", 2.0, "1"),
        par("K_il10", 10.0, "pg/mL"), par("b", 0.05, "1"), par("k_il6", 3.0, "pg/mL/h"), par("K_tnf", 20.0, "pg/mL"),
        par("k_il10", 1.0, "pg/mL/h"), par("K_il6", 30.0, "pg/mL"), par("kc", 0.7, "1/h"), par("kc6", 0.4, "1/h"),
        par("kc10", 0.5, "1/h"), par("kon", 0.01, "mL/pg/h"), par("koff", 0.2, "1/h"), par("kint", 0.3, "1/h"),
        par("r_m", 0.05, "1/h"), par("K_m", 300.0, "cells/uL"), par("K_sat", 50.0, "pg/mL"), par("tau", 12.0, "h"),
        par("k_crp", 0.02, "mg/L/h"), par("K_cap", 500.0, "cells/uL"), par("k_r", 5.0, "pg/mL/h"), par("k_rd", 0.1, "1/h"),
        par("k_md", 0.01, "1/h"),
    ], [
        {"id": "lps_clear", "rate_law": "first_order", "reactants": {"LPS": 1}, "params": {"k": "k_lps"}},
        {"id": "tnf_sec", "rate_law": "regulated", "products": {"TNF": 1}, "modifiers": ["M"], "params": {"k": "k_tnf"},
         "regulators": [{"species": "LPS", "kind": "activation_with_basal", "params": {"K": "K_lps", "n": "n2", "basal": "b"}},
                        {"species": "IL10", "kind": "hill_inhibition", "params": {"K": "K_il10", "n": "n2"}}]},
        {"id": "il6_sec", "rate_law": "regulated", "products": {"IL6": 1}, "params": {"k": "k_il6"},
         "regulators": [{"species": "TNF", "kind": "hill_activation", "params": {"K": "K_tnf", "n": "n2"}},
                        {"species": "M", "kind": "linear"}, {"species": "M", "kind": "capacity", "params": {"K": "K_cap"}}]},
        {"id": "il10_sec", "rate_law": "regulated", "products": {"IL10": 1}, "params": {"k": "k_il10"},
         "regulators": [{"species": "IL6", "kind": "saturation", "params": {"K": "K_il6"}}]},
        {"id": "tnf_clear", "rate_law": "first_order", "reactants": {"TNF": 1}, "params": {"k": "kc"}},
        {"id": "il6_clear", "rate_law": "michaelis_menten", "reactants": {"IL6": 1}, "params": {"vmax": "kc6", "km": "K_sat"}},
        {"id": "il10_clear", "rate_law": "first_order", "reactants": {"IL10": 1}, "params": {"k": "kc10"}},
        {"id": "il6_bind", "rate_law": "binding", "reactants": {"IL6": 1, "IL6R": 1}, "products": {"IL6_IL6R": 1},
         "params": {"kon": "kon", "koff": "koff"}},
        {"id": "cplx_int", "rate_law": "first_order", "reactants": {"IL6_IL6R": 1}, "params": {"k": "kint"}},
        {"id": "r_make", "rate_law": "constant", "products": {"IL6R": 1}, "params": {"k": "k_r"}},
        {"id": "r_deg", "rate_law": "first_order", "reactants": {"IL6R": 1}, "params": {"k": "k_rd"}},
        {"id": "m_grow", "rate_law": "logistic", "modifiers": ["M"], "products": {"M": 1}, "params": {"r": "r_m", "K": "K_m"}},
        {"id": "m_death", "rate_law": "mass_action", "reactants": {"M": 1}, "modifiers": ["TNF"], "params": {"k": "k_md"}},
        {"id": "crp", "rate_law": "delay_chain", "reactants": {"IL6_IL6R": 1}, "products": {"CRP": 1}, "stages": 3,
         "params": {"tau": "tau"}},
        {"id": "crp_make", "rate_law": "hill_activation", "products": {"CRP": 1}, "modifiers": ["IL6"],
         "params": {"k": "k_crp", "K": "K_il6", "n": "n2"}},
    ], events=[
        {"kind": "bolus", "id": "lps_dose", "time": 2.0, "target": "LPS", "amount": 4.0},
        {"kind": "infusion", "id": "il10_drip", "start": 30.0, "end": 40.0, "target": "IL10", "rate": 5.0},
        {"kind": "threshold", "id": "alarm", "species": "TNF", "threshold": 40.0, "direction": "rising",
         "assignments": [{"target": "kc", "op": "multiply", "value": 1.5}]},
    ], observables=[{"id": "ratio", "expression": "IL6 / max(IL10, 1e-3)", "unit": "1"},
                    {"id": "occ", "expression": "IL6_IL6R / (IL6R + IL6_IL6R)", "unit": "1"}])


TEST_MODELS = {f.__name__: f for f in (decay, production, michaelis, binding, hill, logistic, delay, dosing, threshold, network)}
