"""libroadrunner runs for the benchmarks, set up so the comparison with cytonet is fair.

- Tolerances: libroadrunner 2.10 turns a scalar ``absolute_tolerance`` into a per-state vector
  scaled by each state's initial amount (P at 8.8e-30 gets 2.6e-41), so we set one tolerance per
  state instead. Its CVODE species states are amounts (concentration x compartment volume; the
  scalar rule gives a species that starts at 0 exactly atol x volume), so a cytonet tolerance
  ``atol[i]`` becomes ``atol[i] x volume`` for a species and ``atol[i]`` for a rate-rule variable. :func:`configure`
  reads the vector back from the integrator and fails if it is not what was asked.
- Instances: the first RoadRunner of a process runs slower than a second one built from the same
  SBML (measured ~1.6x on lps-endotoxemia), so every runner builds two and keeps the second, and
  runs one simulation before any timing.
- Pools: workers build and warm their instance in the pool initializer, and the pool is used once
  before the timed map, so process start, import and JIT are outside the timing; each worker
  reports its own CPU time, so CPU per run is measured, not inferred.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from cytonet.model.sbml import reported_states

_RUNNER = None  # this worker process's Runner


class Runner:
    """One warm, configured RoadRunner for one SBML model (the second instance built, unless ``second`` is False)."""

    def __init__(self, sbml: str, species: list[str], atol: np.ndarray, rtol: float, keep: frozenset[str] = frozenset(),
                 second: bool = True) -> None:
        import roadrunner

        if second:
            roadrunner.RoadRunner(sbml)  # the first instance of a process is the slow one
        self.rr = roadrunner.RoadRunner(sbml)
        self.state = reported_states(sbml)  # concentrations and rate-rule states, as cytonet reports them
        self.species = [s for s in species if s in self.state]
        self.keep = keep  # species left at their SBML initial value (e.g. a trigger dosed by an SBML event)
        configure(self.rr, dict(zip(species, atol)), rtol)
        self.rr.timeCourseSelections = ["time", *(self.state[s][0] for s in self.species)]
        self.rr.simulate(0.0, 1.0, 2)

    def runs(self, pids: list[str], values: np.ndarray, x0: np.ndarray, t_end: float, n_points: int) -> tuple[np.ndarray, float]:
        """Runs with parameter rows ``values`` (columns ``pids``) from states ``x0`` (columns in ``species``
        order given to the constructor); returns (outputs (run, time, species), CPU seconds)."""
        rr = self.rr
        out = np.empty((len(values), n_points, len(self.species)))
        c0 = time.process_time()
        for i, row in enumerate(values):
            rr.resetAll()
            for pid, v in zip(pids, row):
                rr[pid] = v
            for j, sid in enumerate(self.species):  # the state at t = 0 (setting init() values regenerates the model)
                if sid not in self.keep:
                    rr[self.state[sid][0]] = x0[i, j]
            out[i] = np.asarray(rr.simulate(0.0, t_end, n_points))[:, 1:]
        return out, time.process_time() - c0


def states(rr: object) -> list[str]:
    """The integrator's states in the order of its tolerance vector: floating species, then rate-rule variables
    (cytonet states that are not amounts of matter are exported as parameters with rate rules)."""
    model = rr.model  # type: ignore[attr-defined]
    return [*model.getFloatingSpeciesIds(), *model.getRateRuleSymbols()]


def configure(rr: object, atol: dict[str, float], rtol: float) -> None:
    """Per-state absolute tolerances (species: concentration x compartment volume, an amount; rate-rule
    variables: cytonet's number itself) and rtol; checked by reading the integrator's vector back."""
    import libsbml

    ig = rr.integrator  # type: ignore[attr-defined]
    ig.relative_tolerance = rtol
    model = rr.model  # type: ignore[attr-defined]
    volume = dict(zip(model.getCompartmentIds(), model.getCompartmentVolumes()))
    sbml_model = libsbml.readSBMLFromString(rr.getSBML()).getModel()  # type: ignore[attr-defined]
    species = set(model.getFloatingSpeciesIds())
    ids = states(rr)
    want = np.array([atol[sid] * (volume[sbml_model.getSpecies(sid).getCompartment()] if sid in species else 1.0) for sid in ids])
    for sid, a in zip(ids, want):
        ig.setIndividualTolerance(sid, float(a))
    got = np.asarray(ig.getAbsoluteToleranceVector(), float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=0.0):
        raise RuntimeError(f"roadrunner absolute tolerances not applied: asked {want[:5]}..., integrator holds {got[:5]}...")


def _init(sbml: str, species: list[str], atol: np.ndarray, rtol: float, keep: frozenset[str]) -> None:
    global _RUNNER
    _RUNNER = Runner(sbml, species, atol, rtol, keep)


def _ready(_: int) -> bool:
    time.sleep(0.3)  # long enough that every worker of the pool takes one
    return _RUNNER is not None


def _work(args: tuple) -> tuple[np.ndarray, float]:
    assert _RUNNER is not None
    return _RUNNER.runs(*args)


def pool_runs(sbml: str, species: list[str], atol: np.ndarray, rtol: float, pids: list[str], values: np.ndarray,
              x0: np.ndarray, t_end: float, n_points: int, workers: int = 2, keep: frozenset[str] = frozenset(),
              ) -> tuple[np.ndarray, float, float]:
    """The runs on a warm pool of ``workers`` processes: (outputs, wall seconds of the timed map, CPU seconds of all workers)."""
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(sbml, species, atol, rtol, keep)) as pool:
        assert all(pool.map(_ready, range(2 * workers)))
        chunks = np.array_split(np.arange(len(values)), 4 * workers)
        t0 = time.perf_counter()
        done = list(pool.map(_work, [(pids, values[c], x0[c], t_end, n_points) for c in chunks]))
        wall = time.perf_counter() - t0
    return np.concatenate([d[0] for d in done]), wall, sum(d[1] for d in done)


def rel_errors(ours: np.ndarray, ref: np.ndarray, atol: np.ndarray) -> np.ndarray:
    """Per-run max relative error of (run, time, species) outputs; the denominator is floored at 1e-3 x the
    run's species max and at atol, so tolerance-level noise in a state near zero does not count."""
    smax = np.abs(ref).max(axis=1, keepdims=True)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), np.maximum(1e-3 * smax, atol))
    return np.nan_to_num(rel.reshape(len(rel), -1).max(axis=1), nan=np.inf)
