"""Run an SBML file in COPASI (its Python bindings) and save what it reads at given times.

    python copasi_reference.py MODEL.xml TIMES.npy NAMES.json OUT.npy [RTOL ATOL]

Run as its own process: COPASI sets the C locale on import and keeps global state between
models, which must not leak into the test process. Species are read as concentrations, global
quantities (rate-rule states, observables) as values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def run(sbml: str, t: np.ndarray, names: list[str], rtol: float, atol: float) -> np.ndarray:
    import COPASI

    dm = COPASI.CRootContainer.addDatamodel()
    if not dm.importSBMLFromString(sbml):
        raise SystemExit(f"COPASI cannot import the model: {COPASI.CCopasiMessage.getAllMessageText()}")
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
