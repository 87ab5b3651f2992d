"""Export a ``ModelSpec`` as SBML Level 3 Version 2 (libsbml), reproducing cytonet's ODE exactly.

Conventions (libroadrunner reproduces ``simulate`` with them; the test suite checks it):

- Species have ``hasOnlySubstanceUnits=true`` and their declared unit as substance unit, so a
  species value is the number cytonet integrates (e.g. pg/mL) and dx/dt = sum N v with no
  compartment-volume factors.
- Every lowered factor reaction (see :mod:`cytonet.model.compile`) becomes one irreversible
  reaction; its kinetic law is the same product of factors (Hill factors read
  ``piecewise(x, x > 0, 0)``, as the engine does).
- Boluses at t = 0 are folded into initial amounts; later ones are events ``time >= t``.
  Infusions and piecewise inputs drive a zero-order reaction ``<event>_flux`` whose rate
  parameter ``<event>_rate`` is switched by events at each breakpoint.
- Threshold events trigger on ``x >= c`` (rising) or ``x <= c`` (falling), persistent, with
  ``initialValue=true`` (a condition already true at t = 0 does not fire).
- Observables are assignment rules on non-constant parameters.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from cytonet.errors import ModelSpecError
from cytonet.model.compile import BASAL_ACT, CAP, HILL_ACT, HILL_INH, POWER, SAT, CompiledModel, compile_model
from cytonet.model.expr import to_sbml as expr_to_sbml
from cytonet.model.spec import Bolus, Infusion, ModelSpec, PiecewiseInput, ThresholdEvent

_PREFIX = {"p": -12, "n": -9, "u": -6, "µ": -6, "μ": -6, "m": -3, "c": -2, "d": -1, "k": 3}
# base symbol -> [(libsbml unit kind name, exponent, multiplier)]
_BASE: dict[str, list[tuple[str, int, float]]] = {
    "g": [("gram", 1, 1.0)], "L": [("litre", 1, 1.0)], "l": [("litre", 1, 1.0)], "mol": [("mole", 1, 1.0)],
    "M": [("mole", 1, 1.0), ("litre", -1, 1.0)], "s": [("second", 1, 1.0)], "min": [("second", 1, 60.0)],
    "h": [("second", 1, 3600.0)], "day": [("second", 1, 86400.0)], "cell": [("item", 1, 1.0)],
    "cells": [("item", 1, 1.0)], "item": [("item", 1, 1.0)],
}
_DIMENSIONLESS = {"1", "", "dimensionless", "relative", "AU", "au", "fraction", "IU", "U", "score", "%"}
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|[A-Za-zµμ%]+|[*/^()-])")


def parse_unit(text: str) -> list[tuple[str, int, int, float]] | None:
    """Units like ``pg/mL``, ``1/h``, ``mL/pg/h``, ``cells/uL``, ``1/(pg/mL)/h`` as (kind, exponent, scale, multiplier).

    Returns None for a unit that is not a product of known SI-like atoms (it is then exported as
    dimensionless with the original text in the notes).
    """
    toks = _TOKEN.findall(text.replace(" ", ""))
    if "".join(toks) != text.replace(" ", ""):
        return None
    pos = 0

    def atom() -> list[tuple[str, int, int, float]] | None:
        nonlocal pos
        if pos >= len(toks):
            return None
        tok = toks[pos]
        pos += 1
        if tok == "(":
            inner = expr()
            if pos >= len(toks) or toks[pos] != ")":
                return None
            pos += 1
            res = inner
        elif tok in _DIMENSIONLESS or re.fullmatch(r"\d+(\.\d+)?", tok):
            res = [] if tok in _DIMENSIONLESS or float(tok) == 1.0 else None
        elif tok in _BASE:
            res = [(k, e, 0, m) for k, e, m in _BASE[tok]]
        elif tok[0] in _PREFIX and tok[1:] in _BASE:
            res = [(k, e, _PREFIX[tok[0]] if i == 0 else 0, m) for i, (k, e, m) in enumerate(_BASE[tok[1:]])]
        else:
            return None
        if res is not None and pos < len(toks) and toks[pos] == "^":
            sign = -1 if pos + 1 < len(toks) and toks[pos + 1] == "-" else 1
            pos += 2 if sign == -1 else 1
            if pos >= len(toks) or not toks[pos].isdigit():
                return None
            p = sign * int(toks[pos])
            pos += 1
            res = [(k, e * p, s, m) for k, e, s, m in res]
        return res

    def expr() -> list[tuple[str, int, int, float]] | None:
        nonlocal pos
        res = atom()
        while res is not None and pos < len(toks) and toks[pos] in "*/":
            op = toks[pos]
            pos += 1
            nxt = atom()
            if nxt is None:
                return None
            res = res + ([(k, -e, s, m) for k, e, s, m in nxt] if op == "/" else nxt)
        return res

    out = expr()
    return out if out is not None and pos == len(toks) else None


def _unit_id(text: str) -> str:
    return "u_" + (re.sub(r"[^A-Za-z0-9]", "_", text.replace("µ", "u").replace("μ", "u").replace("/", "_per_")) or "one")


class _Writer:
    def __init__(self, spec: ModelSpec, cm: CompiledModel) -> None:
        import libsbml

        self.sb = libsbml
        self.spec, self.cm = spec, cm
        self.doc = libsbml.SBMLDocument(3, 2)
        self.m = self.doc.createModel()
        self.units: dict[str, str] = {}

    def ok(self, code: int, what: str) -> None:
        if code != self.sb.LIBSBML_OPERATION_SUCCESS:
            raise ModelSpecError(f"model {self.spec.id!r}: SBML export failed at {what}: {self.sb.OperationReturnValue_toString(code)}")

    def unit(self, text: str) -> str:
        if text in self.units:
            return self.units[text]
        uid = _unit_id(text)
        parts = parse_unit(text)
        ud = self.m.createUnitDefinition()
        ud.setId(uid)
        ud.setName(text)
        merged: dict[str, tuple[int, float]] = {}  # kind -> (exponent, factor of the unit in SI)
        for kind, e, sc, mult in parts or []:
            e0, f0 = merged.get(kind, (0, 1.0))
            merged[kind] = (e0 + e, f0 * (mult * 10.0**sc) ** e)
        merged = {k: v for k, v in merged.items() if v[0] != 0} or {"dimensionless": (1, 1.0)}
        for kind, (e, factor) in merged.items():
            u = ud.createUnit()
            u.setKind(self.sb.UnitKind_forName(kind))
            u.setExponent(e)
            u.setScale(0)
            u.setMultiplier(factor ** (1.0 / e))
        if parts is None:
            self.ok(ud.setNotes(self._notes(f"unit {text!r} is not SI-expressible; exported as dimensionless")), "unit notes")
        self.units[text] = uid
        return uid

    @staticmethod
    def _notes(text: str) -> str:
        return f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></body>'

    def annotate(self, el, meta: str, uris: list[str]) -> None:
        if not uris:
            return
        el.setMetaId(f"meta_{meta}")
        for uri in uris:
            cv = self.sb.CVTerm(self.sb.BIOLOGICAL_QUALIFIER)
            cv.setBiologicalQualifierType(self.sb.BQB_IS)
            cv.addResource(uri)
            self.ok(el.addCVTerm(cv), f"annotation of {meta!r}")

    def write(self) -> str:
        sb, m, spec, cm = self.sb, self.m, self.spec, self.cm
        m.setId(spec.id)
        if spec.name:
            m.setName(spec.name)
        m.setTimeUnits(self.unit("h"))
        for c in spec.compartments:
            comp = m.createCompartment()
            comp.setId(c.id)
            comp.setConstant(True)
            comp.setSpatialDimensions(3)
            comp.setSize(c.volume)
            comp.setUnits(self.unit(c.unit))
        comp_of = {s.id: s.compartment for s in spec.species}
        declared = {s.id: s for s in spec.species}
        x0 = cm.x0.copy()
        for t, sidx, amt in zip(cm.bolus_time, cm.bolus_species, cm.bolus_amount):
            if t == 0.0:
                x0[sidx] += amt
        for i, sid in enumerate(cm.species):
            s = m.createSpecies()
            s.setId(sid)
            src = declared.get(sid)
            chain = sid.rsplit("_transit", 1)[0]
            comp = comp_of[sid] if src else self._transit_compartment(chain)
            s.setCompartment(comp)
            s.setInitialAmount(float(x0[i]))
            s.setHasOnlySubstanceUnits(True)
            s.setBoundaryCondition(False)
            s.setConstant(False)
            s.setSubstanceUnits(self.unit(cm.species_units[i]))
            if src is not None:
                if src.name:
                    s.setName(src.name)
                a = src.annotation
                uris = []
                if a.hgnc:
                    uris.append(f"https://identifiers.org/hgnc.symbol:{a.hgnc}")
                if a.cell_ontology:
                    uris.append(f"https://identifiers.org/{a.cell_ontology.replace('_', ':')}")
                if a.chebi:
                    uris.append(f"https://identifiers.org/{a.chebi if a.chebi.upper().startswith('CHEBI:') else 'CHEBI:' + a.chebi}")
                self.annotate(s, sid, uris)
        assigned = {cm.parameters[j] for j, isp in zip(cm.a_target, cm.a_is_param) if isp}
        for prm in spec.parameters:
            q = m.createParameter()
            q.setId(prm.id)
            q.setValue(prm.value)
            q.setUnits(self.unit(prm.unit))
            q.setConstant(prm.id not in assigned)
            prov = ("refs: " + ", ".join(prm.refs)) if prm.refs else f"assumption: {prm.assumption}"
            self.ok(q.setNotes(self._notes(f"{prm.description} {prov}".strip())), f"notes of {prm.id!r}")
        for fr in cm.factor_reactions:
            self._reaction(fr)
        self._inputs()
        self._events()
        for oid, node in cm.observables.items():
            q = m.createParameter()
            q.setId(oid)
            q.setConstant(False)
            q.setValue(0.0)
            q.setUnits(self.unit(cm.observable_units.get(oid, "")))
            rule = m.createAssignmentRule()
            rule.setVariable(oid)
            self._math(rule, expr_to_sbml(node), f"observable {oid!r}")
        return sb.writeSBMLToString(self.doc)

    def _transit_compartment(self, reaction_id: str) -> str:
        r = next(r for r in self.spec.reactions if r.id == reaction_id)
        (x, _), = r.reactants.items()
        return next(s.compartment for s in self.spec.species if s.id == x)

    def _math(self, el, formula: str, what: str) -> None:
        ast = self.sb.parseL3Formula(formula)
        if ast is None:
            raise ModelSpecError(f"model {self.spec.id!r}: cannot write {what} as SBML ({self.sb.getLastParseL3Error()}): {formula}")
        self.ok(el.setMath(ast), what)

    def _factor(self, f) -> str:
        cm = self.cm
        x = cm.species[f.species]
        K = cm.parameters[f.K] if f.K >= 0 else ""
        n = cm.parameters[f.n] if f.n >= 0 else ""
        if f.kind == POWER:
            return x if f.nu == 1.0 else f"{x}^{f.nu!r}"
        if f.kind == SAT:
            return f"({x} / ({K} + {x}))"
        if f.kind == CAP:
            return f"(1 - {x} / {K})"
        xp = f"piecewise({x}, {x} > 0, 0)"
        hill = f"{xp}^{n} / ({K}^{n} + {xp}^{n})"
        if f.kind == HILL_ACT:
            return f"({hill})"
        if f.kind == HILL_INH:
            return f"({K}^{n} / ({K}^{n} + {xp}^{n}))"
        assert f.kind == BASAL_ACT
        b = cm.parameters[f.b]
        return f"({b} + (1 - {b}) * {hill})"

    def _reaction(self, fr) -> None:
        cm, m = self.cm, self.m
        r = m.createReaction()
        r.setId(fr.name)
        r.setReversible(False)
        for sidx, coef in fr.stoich.items():
            ref = r.createReactant() if coef < 0 else r.createProduct()
            ref.setSpecies(cm.species[sidx])
            ref.setStoichiometry(abs(coef))
            ref.setConstant(True)
        for sid in dict.fromkeys(cm.species[f.species] for f in fr.factors):
            if cm.species.index(sid) not in fr.stoich:
                mod = r.createModifier()
                mod.setSpecies(sid)
        k = cm.parameters[fr.k]
        kterm = k if (fr.kpow == 1.0 and fr.scale == 1.0) else f"{fr.scale!r} * {k}^{fr.kpow!r}"
        law = r.createKineticLaw()
        self._math(law, " * ".join([kterm, *(self._factor(f) for f in fr.factors)]), f"reaction {fr.name!r}")

    def _inputs(self) -> None:
        m, spec = self.m, self.spec
        for e in spec.events:
            if not isinstance(e, (Infusion, PiecewiseInput)):
                continue
            unit = next(s.unit for s in spec.species if s.id == e.target)
            switches = [(e.start, e.rate), (e.end, 0.0)] if isinstance(e, Infusion) else list(zip(e.times, e.rates))
            rate0 = sum(rt for t, rt in switches[:1] if t == 0.0) if isinstance(e, Infusion) else next((rt for t, rt in switches if t == 0.0), 0.0)
            q = m.createParameter()
            q.setId(f"{e.id}_rate")
            q.setValue(rate0)
            q.setConstant(False)
            q.setUnits(self.unit(f"{unit}/h"))
            r = m.createReaction()
            r.setId(f"{e.id}_flux")
            r.setReversible(False)
            p = r.createProduct()
            p.setSpecies(e.target)
            p.setStoichiometry(1.0)
            p.setConstant(True)
            self._math(r.createKineticLaw(), f"{e.id}_rate", f"input {e.id!r}")
            for i, (t, rt) in enumerate(switches):
                if t > 0.0:
                    self._event(f"{e.id}_switch{i}", f"time >= {t!r}", [(f"{e.id}_rate", repr(float(rt)))], initial=False)

    def _event(self, eid: str, trigger: str, assigns: list[tuple[str, str]], initial: bool) -> None:
        ev = self.m.createEvent()
        ev.setId(eid)
        ev.setUseValuesFromTriggerTime(True)
        tr = ev.createTrigger()
        tr.setInitialValue(initial)
        tr.setPersistent(True)
        self._math(tr, trigger, f"trigger of event {eid!r}")
        for var, formula in assigns:
            ea = ev.createEventAssignment()
            ea.setVariable(var)
            self._math(ea, formula, f"assignment of event {eid!r}")

    def _events(self) -> None:
        for e in self.spec.events:
            if isinstance(e, Bolus) and e.time > 0.0:
                self._event(e.id, f"time >= {e.time!r}", [(e.target, f"{e.target} + {e.amount!r}")], initial=False)
            elif isinstance(e, ThresholdEvent):
                cmp = ">=" if e.direction == "rising" else "<="
                ops = {"set": "{v}", "add": "{t} + {v}", "multiply": "{t} * {v}"}
                assigns = [(a.target, ops[a.op].format(t=a.target, v=repr(a.value))) for a in e.assignments]
                self._event(e.id, f"{e.species} {cmp} {e.threshold!r}", assigns, initial=True)


def sbml_string(spec: ModelSpec) -> str:
    """The SBML L3V2 document of ``spec`` as a string (validated: no consistency errors)."""
    text = _Writer(spec, compile_model(spec)).write()
    errors = check_sbml(text)
    if errors:
        raise ModelSpecError(f"model {spec.id!r}: exported SBML fails libsbml consistency checks:\n" + "\n".join(errors[:20]))
    return text


def check_sbml(text: str, units: bool = True) -> list[str]:
    """libsbml consistency problems of severity error or worse (unit checks included by default)."""
    import libsbml

    doc = libsbml.readSBMLFromString(text)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, units)
    doc.checkConsistency()
    return [
        f"{doc.getError(i).getErrorId()} line {doc.getError(i).getLine()}: {doc.getError(i).getMessage().strip()}"
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def export_sbml(spec: ModelSpec, path: str | Path) -> Path:
    """Write ``spec`` as SBML L3V2 to ``path`` atomically."""
    from cytonet.io import atomic_write_text

    return atomic_write_text(path, sbml_string(spec))
