"""Import an SBML Level 3 (or Level 2 Version 4) model as a ``ModelSpec`` (libsbml reads it).

The spec keeps SBML's core semantics: compartments (constant or not), species as amounts
(``hasOnlySubstanceUnits``) or concentrations, boundary and constant species, conversion factors,
global and (renamed) local parameters, kinetic laws as ``expression`` rate laws, assignment and
rate rules, initial assignments and events (delay, priority, persistence, initial value, values
from trigger time), variable stoichiometries, ``rateOf`` and ``delay`` (constant lags). MathML
becomes the safe expression tree of :mod:`cytonet.model.expr`, stored as text that only its
whitelist parser reads. Algebraic rules linear in the variable they determine become assignment
rules (:mod:`cytonet.model.algebraic`). Constructs cytonet cannot run (other algebraic rules, fast
reactions, stoichiometryMath, packages such as comp or fbc) raise ``ModelSpecError`` naming the element;
the graphics packages (layout, render) are ignored with a note.
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass, field
from pathlib import Path

import libsbml

from cytonet.errors import ModelSpecError
from cytonet.model.algebraic import solve_for
from cytonet.model.expr import FUNCTIONS, BinOp, Name, Node, Num, names_in, to_text
from cytonet.model.mathml import MathConverter
from cytonet.model.spec import EventAssignment, InitialAssignment, ModelSpec, Rule, spec_from_dict


@dataclass
class SbmlImport:
    """An imported model: the spec, the SBML ids renamed on the way (SBML id -> spec id) and notes on what was ignored."""

    spec: ModelSpec
    renamed: dict[str, str] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)  # what was read but ignored, one line each

    def spec_id(self, sbml_id: str) -> str:
        return self.renamed.get(sbml_id, sbml_id)


def load_sbml(path: str | Path) -> ModelSpec:
    """Read an SBML file into a ``ModelSpec`` (``ModelSpecError`` names what cannot be imported)."""
    return read_sbml(path).spec


def read_sbml(path: str | Path) -> SbmlImport:
    """Read an SBML file; also returns the ids renamed to fit cytonet's expression grammar."""
    from cytonet.errors import InputError
    from cytonet.io import read_user_text

    p = Path(path)
    if not p.is_file():
        raise ModelSpecError(f"{p}: no such SBML file")
    try:
        text = read_user_text(p, "SBML file")
    except InputError as err:
        raise ModelSpecError(str(err)) from None
    if "<!ENTITY" in text or "<!DOCTYPE" in text:  # SBML needs no DTD; entities can expand without bound or read files
        raise ModelSpecError(f"{p}: declares a DOCTYPE or XML entities, which SBML does not use; remove them")
    doc = libsbml.readSBMLFromString(text)
    return _Importer(doc, str(p)).run()


#: SBML packages that only draw the diagram: read past, with a note
GRAPHICS_PACKAGES = ("layout", "render")


def _safe_id(sid: str) -> str:
    return f"{sid}_" if keyword.iskeyword(sid) or sid in FUNCTIONS or sid in ("True", "False", "None") else sid


