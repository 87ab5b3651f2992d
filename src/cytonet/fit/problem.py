"""A PEtab problem read with the ``petab`` library: tables, the model, and the parameter vector.

PEtab v1 problems (``sbml_files``) and v2 problems whose tables keep the v1 layout (``model_files``
with ``language``) are read. The model is an SBML file (through :func:`cytonet.model.load_sbml`)
or a cytonet model spec (``.yaml``/``.yml``/``.json``, language ``cytonet``); either way it becomes
one :class:`~cytonet.model.spec.ModelSpec` run by cytonet's engine.

Parameters: every row of the parameter table has an ID, a scale (lin, log, log10), bounds, a
nominal value and an estimate flag; estimated parameters form the optimisation vector ``x`` on
their scales, in table order. Objective priors (``objectivePriorType``) are evaluated with
``petab.v1.priors.Prior``; starts are drawn from the initialisation priors (default: uniform on
the parameter scale within the bounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cytonet.errors import CytonetError, did_you_mean


class PetabError(CytonetError):
    """A PEtab problem that cannot be read or is inconsistent (names file, row and field)."""


SCALES = ("lin", "log", "log10")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def scale(values: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Linear values -> parameter scale (elementwise by ``scales`` of 'lin' | 'log' | 'log10')."""
    v = np.asarray(values, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scales == "log", np.log(v), np.where(scales == "log10", np.log10(v), v))


