"""Run an SBML file in COPASI (its Python bindings) and save what it reads at given times.

    python copasi_reference.py MODEL.xml TIMES.npy NAMES.json OUT.npy [RTOL ATOL]

Run as its own process: COPASI sets the C locale on import and keeps global state between
models, which must not leak into the test process. Species are read as concentrations, global
quantities (rate-rule states, observables) as values.

COPASI's SBML import cannot take a mass as the model's substance unit: it replaces ``ng`` by
``mol`` (warning "SBML (66)"), so every nanogram becomes 6.02e23 particles in the state vector it
integrates (up to 2e30), next to rate-rule states down to 3e-10. Across those 40 decades the LU
factorisation in its LSODA and RADAU5 pivots on round-off, and they stop at rtol 1e-10 ("corrector
convergence failed repeatedly", "step size became too small"; docs/validation.md). The file's own
substance unit is therefore set back as COPASI's quantity unit, keeping the concentrations the file
gives.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np


_SYMBOL = {"gram": "g", "mole": "mol"}
_PREFIX = {-15: "f", -12: "p", -9: "n", -6: "\u00b5", -3: "m", 0: "", 3: "k"}


def substance_unit(sbml: str) -> str | None:
    """The model's substance unit as a COPASI quantity unit (``ng``), or None where it is not one prefixed gram or mole."""
    root = ElementTree.fromstring(sbml)
    ns = {"s": root.tag[1:].partition("}")[0]}
    model = root.find("s:model", ns)
    uid = model.get("substanceUnits") if model is not None else None
    units = root.findall(f"s:model/s:listOfUnitDefinitions/s:unitDefinition[@id='{uid}']/s:listOfUnits/s:unit", ns)
    if len(units) != 1 or units[0].get("kind") not in _SYMBOL or float(units[0].get("exponent", "1")) != 1.0:
        return None
    u = units[0]
    power = math.log10(float(u.get("multiplier", "1"))) + int(u.get("scale", "0"))
    prefix = _PREFIX.get(round(power)) if abs(power - round(power)) < 1e-9 else None
    return None if prefix is None else prefix + _SYMBOL[u.get("kind")]


def run(sbml: str, t: np.ndarray, names: list[str], rtol: float, atol: float) -> np.ndarray:
    import COPASI

    dm = COPASI.CRootContainer.addDatamodel()
    if not dm.importSBMLFromString(sbml):
        raise SystemExit(f"COPASI cannot import the model: {COPASI.CCopasiMessage.getAllMessageText()}")
    unit = substance_unit(sbml)
    if unit and dm.getModel().getQuantityUnit() != unit:
        if not dm.getModel().setQuantityUnit(unit, COPASI.CCore.Framework_Concentration):
            raise SystemExit(f"COPASI does not take the file's substance unit {unit!r} as its quantity unit")
    task = dm.getTask("Time-Course")
    task.setMethodType(COPASI.CTaskEnum.Method_deterministic)
    problem = task.getProblem()
    problem.setModel(dm.getModel())
    problem.setTimeSeriesRequested(True)
    problem.setUseValues(True)
    problem.setValues(" ".join(repr(float(x)) for x in t[1:]))
    problem.setStepNumber(1)
    problem.setDuration(float(t[-1]))
    method = task.getMethod()
    method.getParameter("Relative Tolerance").setDblValue(rtol)
    method.getParameter("Absolute Tolerance").setDblValue(atol)
    method.getParameter("Max Internal Steps").setIntValue(1_000_000)
    if not task.process(True):
        raise SystemExit(f"COPASI time course failed: {task.getProcessError() or COPASI.CCopasiMessage.getAllMessageText()}")
    ts = task.getTimeSeries()
    column = {ts.getSBMLId(i, dm): i for i in range(ts.getNumVariables())}
    rows = range(ts.getRecordedSteps())
    times = np.array([ts.getConcentrationData(k, 0) for k in rows])
    out = np.array([[ts.getConcentrationData(k, column[n]) for n in names] for k in rows])
    keep = [int(np.argmin(np.abs(times - x))) for x in t]
    if not np.allclose(times[keep], t, rtol=0, atol=1e-9):
        raise SystemExit("COPASI did not report at the requested times")
    return out[keep]


if __name__ == "__main__":
    model, times, names, out = sys.argv[1:5]
    rtol, atol = (float(x) for x in sys.argv[5:7]) if len(sys.argv) > 5 else (1e-10, 1e-16)
    np.save(out, run(Path(model).read_text(encoding="utf-8"), np.load(times), json.loads(Path(names).read_text()), rtol, atol))
