"""Export a ``ModelSpec`` as SBML Level 3 Version 2 (libsbml) that every SBML tool reads as cytonet does.

A tool that reads the file (libroadrunner, COPASI, AMICI...) reports the very numbers cytonet
reports, at the same times, from the same start state. The encoding:

- **Amounts of matter are species, read as concentrations.** A state whose unit is a substance per
  volume (pg/mL, ng/mL, mg/L, ug/mL, cells/uL, mmol/L) is a species with ``initialConcentration``
  and ``hasOnlySubstanceUnits=false`` in its compartment; its substance unit is its unit times the
  compartment's volume unit (pg/mL in litres is ng), so ``[X]`` is cytonet's value. Kinetic laws
  are substance per time: compartment volume x cytonet's rate.
- **Other states are parameters with rate rules.** Temperature (°C: an offset scale SBML cannot
  express, so exported as a plain number with a note), fractions, relative cell pools and
  receptor levels, scores: SBML species are amounts of something, and giving these a fake
  substance unit and a unit-size compartment would make every tool convert, display and check
  units that do not exist. A non-constant parameter carries exactly cytonet's number, and its
  rate rule is the sum of cytonet's reaction terms on that state (SimBiology and the SBML spec
  recommend this for states that are not amounts).
- **Mixed units are converted explicitly.** The model's extent and substance unit is the substance
  unit of most species (ng for pg/mL in litres). A species on another concentration scale sits in
  a view of its compartment measured in the volume unit that keeps its substance in that unit
  (ng/mL in ``blood_mL``: the same 3 L, written 3000 mL), so every stoichiometry is a
  dimensionless ratio: IL-6 (pg/mL) binding sIL-6R (ng/mL) at cytonet's 0.00238 ng per pg reads
  as stoichiometry 2.38 g sIL-6R per g IL-6 (50 kDa / 21 kDa). SBML conversion factors would say
  the same, but COPASI 4.48 ignores them in its numbers; they remain only for substances of
  another kind than the extent (cells next to grams), with value 1 and the conversion in the
  stoichiometry. A reaction that moves matter and a non-substance state at once (a drug released
  from its complex with a relative receptor) scales its kinetic law by an explicit yield
  parameter (ug/mL of drug per relative unit).
- **The full state** is exported, delay-chain transit states included, from the state the caller
  gives (a scenario's resting state; see :func:`sbml_string`). Boluses at t = 0 are folded into
  the start state; later ones are events ``time >= t``. Infusions and piecewise inputs drive a
  zero-order flux whose rate parameter ``<event>_rate`` is switched by events at each breakpoint.
- Every lowered factor reaction (see :mod:`cytonet.model.compile`) becomes one irreversible
  reaction with the same product of factors (Hill factors read ``piecewise(x, x > 0, 0)``, as the
  engine does); literal numbers carry units, so libsbml checks every unit it can.
- Threshold events trigger on ``x >= c`` (rising) or ``x <= c`` (falling), persistent, with
  ``initialValue=true`` (a condition already true at t = 0 does not fire).
- Observables are assignment rules on non-constant parameters.
- A mass substance unit (ng) is kept, with a model note for COPASI users: COPASI 4.48's SBML import
  replaces it by mol, which makes its integrators stop on the reference network (docs/validation.md).
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cytonet.errors import ModelSpecError
from cytonet.model.compile import BASAL_ACT, CAP, HILL_ACT, HILL_INH, POWER, SAT, CompiledModel, FactorReaction, compile_model
from cytonet.model.expr import to_sbml as expr_to_sbml
from cytonet.model.spec import Bolus, Infusion, ModelSpec, PiecewiseInput, ThresholdEvent, uses_expressions

_PREFIX = {"p": -12, "n": -9, "u": -6, "µ": -6, "μ": -6, "m": -3, "c": -2, "d": -1, "k": 3}
# base symbol -> [(libsbml unit kind name, exponent, multiplier)]
_BASE: dict[str, list[tuple[str, int, float]]] = {
    "g": [("gram", 1, 1.0)], "L": [("litre", 1, 1.0)], "l": [("litre", 1, 1.0)], "mol": [("mole", 1, 1.0)],
    "M": [("mole", 1, 1.0), ("litre", -1, 1.0)], "s": [("second", 1, 1.0)], "min": [("second", 1, 60.0)],
    "h": [("second", 1, 3600.0)], "day": [("second", 1, 86400.0)], "cell": [("item", 1, 1.0)],
    "cells": [("item", 1, 1.0)], "item": [("item", 1, 1.0)],
    "mmHg": [("kilogram", 1, 133.322387415), ("metre", -1, 1.0), ("second", -2, 1.0)],
}
_DIMENSIONLESS = {"1", "", "dimensionless", "relative", "AU", "au", "fraction", "IU", "U", "score", "%", "degC"}
#: Units exported as plain numbers although they are not ratios, and why.
_OFFSET_NOTES = {"degC": "degrees Celsius, an offset scale SBML Level 3 cannot express: the number is in °C"}
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|mmHg|[A-Za-zµμ%]+|[*/^()-])")
_SUBSTANCE_KINDS = ("gram", "mole", "item")
_SI_PREFIX = {-15: "f", -12: "p", -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
_SYMBOL = {"gram": "g", "mole": "mol", "item": "item", "litre": "L"}
#: Model notes where the substance unit is a mass: COPASI 4.48's SBML import replaces it by mol.
_COPASI_MASS_NOTE = ("The substance unit is {unit}. COPASI 4.48 imports it as mol (warning SBML (66): it takes no mass as "
                     "quantity unit), so every {unit} becomes 6.02e23 particles in the state it integrates, and next to the "
                     "rate-rule states that scaling can stop its LSODA and RADAU5. In COPASI, set the model's quantity unit "
                     "to {unit}, keeping concentrations, before simulating.")
#: libsbml's warning that a formula with undeclared units cannot be fully checked.
UNCHECKABLE_UNITS = 99505


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


@dataclass(frozen=True)
class _Dim:
    """A unit as {kind: exponent} times one SI factor (pg/mL = gram litre^-1 x 1e-9)."""

    powers: tuple[tuple[str, int], ...]
    factor: float

    @staticmethod
    def of(text: str) -> _Dim:
        merged: dict[str, int] = {}
        factor = 1.0
        for kind, e, sc, mult in parse_unit(text) or []:
            merged[kind] = merged.get(kind, 0) + e
            factor *= (mult * 10.0**sc) ** e
        return _Dim(tuple(sorted((k, e) for k, e in merged.items() if e)), factor)

    def __mul__(self, other: _Dim) -> _Dim:
        merged = dict(self.powers)
        for k, e in other.powers:
            merged[k] = merged.get(k, 0) + e
        return _Dim(tuple(sorted((k, e) for k, e in merged.items() if e)), self.factor * other.factor)

    def inverse(self) -> _Dim:
        return _Dim(tuple((k, -e) for k, e in self.powers), 1.0 / self.factor)

    @property
    def is_substance(self) -> bool:
        """One amount of matter (gram, mole or item) and nothing else."""
        return len(self.powers) == 1 and self.powers[0][0] in _SUBSTANCE_KINDS and self.powers[0][1] == 1

    def key(self) -> tuple:
        return self.powers, float(f"{self.factor:.12g}")

    def label(self) -> str:
        """``ng`` for gram x 1e-9, ``mL`` for litre x 1e-3, else a product such as ``gram^1*litre^-1 x 1e-09``."""
        if len(self.powers) == 1 and self.powers[0][0] in _SYMBOL and self.powers[0][1] == 1:
            exp = math.log10(self.factor)
            if abs(exp - round(exp)) < 1e-9 and round(exp) in _SI_PREFIX:
                return _SI_PREFIX[round(exp)] + _SYMBOL[self.powers[0][0]]
        body = "*".join(f"{k}^{e}" for k, e in self.powers) or "dimensionless"
        return body if self.factor == 1.0 else f"{body} x {self.factor:.6g}"


def _unit_id(text: str) -> str:
    clean = text.replace("µ", "u").replace("μ", "u").replace("/", "_per_").replace("*", "_x_").replace("^", "_pow_")
    return "u_" + (re.sub(r"[^A-Za-z0-9]", "_", clean) or "one")


@dataclass(frozen=True)
class _Substance:
    """How one species is written: its compartment, substance unit id and conversion factor (or None)."""

    compartment: str
    volume: float
    substance: _Dim
    conversion: str | None  # parameter id (value 1) where the substance is of another kind than the extent


class _Writer:
    def __init__(self, spec: ModelSpec, cm: CompiledModel, start: np.ndarray) -> None:
        import libsbml

        self.sb = libsbml
        self.spec, self.cm, self.start = spec, cm, start
        self.doc = libsbml.SBMLDocument(3, 2)
        self.m = self.doc.createModel()
        self.units: dict[str, str] = {}
        self.dims: dict[tuple, str] = {}
        self.rate_terms: dict[str, list[str]] = {}

    def ok(self, code: int, what: str) -> None:
        if code != self.sb.LIBSBML_OPERATION_SUCCESS:
            raise ModelSpecError(f"model {self.spec.id!r}: SBML export failed at {what}: {self.sb.OperationReturnValue_toString(code)}")

    # -- units ------------------------------------------------------------------------
    def unit(self, text: str) -> str:
        """The unit definition id of a cytonet unit text (created on first use)."""
        if text not in self.units:
            note = _OFFSET_NOTES.get(text) or (None if parse_unit(text) is not None else
                                               f"unit {text!r} is not SI-expressible; exported as dimensionless")
            self.units[text] = self._define(_unit_id(text), text, _Dim.of(text), note)
        return self.units[text]

    def dim_unit(self, dim: _Dim) -> str:
        """The unit definition id of a derived unit (substance units, conversion factors)."""
        if dim.key() not in self.dims:
            label = dim.label()
            self.dims[dim.key()] = self._define(_unit_id(label), label, dim, None)
        return self.dims[dim.key()]

    def _define(self, uid: str, name: str, dim: _Dim, note: str | None) -> str:
        while self.m.getUnitDefinition(uid) is not None:
            uid += "_"
        ud = self.m.createUnitDefinition()
        ud.setId(uid)
        ud.setName(name)
        powers = list(dim.powers) or [("dimensionless", 1)]
        for i, (kind, e) in enumerate(powers):
            u = ud.createUnit()
            u.setKind(self.sb.UnitKind_forName(kind))
            u.setExponent(e)
            u.setScale(0)
            u.setMultiplier(dim.factor ** (1.0 / e) if i == 0 else 1.0)
        if note:
            self.ok(ud.setNotes(self._notes(note)), "unit notes")
        return uid

    def num(self, value: float, unit: str = "dimensionless") -> str:
        """A literal with its units, e.g. ``1 dimensionless`` (so libsbml can check the formula)."""
        return f"{float(value)!r} {unit}"

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

    # -- the document -----------------------------------------------------------------
    def write(self) -> str:
        m, spec, cm = self.m, self.spec, self.cm
        m.setId(spec.id)
        if spec.name:
            m.setName(spec.name)
        m.setTimeUnits(self.unit("h"))
        compartments = {c.id: c for c in spec.compartments}
        for c in spec.compartments:
            self._compartment(c.id, c.name, c.volume, self.unit(c.unit))
        comp_of = {s.id: s.compartment for s in spec.species}
        for r in spec.reactions:  # delay-chain transit states live where the chain starts
            for i in range(1, r.stages + 1):
                comp_of[f"{r.id}_transit{i}"] = comp_of[next(iter(r.reactants))]
        conc = {sid: _Dim.of(u) for sid, u in zip(cm.species, cm.species_units)}
        substance = {sid: _Dim.of(compartments[comp_of[sid]].unit) * conc[sid] for sid in cm.species}
        matter = [sid for sid in cm.species if substance[sid].is_substance]
        self.sub: dict[str, _Substance] = {}
        if matter:
            extent = Counter(substance[sid].key() for sid in matter).most_common(1)[0][0]
            extent_dim = next(substance[sid] for sid in matter if substance[sid].key() == extent)
            m.setExtentUnits(self.dim_unit(extent_dim))
            m.setSubstanceUnits(self.dim_unit(extent_dim))
            if extent_dim.powers == (("gram", 1),):
                self.ok(m.setNotes(self._notes(_COPASI_MASS_NOTE.format(unit=extent_dim.label()))), "model notes")
            for sid in matter:
                c = compartments[comp_of[sid]]
                view = extent_dim * conc[sid].inverse()  # the volume unit that makes this species' substance the extent
                if substance[sid].key() == extent:
                    self.sub[sid] = _Substance(c.id, c.volume, extent_dim, None)
                elif view.powers == (("litre", 1),):
                    size = c.volume * _Dim.of(c.unit).factor / view.factor
                    cid = self._compartment(f"{c.id}_{_unit_id(view.label())[2:]}", c.name, size, self.dim_unit(view), same_as=c.id)
                    self.sub[sid] = _Substance(cid, size, extent_dim, None)
                else:
                    d = substance[sid]
                    self.sub[sid] = _Substance(c.id, c.volume, d, self._conversion(d, d * extent_dim.inverse()))
        declared = {s.id: s for s in spec.species}
        for i, sid in enumerate(cm.species):
            if sid in self.sub:
                self._species(i, sid, declared.get(sid))
            else:
                self._state(i, sid, declared.get(sid))
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
        self._rate_rules()
        for oid, node in cm.observables.items():
            q = m.createParameter()
            q.setId(oid)
            q.setConstant(False)
            q.setValue(0.0)
            q.setUnits(self.unit(cm.observable_units.get(oid, "")))
            rule = m.createAssignmentRule()
            rule.setVariable(oid)
            self._math(rule, expr_to_sbml(node), f"observable {oid!r}")
        return self.sb.writeSBMLToString(self.doc)

    def _compartment(self, cid: str, name: str, size: float, unit: str, same_as: str | None = None) -> str:
        if self.m.getCompartment(cid) is None:
            comp = self.m.createCompartment()
            comp.setId(cid)
            if name:
                comp.setName(name)
            comp.setConstant(True)
            comp.setSpatialDimensions(3)
            comp.setSize(size)
            comp.setUnits(unit)
            if same_as:
                self.ok(comp.setNotes(self._notes(
                    f"the same space as compartment {same_as}, measured in {self.m.getUnitDefinition(unit).getName()} so that "
                    "its species share the model's substance unit (no conversion factor needed)")), f"notes of {cid!r}")
        return cid

    def _conversion(self, d: _Dim, ratio: _Dim) -> str:
        pid = f"cf_{_unit_id(d.label())[2:]}"
        if self.m.getParameter(pid) is None:
            q = self.m.createParameter()
            q.setId(pid)
            q.setValue(1.0)
            q.setConstant(True)
            q.setUnits(self.dim_unit(ratio))
            self.ok(q.setNotes(self._notes(f"conversion factor: {d.label()} per unit of reaction extent, a substance of "
                                           "another kind (cytonet's stoichiometries carry the conversion)")), f"notes of {pid!r}")
        return pid

    def _identity(self, el, sid: str, src) -> None:
        if src is None:
            return
        if src.name:
            el.setName(src.name)
        a = src.annotation
        uris = []
        if a.hgnc:
            uris.append(f"https://identifiers.org/hgnc.symbol:{a.hgnc}")
        if a.cell_ontology:
            uris.append(f"https://identifiers.org/{a.cell_ontology.replace('_', ':')}")
        if a.chebi:
            uris.append(f"https://identifiers.org/{a.chebi if a.chebi.upper().startswith('CHEBI:') else 'CHEBI:' + a.chebi}")
        self.annotate(el, sid, uris)

    def _species(self, i: int, sid: str, src) -> None:
        info = self.sub[sid]
        s = self.m.createSpecies()
        s.setId(sid)
        s.setCompartment(info.compartment)
        s.setInitialConcentration(float(self.start[i]))
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(False)
        s.setConstant(False)
        s.setSubstanceUnits(self.dim_unit(info.substance))
        if info.conversion:
            s.setConversionFactor(info.conversion)
        self._identity(s, sid, src)

    def _state(self, i: int, sid: str, src) -> None:
        q = self.m.createParameter()
        q.setId(sid)
        q.setValue(float(self.start[i]))
        q.setUnits(self.unit(self.cm.species_units[i]))
        q.setConstant(False)
        self.rate_terms[sid] = []
        self.ok(q.setNotes(self._notes(f"cytonet state in {self.cm.species_units[i] or 'dimensionless units'} "
                                       "(not an amount of matter: a parameter with a rate rule)")), f"notes of {sid!r}")
        self._identity(q, sid, src)

    def _math(self, el, formula: str, what: str) -> None:
        ast = self.sb.parseL3Formula(formula)
        if ast is None:
            raise ModelSpecError(f"model {self.spec.id!r}: cannot write {what} as SBML ({self.sb.getLastParseL3Error()}): {formula}")
        self.ok(el.setMath(ast), what)

    def _species_unit(self, idx: int) -> str:
        return self.unit(self.cm.species_units[idx])

    def _factor(self, f) -> str:
        cm = self.cm
        x = cm.species[f.species]
        K = cm.parameters[f.K] if f.K >= 0 else ""
        n = cm.parameters[f.n] if f.n >= 0 else ""
        one = self.num(1.0)
        if f.kind == POWER:
            return x if f.nu == 1.0 else f"{x}^{f.nu!r}"
        if f.kind == SAT:
            return f"({x} / ({K} + {x}))"
        if f.kind == CAP:
            return f"({one} - {x} / {K})"
        zero = self.num(0.0, self._species_unit(f.species))
        xp = f"piecewise({x}, {x} > {zero}, {zero})"
        hill = f"{xp}^{n} / ({K}^{n} + {xp}^{n})"
        if f.kind == HILL_ACT:
            return f"({hill})"
        if f.kind == HILL_INH:
            return f"({K}^{n} / ({K}^{n} + {xp}^{n}))"
        assert f.kind == BASAL_ACT
        b = cm.parameters[f.b]
        return f"({b} + ({one} - {b}) * {hill})"

    def _rate(self, fr: FactorReaction) -> str:
        """cytonet's rate v of a lowered reaction (per volume: in concentration or state units per hour)."""
        k = self.cm.parameters[fr.k]
        if fr.kpow == 1.0:
            kterm = k if fr.scale == 1.0 else f"{self.num(fr.scale)} * {k}"
        elif fr.kpow == -1.0:
            kterm = f"{self.num(fr.scale)} / {k}"
        else:
            kterm = f"{self.num(fr.scale)} * {k}^{fr.kpow!r}"
        return " * ".join([kterm, *(self._factor(f) for f in fr.factors)])

    def _reaction(self, fr: FactorReaction) -> None:
        cm = self.cm
        rate = self._rate(fr)
        for idx, coef in fr.stoich.items():
            sid = cm.species[idx]
            if sid in self.rate_terms:
                self.rate_terms[sid].append(_term(coef, rate))
        moved = {cm.species[i]: c for i, c in fr.stoich.items() if cm.species[i] in self.sub}
        if moved:
            self._substance_reaction(fr.name, moved, rate, fr.stoich, modifiers=[cm.species[f.species] for f in fr.factors])

    def _substance_reaction(self, rid: str, moved: dict[str, float], rate: str, stoich: dict[int, float],
                            modifiers: list[str]) -> None:
        """One SBML reaction for the species part of cytonet's ``sum N v``: law = V_h |N_h| v / cf_h."""
        # reference species h: a unit reactant if there is one, else a unit product, else the first
        h = next((s for s, c in moved.items() if c == -1.0), None) or next((s for s, c in moved.items() if abs(c) == 1.0),
                                                                             next(iter(moved)))
        nh = abs(moved[h])
        H = self.sub[h]
        law = [H.compartment, rate]
        if nh != 1.0:
            law.append(self._yield(rid, h, nh, stoich))
        r = self.m.createReaction()
        r.setId(rid)
        r.setReversible(False)
        for sid, coef in moved.items():
            X = self.sub[sid]
            nu = coef * X.volume / (H.volume * nh)
            ref = r.createReactant() if nu < 0 else r.createProduct()
            ref.setSpecies(sid)
            ref.setStoichiometry(abs(nu))
            ref.setConstant(True)
        for sid in dict.fromkeys(modifiers):
            if sid in self.sub and sid not in moved:
                r.createModifier().setSpecies(sid)
        formula = " * ".join(law)
        if H.conversion:
            formula = f"({formula}) / {H.conversion}"
        self._math(r.createKineticLaw(), formula, f"reaction {rid!r}")

    def _yield(self, rid: str, h: str, nh: float, stoich: dict[int, float]) -> str:
        """An explicit conversion from cytonet's rate to the reference species' units (e.g. ug/mL per relative unit)."""
        cm = self.cm
        src = next((cm.species[i] for i, c in stoich.items() if c < 0), None)
        hu = cm.species_units[cm.species.index(h)]
        unit = f"({hu})/({cm.species_units[cm.species.index(src)]})" if src and src != h else "1"
        pid = f"{rid}_yield_{h}"
        q = self.m.createParameter()
        q.setId(pid)
        q.setValue(nh)
        q.setConstant(True)
        q.setUnits(self.unit(unit))
        self.ok(q.setNotes(self._notes(f"{hu} of {h} per unit of {src or 'reaction'} in {rid} (cytonet stoichiometry)")),
                f"notes of {pid!r}")
        return pid

    def _rate_rules(self) -> None:
        for sid, terms in self.rate_terms.items():
            if not terms:
                if not self._assigned(sid):
                    self.m.getParameter(sid).setConstant(True)
                continue
            rule = self.m.createRateRule()
            rule.setVariable(sid)
            formula = " ".join(terms)
            self._math(rule, formula[2:] if formula.startswith("+ ") else formula, f"rate rule of {sid!r}")

    def _assigned(self, sid: str) -> bool:
        return any(self.m.getEvent(i).getEventAssignment(sid) is not None for i in range(self.m.getNumEvents()))

    def _inputs(self) -> None:
        m, spec = self.m, self.spec
        for e in spec.events:
            if not isinstance(e, (Infusion, PiecewiseInput)):
                continue
            unit = next(s.unit for s in spec.species if s.id == e.target)
            switches = [(e.start, e.rate), (e.end, 0.0)] if isinstance(e, Infusion) else list(zip(e.times, e.rates))
            rate0 = next((rt for t, rt in switches if t == 0.0), 0.0)
            q = m.createParameter()
            q.setId(f"{e.id}_rate")
            q.setValue(rate0)
            q.setConstant(False)
            q.setUnits(self.unit(f"{unit}/h"))
            if e.target in self.rate_terms:
                self.rate_terms[e.target].append(f"+ {e.id}_rate")
            else:
                idx = self.cm.species.index(e.target)
                self._substance_reaction(f"{e.id}_flux", {e.target: 1.0}, f"{e.id}_rate", {idx: 1.0}, [])
            for i, (t, rt) in enumerate(switches):
                if t > 0.0:
                    self._event(f"{e.id}_switch{i}", f"time >= {self.num(t, self.unit('h'))}",
                                [(f"{e.id}_rate", self.num(rt, self.unit(f"{unit}/h")))], initial=False)

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

    def _value_unit(self, target: str) -> str:
        if target in self.cm.species:
            return self._species_unit(self.cm.species.index(target))
        return self.unit(self.spec.parameter(target).unit)

    def _events(self) -> None:
        hours = self.unit("h")
        for e in self.spec.events:
            if isinstance(e, Bolus) and e.time > 0.0:
                amount = self.num(e.amount, self._value_unit(e.target))
                self._event(e.id, f"time >= {self.num(e.time, hours)}", [(e.target, f"{e.target} + {amount}")], initial=False)
            elif isinstance(e, ThresholdEvent):
                cmp = ">=" if e.direction == "rising" else "<="
                assigns = []
                for a in e.assignments:
                    v = self.num(a.value) if a.op == "multiply" else self.num(a.value, self._value_unit(a.target))
                    assigns.append((a.target, {"set": v, "add": f"{a.target} + {v}", "multiply": f"{a.target} * {v}"}[a.op]))
                threshold = self.num(e.threshold, self._value_unit(e.species))
                self._event(e.id, f"{e.species} {cmp} {threshold}", assigns, initial=True)