class _Importer:
    def __init__(self, doc: libsbml.SBMLDocument, source: str) -> None:
        self.source = source
        errors = [doc.getError(i) for i in range(doc.getNumErrors())]
        fatal = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        if fatal:
            raise ModelSpecError(f"{source}: not valid SBML: {fatal[0].getMessage().strip()} (line {fatal[0].getLine()})")
        self.doc = doc
        m = doc.getModel()
        if m is None:
            raise ModelSpecError(f"{source}: the SBML document holds no model")
        self.notes: list[str] = []
        for i in range(doc.getNumPlugins()):
            pkg = doc.getPlugin(i).getPackageName()
            if pkg in ("core", "", "l3v2extendedmath") or not doc.isPackageEnabled(pkg):
                continue
            if pkg in GRAPHICS_PACKAGES:
                self.notes.append(f"ignored SBML package {pkg!r}: it draws the diagram and carries no model semantics")
            elif doc.getLevel() >= 3:
                raise ModelSpecError(f"{source}: SBML package {pkg!r} is not supported (core SBML only; "
                                     f"the graphics packages {', '.join(GRAPHICS_PACKAGES)} are ignored)")
        self.m = m
        self.where = f"{source}: model {m.getId() or '(unnamed)'!r}"
        self.renamed: dict[str, str] = {}
        self.solved: dict[str, Node] = {}
        self.kinetic: dict[str, Node] = {}
        self.locals: dict[str, dict[str, str]] = {}
        self.extra_params: list[dict] = []
        self.rules = {m.getRule(i).getVariable(): m.getRule(i) for i in range(m.getNumRules()) if not m.getRule(i).isAlgebraic()}
        self.sref_ids = self._species_references()
        inits = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
        #: species references whose stoichiometry rules, events or initial assignments set: parameters of the spec
        self.variable_srefs = {k: v for k, v in self.sref_ids.items() if k in self._assigned_ids() | inits}
        for k in self.variable_srefs:
            del self.sref_ids[k]
        functions = {m.getFunctionDefinition(i).getId(): m.getFunctionDefinition(i).getMath()
                     for i in range(m.getNumFunctionDefinitions())}
        self.math = MathConverter(functions, self._resolve, self._rate_of)
        self.rate_stack: list[str] = []
        self.solved = self._solve_algebraic_rules()
        self.defined = set(self.rules) | set(self.solved)

    # -- names -------------------------------------------------------------------------------
    def _name(self, sid: str) -> str:
        new = _safe_id(sid)
        if new != sid:
            self.renamed[sid] = new
        return new

    def _species_references(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self._reactions():
            for sr in [*(r.getReactant(i) for i in range(r.getNumReactants())), *(r.getProduct(i) for i in range(r.getNumProducts()))]:
                if sr.isSetId():
                    out[sr.getId()] = sr.getStoichiometry()
        return out

    def _reactions(self) -> list[libsbml.Reaction]:
        return [self.m.getReaction(i) for i in range(self.m.getNumReactions())]

    def _resolve(self, sid: str) -> Node:
        if self.rate_stack and sid in self.locals.get(self.rate_stack[-1], {}):
            return Name(self.locals[self.rate_stack[-1]][sid])
        if sid in self.sref_ids:
            return Num(self.sref_ids[sid])
        if self.m.getReaction(sid) is not None:
            return self._kinetic_law(self.m.getReaction(sid))
        if self.m.getElementBySId(sid) is None:
            raise ModelSpecError(f"{self.where}: math names {sid!r}, which is no compartment, species, parameter or reaction")
        return Name(self._name(sid))

    def _kinetic_law(self, r: libsbml.Reaction) -> Node:
        rid = r.getId()
        if rid in self.kinetic:
            return self.kinetic[rid]
        if rid in self.rate_stack:
            raise ModelSpecError(f"{self.where}: the rate of reaction {rid!r} refers to itself")
        kl = r.getKineticLaw()
        if kl is None or not kl.isSetMath():
            raise ModelSpecError(f"{self.where}: reaction {rid!r} has no kinetic law; give it one")
        self.rate_stack.append(rid)
        try:
            tree = self.math.convert(kl.getMath(), f"{self.where}: kinetic law of {rid!r}")
        finally:
            self.rate_stack.pop()
        self.kinetic[rid] = tree
        return tree

    def _rate_of(self, sid: str, where: str) -> Node:
        """d sid/dt as a tree, for ``rateOf(sid)``."""
        rule = self.rules.get(sid)
        if sid in self.solved:
            raise ModelSpecError(f"{where}: rateOf({sid}) of a variable set by an algebraic rule is not supported")
        if rule is not None and rule.isRate():
            return self.math.convert(rule.getMath(), where)
        if rule is not None:
            raise ModelSpecError(f"{where}: rateOf({sid}) of a variable set by an assignment rule is not supported")
        sp = self.m.getSpecies(sid)
        if sp is None or sp.getBoundaryCondition() or sp.getConstant():
            return Num(0.0)
        flux: Node = Num(0.0)
        for r in self._reactions():
            nu = self._net_tree(r, sid)
            if nu != Num(0.0):
                flux = BinOp("+", flux, BinOp("*", nu, self._kinetic_law(r)))
        cf = sp.getConversionFactor() if sp.isSetConversionFactor() else self.m.getConversionFactor()
        if cf:
            flux = BinOp("*", flux, Name(self._name(cf)))
        if sp.getHasOnlySubstanceUnits():
            return flux
        comp = self.m.getCompartment(sp.getCompartment())
        if not comp.getConstant():
            raise ModelSpecError(f"{where}: rateOf({sid}) of a concentration in a varying compartment is not supported")
        return BinOp("/", flux, Name(self._name(comp.getId())))

    @staticmethod
    def _references(r: libsbml.Reaction) -> list[libsbml.SpeciesReference]:
        return [*(r.getReactant(i) for i in range(r.getNumReactants())), *(r.getProduct(i) for i in range(r.getNumProducts()))]

    def _net_tree(self, r: libsbml.Reaction, sid: str) -> Node:
        """Net stoichiometry (products minus reactants) of ``sid`` in ``r``: a number, or a tree of variable stoichiometries."""
        const = 0.0
        terms: list[tuple[str, Node]] = []
        refs = [(-1.0, r.getReactant(i)) for i in range(r.getNumReactants())] + [(1.0, r.getProduct(i)) for i in range(r.getNumProducts())]
        for sign, sr in refs:
            if sr.getSpecies() != sid:
                continue
            if sr.getId() in self.variable_srefs:
                terms.append(("+" if sign > 0 else "-", Name(self._name(sr.getId()))))
                continue
            if not sr.isSetStoichiometry() and sr.getLevel() >= 3:
                raise ModelSpecError(f"{self.where}: reaction {r.getId()!r}: species {sid!r} has no stoichiometry; give it one")
            const += sign * (sr.getStoichiometry() if sr.isSetStoichiometry() else 1.0)
        tree: Node = Num(const)
        for op, t in terms:
            tree = BinOp(op, tree, t)
        return tree

    def _text(self, ast: libsbml.ASTNode | None, where: str) -> str:
        return to_text(self.math.convert(ast, f"{self.where}: {where}"))

    # -- the model ---------------------------------------------------------------------------
    def run(self) -> SbmlImport:
        m = self.m
        self._refuse()
        assigned = self._assigned_ids()
        inits = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
        compartments = [self._compartment(m.getCompartment(i), assigned, inits) for i in range(m.getNumCompartments())]
        parameters = [self._parameter(m.getParameter(i), assigned, inits) for i in range(m.getNumParameters())]
        parameters += [{"id": self._name(k), "value": v if v == v else 0.0, "unit": "", "constant": k not in assigned,
                        "description": "stoichiometry of a species reference", "assumption": f"value as given in {Path(self.source).name}"}
                       for k, v in self.variable_srefs.items()]
        initial_assignments: list[InitialAssignment] = []
        species = [self._species(m.getSpecies(i), assigned, inits, initial_assignments) for i in range(m.getNumSpecies())]
        reactions = [self._reaction(r) for r in self._reactions()]
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            if not ia.isSetMath():
                continue
            initial_assignments.append(InitialAssignment(variable=self._name(ia.getSymbol()),
                                                         expression=self._text(ia.getMath(), f"initial assignment to {ia.getSymbol()!r}")))
        rules = []
        for i in range(m.getNumRules()):
            r = m.getRule(i)
            if not r.isSetMath() or r.isAlgebraic():
                continue  # SBML L3V2: a rule without math does not constrain its variable; algebraic ones are solved
            rules.append(Rule(variable=self._name(r.getVariable()), kind="rate" if r.isRate() else "assignment",
                              expression=self._text(r.getMath(), f"rule for {r.getVariable()!r}")))
        rules += [Rule(variable=self._name(v), kind="assignment", expression=to_text(tree)) for v, tree in self.solved.items()]
        events = [self._event(m.getEvent(i), i) for i in range(m.getNumEvents())]
        data = {
            "id": _model_id(m.getId()), "name": m.getName(), "description": f"imported from SBML {Path(self.source).name}",
            "compartments": compartments, "species": species, "parameters": parameters + self.extra_params,
            "reactions": reactions, "events": events, "rules": rules, "initial_assignments": initial_assignments,
            "conversion_factor": self._name(m.getConversionFactor()) if m.isSetConversionFactor() else None,
        }
        return SbmlImport(spec_from_dict(data, self.where), self.renamed, self.source, self.notes)

    def _refuse(self) -> None:
        m = self.m
        for r in self._reactions():
            if r.isSetFast() and r.getFast():
                raise ModelSpecError(f"{self.where}: reaction {r.getId()!r} is fast (rapid equilibrium), which is not supported")
            for sr in [*(r.getReactant(i) for i in range(r.getNumReactants())), *(r.getProduct(i) for i in range(r.getNumProducts()))]:
                if sr.isSetStoichiometryMath():
                    raise ModelSpecError(f"{self.where}: reaction {r.getId()!r}: stoichiometryMath is not supported")
        assigned = self._assigned_ids()
        inits = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
        for i in range(m.getNumEvents()):
            e = m.getEvent(i)
            if e.getTrigger() is None or not e.getTrigger().isSetMath():
                raise ModelSpecError(f"{self.where}: event {e.getId() or i + 1!r} has no trigger")

    def _solve_algebraic_rules(self) -> dict[str, Node]:
        """Each algebraic rule solved for the one variable it determines (linear rules only)."""
        m = self.m
        algebraic = [(i, m.getRule(i)) for i in range(m.getNumRules()) if m.getRule(i).isAlgebraic() and m.getRule(i).isSetMath()]
        if not algebraic:
            return {}
        changed_by_reactions = {sr.getSpecies() for r in self._reactions()
                                for sr in [*(r.getReactant(i) for i in range(r.getNumReactants())), *(r.getProduct(i) for i in range(r.getNumProducts()))]}
        free = set()
        for items in ([m.getCompartment(i) for i in range(m.getNumCompartments())], [m.getParameter(i) for i in range(m.getNumParameters())],
                      [m.getSpecies(i) for i in range(m.getNumSpecies())]):
            for x in items:
                reacted = isinstance(x, libsbml.Species) and x.getId() in changed_by_reactions and not x.getBoundaryCondition()
                if not x.getConstant() and x.getId() not in self.rules and not reacted:
                    free.add(self._name(x.getId()))
        trees = {i: self.math.convert(r.getMath(), f"{self.where}: algebraic rule #{i + 1}") for i, r in algebraic}
        solved: dict[str, Node] = {}
        pending = dict(trees)
        while pending:
            progress = False
            for i, tree in list(pending.items()):
                cands = (names_in(tree) & free) - set(solved)
                if len(cands) == 1:
                    (v,) = cands
                    sol = solve_for(tree, v)
                    if sol is None:
                        raise ModelSpecError(f"{self.where}: algebraic rule #{i + 1} ({to_text(tree)} = 0) is not linear in {v!r}, "
                                             "the variable it determines; cytonet integrates ODEs, not DAEs")
                    solved[v] = sol
                    del pending[i]
                    progress = True
            if not progress:
                i, tree = next(iter(pending.items()))
                raise ModelSpecError(f"{self.where}: algebraic rule #{i + 1} ({to_text(tree)} = 0) does not single out one variable "
                                     "that nothing else determines; cytonet integrates ODEs, not DAEs")
        return {self._sbml_id(v): t for v, t in solved.items()}

    def _sbml_id(self, name: str) -> str:
        return next((k for k, v in self.renamed.items() if v == name), name)

    def _assigned_ids(self) -> set[str]:
        """Ids that rules or events change."""
        m = self.m
        out = set(self.rules) | set(self.solved)
        for i in range(m.getNumEvents()):
            e = m.getEvent(i)
            out |= {e.getEventAssignment(j).getVariable() for j in range(e.getNumEventAssignments())}
        return out

    def _compartment(self, c: libsbml.Compartment, assigned: set[str], inits: set[str]) -> dict:
        cid = c.getId()
        if c.isSetSize():
            size = c.getSize()
        elif cid in inits or cid in self.defined:
            size = 1.0  # placeholder: the initial assignment or rule sets it
        elif c.getSpatialDimensions() == 0 or c.getLevel() == 2:
            size = 1.0  # a 0-D compartment holds amounts; SBML Level 2's default size is 1
        else:
            raise ModelSpecError(f"{self.where}: compartment {cid!r} has no size; give it one")
        if not size > 0 and not (cid in inits or cid in self.defined):
            raise ModelSpecError(f"{self.where}: compartment {cid!r} has size {size}; only positive sizes are supported")
        constant = c.getConstant() and cid not in assigned
        return {"id": self._name(cid), "name": c.getName(), "volume": size if size > 0 else 1.0,
                "unit": c.getUnits(), "constant": constant}

    def _parameter(self, p: libsbml.Parameter, assigned: set[str], inits: set[str]) -> dict:
        pid = p.getId()
        if not p.isSetValue() and pid not in inits and pid not in self.defined:
            raise ModelSpecError(f"{self.where}: parameter {pid!r} has no value; give it one or an initial assignment")
        value = p.getValue() if p.isSetValue() else float("nan")
        if not math.isfinite(value):
            if pid not in inits and pid not in self.defined:
                raise ModelSpecError(f"{self.where}: parameter {pid!r} has value {value}; only finite values are supported")
            value = 0.0  # placeholder: its initial assignment or rule sets it
        return {"id": self._name(pid), "description": p.getName(), "value": value, "unit": p.getUnits(),
                "constant": p.getConstant() and pid not in assigned, "assumption": f"value as given in {Path(self.source).name}"}

    def _species(self, s: libsbml.Species, assigned: set[str], inits: set[str], init_out: list[InitialAssignment]) -> dict:
        sid = s.getId()
        comp = self.m.getCompartment(s.getCompartment())
        only_substance = bool(s.getHasOnlySubstanceUnits())
        size_known = comp.isSetSize() and comp.getId() not in inits and comp.getId() not in self.defined
        cname = self._name(comp.getId())
        if s.isSetInitialAmount():
            value, is_amount = s.getInitialAmount(), True
        elif s.isSetInitialConcentration():
            value, is_amount = s.getInitialConcentration(), False
        elif sid in inits or sid in self.defined:
            value, is_amount = 0.0, only_substance  # placeholder: the initial assignment or rule sets it
        else:
            raise ModelSpecError(f"{self.where}: species {sid!r} has no initial amount or concentration; give it one")
        initial = value
        by_rule = (sid in self.rules and not self.rules[sid].isRate()) or sid in self.solved
        if is_amount != only_substance and sid not in inits and not by_rule:
            if size_known:
                initial = value * comp.getSize() if only_substance else value / comp.getSize()
            else:  # the compartment's size is only known once its own initial assignment has run
                op = "*" if only_substance else "/"
                init_out.append(InitialAssignment(variable=self._name(sid), expression=to_text(BinOp(op, Num(value), Name(cname)))))
        cf = s.getConversionFactor() if s.isSetConversionFactor() else None
        return {"id": self._name(sid), "name": s.getName(), "compartment": cname, "initial": initial,
                "unit": s.getSubstanceUnits(), "only_substance": only_substance, "boundary": bool(s.getBoundaryCondition()),
                "constant": bool(s.getConstant()) and sid not in assigned, "conversion_factor": self._name(cf) if cf else None}

    def _reaction(self, r: libsbml.Reaction) -> dict:
        rid = r.getId()
        kl = r.getKineticLaw()
        if kl is not None:
            local = {}
            for j in range(kl.getNumLocalParameters() + kl.getNumParameters()):
                lp = kl.getLocalParameter(j) if j < kl.getNumLocalParameters() else kl.getParameter(j - kl.getNumLocalParameters())
                if lp is None or lp.getId() in local:
                    continue
                new = self._unique(f"{rid}_{lp.getId()}")
                local[lp.getId()] = new
                self.extra_params.append({"id": new, "value": lp.getValue(), "unit": lp.getUnits(),
                                          "description": f"local parameter {lp.getId()!r} of reaction {rid!r}",
                                          "assumption": f"value as given in {Path(self.source).name}"})
            self.locals[rid] = local
        rate = self._kinetic_law(r)
        reactants: dict[str, float] = {}
        products: dict[str, float] = {}
        variable: dict[str, str] = {}
        for sid in dict.fromkeys(sr.getSpecies() for sr in self._references(r)):
            tree = self._net_tree(r, sid)
            name = self._name(sid)
            if isinstance(tree, Num):
                if tree.value < 0:
                    reactants[name] = -tree.value
                elif tree.value > 0:
                    products[name] = tree.value
            else:
                variable[name] = to_text(tree)
                reactants[name] = 1.0  # placeholder: the expression gives the net stoichiometry
        modifiers = [self._name(r.getModifier(i).getSpecies()) for i in range(r.getNumModifiers())]
        return {"id": self._name(rid), "rate_law": "expression", "rate": to_text(rate), "reactants": reactants,
                "products": products, "modifiers": list(dict.fromkeys(modifiers)), "variable_stoichiometry": variable}

    def _unique(self, base: str) -> str:
        name, k = base, 1
        taken = {x["id"] for x in self.extra_params}
        while self.m.getElementBySId(name) is not None or name in taken:
            k += 1
            name = f"{base}_{k}"
        return name

    def _event(self, e: libsbml.Event, i: int) -> dict:
        eid = self._name(e.getId()) if e.isSetId() else self._unique(f"event_{i + 1}")
        where = f"event {eid!r}"
        trig = e.getTrigger()
        l3 = e.getLevel() >= 3
        data: dict = {
            "kind": "trigger", "id": eid, "trigger": self._text(trig.getMath(), f"{where} trigger"),
            "persistent": bool(trig.getPersistent()) if l3 else True,
            "initial_value": bool(trig.getInitialValue()) if l3 else True,
            "values_at_trigger": bool(e.getUseValuesFromTriggerTime()),
        }
        if e.isSetDelay() and e.getDelay().isSetMath():
            data["delay"] = self._text(e.getDelay().getMath(), f"{where} delay")
        if e.isSetPriority() and e.getPriority().isSetMath():
            data["priority"] = self._text(e.getPriority().getMath(), f"{where} priority")
        assigns = []
        for j in range(e.getNumEventAssignments()):
            ea = e.getEventAssignment(j)
            var = ea.getVariable()
            if self.m.getElementBySId(var) is None or var in self.sref_ids:
                raise ModelSpecError(f"{self.where}: {where} assigns {var!r}, which is no compartment, species or parameter")
            if not ea.isSetMath():
                continue
            assigns.append(EventAssignment(target=self._name(var), expression=self._text(ea.getMath(), f"{where} assignment to {var!r}")))
        data["assignments"] = assigns
        return data


def _model_id(mid: str) -> str:
    import re

    clean = re.sub(r"\W", "_", mid or "sbml_model")
    return clean if re.match(r"[A-Za-z_]", clean) else f"m_{clean}"

