"""SBML files for tests, built with libsbml: a small builder and a BioModels model rewritten by it."""

from pathlib import Path

import libsbml


class Doc:
    """A small SBML L3V2 model built with libsbml (formulas in L3 infix)."""

    def __init__(self, level: int = 3, version: int = 2) -> None:
        self.doc = libsbml.SBMLDocument(level, version)
        self.m = self.doc.createModel()
        self.m.setId("m")

    def compartment(self, cid="c", size=1.0, constant=True):
        c = self.m.createCompartment()
        c.setId(cid)
        c.setSize(size)
        c.setConstant(constant)
        c.setSpatialDimensions(3)
        return self

    def species(self, sid, amount=None, conc=None, comp="c", only_substance=False, boundary=False, constant=False, cf=None):
        s = self.m.createSpecies()
        s.setId(sid)
        s.setCompartment(comp)
        if amount is not None:
            s.setInitialAmount(amount)
        if conc is not None:
            s.setInitialConcentration(conc)
        s.setHasOnlySubstanceUnits(only_substance)
        s.setBoundaryCondition(boundary)
        s.setConstant(constant)
        if cf:
            s.setConversionFactor(cf)
        return self

    def param(self, pid, value=None, constant=True):
        p = self.m.createParameter()
        p.setId(pid)
        if value is not None:
            p.setValue(value)
        p.setConstant(constant)
        return self

    def reaction(self, rid, formula, reactants=(), products=(), local=None):
        r = self.m.createReaction()
        r.setId(rid)
        r.setReversible(False)
        for sid, nu in reactants:
            sr = r.createReactant()
            sr.setSpecies(sid)
            sr.setStoichiometry(nu)
            sr.setConstant(True)
        for sid, nu in products:
            sr = r.createProduct()
            sr.setSpecies(sid)
            sr.setStoichiometry(nu)
            sr.setConstant(True)
        kl = r.createKineticLaw()
        for k, v in (local or {}).items():
            lp = kl.createLocalParameter()
            lp.setId(k)
            lp.setValue(v)
        kl.setMath(_math(formula))
        return self

    def rule(self, var, formula, kind="assignment"):
        r = {"assignment": self.m.createAssignmentRule, "rate": self.m.createRateRule, "algebraic": self.m.createAlgebraicRule}[kind]()
        if kind != "algebraic":
            r.setVariable(var)
        r.setMath(_math(formula))
        return self

    def initial(self, var, formula):
        ia = self.m.createInitialAssignment()
        ia.setSymbol(var)
        ia.setMath(_math(formula))
        return self

    def function(self, fid, formula):
        f = self.m.createFunctionDefinition()
        f.setId(fid)
        f.setMath(_math(formula))
        return self

    def event(self, eid, trigger, assigns, delay=None, priority=None, persistent=True, initial_value=True, trigger_time=True):
        e = self.m.createEvent()
        e.setId(eid)
        e.setUseValuesFromTriggerTime(trigger_time)
        t = e.createTrigger()
        t.setMath(_math(trigger))
        t.setPersistent(persistent)
        t.setInitialValue(initial_value)
        if delay is not None:
            e.createDelay().setMath(_math(delay))
        if priority is not None:
            e.createPriority().setMath(_math(priority))
        for var, f in assigns.items():
            ea = e.createEventAssignment()
            ea.setVariable(var)
            ea.setMath(_math(f))
        return self

    def write(self, path: Path) -> Path:
        assert libsbml.writeSBMLToFile(self.doc, str(path))
        return path


def _math(formula: str) -> libsbml.ASTNode:
    ast = libsbml.parseL3Formula(formula)
    assert ast is not None, libsbml.getLastParseL3Error()
    return ast




#: Kholodenko 2000, Eur J Biochem 267:1583 (doi 10.1046/j.1432-1327.2000.01197.x; BioModels BIOMD0000000010):
#: a three-tier MAPK cascade whose negative feedback makes it oscillate; parameters and initial values of the paper
KHOLODENKO_PARAMETERS = {"V1": 2.5, "n": 1.0, "Ki": 9.0, "K1": 10.0, "V2": 0.25, "KK2": 8.0, "k3": 0.025, "KK3": 15.0,
                         "k4": 0.025, "KK4": 15.0, "V5": 0.75, "KK5": 15.0, "V6": 0.75, "KK6": 15.0, "k7": 0.025,
                         "KK7": 15.0, "k8": 0.025, "KK8": 15.0, "V9": 0.5, "KK9": 15.0, "V10": 0.5, "KK10": 15.0}


def kholodenko_mapk() -> Doc:
    """The MAPK cascade as BioModels writes it: concentrations in ``uVol``, kinetic laws ``uVol * v``."""
    doc = Doc().compartment("uVol", 1.0)
    for sid, c0 in {"MKKK": 90, "MKKK_P": 10, "MKK": 280, "MKK_P": 10, "MKK_PP": 10, "MAPK": 280, "MAPK_P": 10, "MAPK_PP": 10}.items():
        doc.species(sid, conc=float(c0), comp="uVol")
    for pid, v in KHOLODENKO_PARAMETERS.items():
        doc.param(pid, v)
    for rid, law, s, p in [
        ("J0", "V1 * MKKK / ((1 + (MAPK_PP / Ki)^n) * (K1 + MKKK))", "MKKK", "MKKK_P"),
        ("J1", "V2 * MKKK_P / (KK2 + MKKK_P)", "MKKK_P", "MKKK"),
        ("J2", "k3 * MKKK_P * MKK / (KK3 + MKK)", "MKK", "MKK_P"),
        ("J3", "k4 * MKKK_P * MKK_P / (KK4 + MKK_P)", "MKK_P", "MKK_PP"),
        ("J4", "V5 * MKK_PP / (KK5 + MKK_PP)", "MKK_PP", "MKK_P"),
        ("J5", "V6 * MKK_P / (KK6 + MKK_P)", "MKK_P", "MKK"),
        ("J6", "k7 * MKK_PP * MAPK / (KK7 + MAPK)", "MAPK", "MAPK_P"),
        ("J7", "k8 * MKK_PP * MAPK_P / (KK8 + MAPK_P)", "MAPK_P", "MAPK_PP"),
        ("J8", "V9 * MAPK_PP / (KK9 + MAPK_PP)", "MAPK_PP", "MAPK_P"),
        ("J9", "V10 * MAPK_P / (KK10 + MAPK_P)", "MAPK_P", "MAPK"),
    ]:
        doc.reaction(rid, f"uVol * {law}", [(s, 1)], [(p, 1)])
    return doc