def _term(coef: float, rate: str) -> str:
    if coef == 1.0:
        return f"+ {rate}"
    if coef == -1.0:
        return f"- {rate}"
    return f"{'-' if coef < 0 else '+'} {abs(coef)!r} dimensionless * {rate}"


def start_state(spec: ModelSpec, cm: CompiledModel, initial: Mapping[str, float] | None = None) -> np.ndarray:
    """The state a run starts from: ``initial`` over the spec's values (transit states default to 0), t = 0 boluses added."""
    x0 = cm.x0.copy()
    for sid, value in (initial or {}).items():
        x0[cm.species_index(sid)] = value
    for t, sidx, amt in zip(cm.bolus_time, cm.bolus_species, cm.bolus_amount):
        if t == 0.0:
            x0[sidx] += amt
    return x0


def sbml_string(spec: ModelSpec, initial: Mapping[str, float] | None = None) -> str:
    """The SBML L3V2 document of ``spec`` as a string (validated: no consistency errors).

    ``initial`` gives start values by compiled-species id (delay-chain transit states included),
    e.g. the resting state returned by :func:`cytonet.scenarios.scenario_model`, exactly as
    ``simulate(spec, ..., initial=...)`` takes it.
    """
    if uses_expressions(spec):
        raise ModelSpecError(f"model {spec.id!r} uses SBML-style constructs (rules, initial assignments, expression rates, "
                             "trigger events or amount species) that SBML export does not write; keep the SBML file it "
                             "was imported from, or export a model built from cytonet's rate-law templates")
    cm = compile_model(spec)
    text = _Writer(spec, cm, start_state(spec, cm, initial)).write()
    errors = check_sbml(text)
    if errors:
        raise ModelSpecError(f"model {spec.id!r}: exported SBML fails libsbml consistency checks:\n" + "\n".join(errors[:20]))
    return text