def unscale(x: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Parameter scale -> linear values."""
    x = np.asarray(x, float)
    return np.where(scales == "log", np.exp(x), np.where(scales == "log10", 10.0 ** x, x))


@dataclass
class ParameterTable:
    """The PEtab parameter table as arrays (all rows, estimated or fixed)."""

    ids: list[str]
    scales: np.ndarray  # object array of 'lin' | 'log' | 'log10'
    lower: np.ndarray  # linear scale
    upper: np.ndarray
    nominal: np.ndarray
    estimate: np.ndarray  # bool
    rows: list[dict[str, Any]] = field(repr=False)

    @property
    def free(self) -> np.ndarray:
        """Indices of estimated parameters (the order of the optimisation vector)."""
        return np.flatnonzero(self.estimate)

    @property
    def free_ids(self) -> list[str]:
        return [self.ids[i] for i in self.free]

    def index(self, pid: str) -> int:
        try:
            return self.ids.index(pid)
        except ValueError:
            raise PetabError(f"parameter {pid!r} is not in the parameter table"
                             + did_you_mean(pid, self.ids)) from None

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the estimated parameters on their scales."""
        f = self.free
        return scale(self.lower[f], self.scales[f]), scale(self.upper[f], self.scales[f])

    def nominal_x(self) -> np.ndarray:
        """The estimated parameters' nominal values on their scales."""
        f = self.free
        return scale(self.nominal[f], self.scales[f])

    def values(self, x: np.ndarray) -> np.ndarray:
        """All parameter values (linear) with the estimated ones taken from ``x`` (on scale); ``x`` may be (k, n_free)."""
        x = np.asarray(x, float)
        out = np.broadcast_to(self.nominal, (*x.shape[:-1], len(self.ids))).copy()
        f = self.free
        out[..., f] = unscale(x, self.scales[f])
        return out


def _parameter_table(df: Any, where: str) -> ParameterTable:
    from petab.v1 import C

    need = [C.PARAMETER_SCALE, C.LOWER_BOUND, C.UPPER_BOUND, C.NOMINAL_VALUE, C.ESTIMATE]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise PetabError(f"{where}: parameter table lacks column(s) {missing}")
    rows = [dict(r, **{C.PARAMETER_ID: pid}) for pid, r in df.iterrows()]
    scales = np.asarray([str(r[C.PARAMETER_SCALE]) for r in rows], dtype=object)
    for pid, s in zip(df.index, scales):
        if s not in SCALES:
            raise PetabError(f"{where}: parameter {pid!r} has parameterScale {s!r}; use one of {list(SCALES)}")
    est = np.asarray([int(r[C.ESTIMATE]) == 1 for r in rows])
    nominal = np.asarray([float(r[C.NOMINAL_VALUE]) for r in rows])
    lower = np.asarray([float(r[C.LOWER_BOUND]) if est[i] else -np.inf for i, r in enumerate(rows)])
    upper = np.asarray([float(r[C.UPPER_BOUND]) if est[i] else np.inf for i, r in enumerate(rows)])
    for i, pid in enumerate(df.index):
        if est[i]:
            if not lower[i] < upper[i]:
                raise PetabError(f"{where}: parameter {pid!r} has lowerBound {lower[i]} >= upperBound {upper[i]}")
            if scales[i] != "lin" and lower[i] <= 0:
                raise PetabError(f"{where}: parameter {pid!r} on {scales[i]} scale needs lowerBound > 0, got {lower[i]}")
        elif not np.isfinite(nominal[i]):
            raise PetabError(f"{where}: fixed parameter {pid!r} has no finite nominalValue")
    return ParameterTable(list(map(str, df.index)), scales, lower, upper, nominal, est, rows)


@dataclass
class PetabProblem:
    """One PEtab problem: its tables (pandas), the model spec and the parameter table."""

    path: Path
    format_version: str
    spec: Any  # cytonet.model.spec.ModelSpec
    model_path: Path
    model_language: str  # 'sbml' | 'cytonet'
    conditions: Any  # DataFrame indexed by conditionId
    measurements: Any
    observables: Any  # DataFrame indexed by observableId
    parameters: ParameterTable
    aliases: dict[str, str] = field(default_factory=dict)  # PEtab v2 mapping table: PEtab ID -> model ID
    info: Any = None  # cytonet.fit.model.ModelInfo, the compiled model (set by load_problem)

    @property
    def name(self) -> str:
        return self.path.stem

    def objective_priors(self) -> list[tuple[int, Any]]:
        """(position in x, petab Prior) for each estimated parameter with an objective prior."""
        from petab.v1 import C
        from petab.v1.priors import Prior

        out = []
        for j, i in enumerate(self.parameters.free):
            row = self.parameters.rows[i]
            t = row.get(C.OBJECTIVE_PRIOR_TYPE)
            if isinstance(t, str) and t.strip():
                out.append((j, Prior.from_par_dict(row, type_="objective", _bounds_truncate=False)))
        return out

    def sample_starts(self, n: int, seed: int) -> np.ndarray:
        """``n`` start points (n, n_free) on the parameter scale from the initialisation priors, clipped to the bounds."""
        from petab.v1.priors import Prior

        rng_seed = np.random.default_rng(seed)
        lb, ub = self.parameters.bounds()
        cols = []
        for j, i in enumerate(self.parameters.free):
            prior = Prior.from_par_dict(self.parameters.rows[i], type_="initialization")
            np.random.seed(int(rng_seed.integers(2**31)))  # petab samples from numpy's global generator
            cols.append(np.clip(np.asarray(prior.sample(n, x_scaled=True), float), lb[j], ub[j]))
        return np.column_stack(cols) if cols else np.zeros((n, 0))


def _files(problem: dict, key: str, base: Path, where: str) -> list[Path]:
    files = problem.get(key) or []
    if isinstance(files, str):
        files = [files]
    return [base / f for f in files]


def _read_tables(paths: list[Path], reader: Any, kind: str, where: str) -> Any:
    import pandas as pd

    if not paths:
        raise PetabError(f"{where}: no {kind} file given")
    frames = []
    for p in paths:
        if not p.is_file():
            raise PetabError(f"{where}: {kind} file {p.name!r} not found next to the problem file")
        try:
            frames.append(reader(p))
        except (ValueError, KeyError) as err:
            raise PetabError(f"{p}: cannot read the {kind} table ({err})") from None
    return frames[0] if len(frames) == 1 else pd.concat(frames)


def _model_file(problem: dict, base: Path, where: str) -> tuple[Path, str]:
    """(path, language) of the problem's single model."""
    if problem.get("model_files"):
        models = problem["model_files"]
        if len(models) != 1:
            raise PetabError(f"{where}: {len(models)} model files; cytonet fits problems with one model")
        entry = next(iter(models.values()))
        path, lang = base / entry["location"], str(entry.get("language", "sbml")).lower()
    else:
        sbml = _files(problem, "sbml_files", base, where)
        if len(sbml) != 1:
            raise PetabError(f"{where}: need exactly one model in sbml_files, got {len(sbml)}")
        path = sbml[0]
        lang = "cytonet" if path.suffix.lower() in SPEC_SUFFIXES else "sbml"
    if lang not in ("sbml", "cytonet"):
        raise PetabError(f"{where}: model language {lang!r} is not supported; use an SBML file or a cytonet model spec")
    if not path.is_file():
        raise PetabError(f"{where}: model file {path.name!r} not found")
    return path, lang


def _load_model(path: Path, lang: str) -> Any:
    if lang == "cytonet":
        from cytonet.model.spec import load_spec

        return load_spec(path)
    try:
        from cytonet.model.sbml_import import load_sbml  # type: ignore[import-not-found]
    except ImportError:
        raise PetabError(f"{path}: reading SBML models needs cytonet's SBML importer (cytonet.model.sbml_import), "
                         "which this installation lacks; give the model as a cytonet model spec") from None
    return load_sbml(_without_graphics(path))


#: SBML packages that only draw the model (no semantics): dropped before import
GRAPHICS_PACKAGES = ("layout", "render")


def _without_graphics(path: Path) -> Path:
    """``path``, or a copy without the layout/render packages, which only draw the model.

    libsbml attaches those packages to every Level 2 document it reads; the copy is the document
    converted by libsbml to Level 3 Version 2, where they are absent unless the file used them.
    """
    import tempfile

    import libsbml

    doc = libsbml.readSBMLFromFile(str(path))
    names = {doc.getPlugin(i).getPackageName() for i in range(doc.getNumPlugins())}
    if not names & set(GRAPHICS_PACKAGES):
        return path
    if doc.getLevel() < 3 and not doc.setLevelAndVersion(3, 2, False):
        raise PetabError(f"{path}: libsbml cannot convert this Level {doc.getLevel()} model to Level 3 for import")
    for i in reversed(range(doc.getNumPlugins())):
        pl = doc.getPlugin(i)
        if pl.getPackageName() in GRAPHICS_PACKAGES:
            doc.disablePackage(pl.getURI(), pl.getPackageName())
    out = Path(tempfile.mkdtemp(prefix="cytonet-sbml-")) / path.name
    libsbml.writeSBMLToFile(doc, str(out))
    return out


def load_problem(yaml_path: str | Path) -> PetabProblem:
    """Read a PEtab problem (its YAML file) and its model; every table goes through ``petab``'s readers."""
    import petab.v1 as pv1

    from cytonet.errors import InputError
    from cytonet.io import load_user_data

    path = Path(yaml_path)
    if not path.is_file():
        raise PetabError(f"{path}: PEtab problem file not found")
    try:  # a user file: the size, depth and alias limits of every user YAML
        cfg = load_user_data(path, "PEtab problem")
    except InputError as err:
        raise PetabError(str(err)) from None
    if not isinstance(cfg, dict) or "problems" not in cfg:
        raise PetabError(f"{path}: not a PEtab problem file (no 'problems' entry)")
    version = str(cfg.get("format_version", "1"))
    if not (version.startswith("1") or version.startswith("2")):
        raise PetabError(f"{path}: PEtab format_version {version!r}; cytonet reads 1 and 2")
    if len(cfg["problems"]) != 1:
        raise PetabError(f"{path}: {len(cfg['problems'])} sub-problems; cytonet fits one at a time")
    prob = cfg["problems"][0]
    base = path.parent
    where = str(path)
    if prob.get("experiment_files"):
        raise PetabError(f"{where}: PEtab v2 experiment tables are not supported yet; use condition and measurement tables in the v1 layout")
    model_path, lang = _model_file(prob, base, where)
    spec = _load_model(model_path, lang)
    conditions = _read_tables(_files(prob, "condition_files", base, where), pv1.get_condition_df, "condition", where)
    measurements = _read_tables(_files(prob, "measurement_files", base, where), pv1.get_measurement_df, "measurement", where)
    observables = _read_tables(_files(prob, "observable_files", base, where), pv1.get_observable_df, "observable", where)
    pfile = cfg.get("parameter_file")
    pfiles = [base / f for f in ([pfile] if isinstance(pfile, str) else (pfile or []))]
    params_df = _read_tables(pfiles, pv1.get_parameter_df, "parameter", where)
    aliases = {}
    mfiles = _files(prob, "mapping_files", base, where)
    if mfiles:
        from petab.v1.mapping import get_mapping_df

        mdf = _read_tables(mfiles, get_mapping_df, "mapping", where)
        aliases = {str(k): str(v) for k, v in mdf["modelEntityId"].items() if str(k) != str(v)}
    problem = PetabProblem(path, version, spec, model_path, lang, conditions, measurements, observables,
                           _parameter_table(params_df, where), aliases)
    from cytonet.fit.mapping import build_layout
    from cytonet.fit.model import model_info

    problem.info = model_info(spec)
    build_layout(problem, problem.info)  # every cross-reference checked now
    return problem