def _problems(text: str, units: bool = True) -> list[tuple[int, int, str, int, str]]:
    """libsbml consistency findings as (severity, id, severity name, line, message)."""
    import libsbml

    doc = libsbml.readSBMLFromString(text)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, units)
    doc.checkConsistency()
    return [(e.getSeverity(), e.getErrorId(), e.getSeverityAsString(), e.getLine(), e.getMessage().strip())
            for e in (doc.getError(i) for i in range(doc.getNumErrors()))]


def check_sbml(text: str, units: bool = True) -> list[str]:
    """libsbml consistency problems of severity error or worse (unit checks included by default)."""
    import libsbml

    return [f"{eid} line {line}: {msg}" for sev, eid, _, line, msg in _problems(text, units) if sev >= libsbml.LIBSBML_SEV_ERROR]


def consistency_counts(text: str) -> Counter:
    """libsbml consistency findings by (severity, error id), unit checks included."""
    return Counter((name, eid) for _, eid, name, _, _ in _problems(text))


def reported_states(sbml: str) -> dict[str, tuple[str, float]]:
    """How a tool that integrates amounts (libroadrunner) reads each exported state as cytonet reports it.

    ``{state id: (selector, amount per reported unit)}``: ``[X]`` and its compartment's size for a
    species, the id and 1 for a non-substance state (a parameter with a rate rule). Setting the
    selector sets the state; an absolute tolerance on the reported value times the factor is one on
    what the tool integrates.
    """
    import libsbml

    m = libsbml.readSBMLFromString(sbml).getModel()
    out = {s.getId(): (f"[{s.getId()}]", m.getCompartment(s.getCompartment()).getSize()) for s in m.getListOfSpecies()}
    out.update({r.getVariable(): (r.getVariable(), 1.0) for r in m.getListOfRules() if r.isRate()})
    return out


def export_sbml(spec: ModelSpec, path: str | Path, initial: Mapping[str, float] | None = None) -> Path:
    """Write ``spec`` as SBML L3V2 to ``path`` atomically (``initial`` as for :func:`sbml_string`)."""
    from cytonet.io import atomic_write

    text = sbml_string(spec, initial)
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))  # the XML declares UTF-8
