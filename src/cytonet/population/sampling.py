"""Parameter variation of a virtual population: distributions from a variation file, sampled by design.

A variation file (YAML) lists groups of network parameters (glob patterns over parameter IDs,
optionally filtered by unit), each with a distribution *relative to the host's nominal value* and
its reason (``refs`` or ``assumption``)::

    method: lhs                       # random | lhs | sobol
    variations:
      - parameters: ["k_*_clear"]
        unit: 1/h
        distribution: lognormal       # mean = nominal, coefficient of variation cv
        cv: 0.25
        assumption: "why"

Distributions: ``lognormal`` (cv; mean = nominal), ``uniform`` (low, high factors), ``truncnormal``
(cv, low, high factors; mean = nominal), ``levels`` (discrete factors with weights, e.g. a trial's
dose levels). Besides parameters, a file may vary the amount of a scenario's dosing events per patient
(a bolus's amount, an infusion's rate), as factors of the scenario's own value::

    events:
      - event: car_t_infusion         # an event id of the scenario (or lps_bolus1 ... of --lps)
        distribution: levels
        levels: [0.1, 1.0, 10.0]
        weights: [35, 86, 12]         # relative; need not sum to 1
        refs: ["doi:..."]

``extends: <shipped file>`` puts the groups of a shipped variation file before the file's own
(``--vary`` also takes a shipped file by name, without ``.yaml``). Uniform draws come from ``scipy.stats.qmc`` (Latin
hypercube, scrambled Sobol) or a plain generator and are mapped through the inverse CDFs.
Draws are made per partition so memory stays bounded: ``random`` and ``lhs`` use a seed derived
from (seed, partition) (with ``lhs`` each partition is a Latin hypercube of its own rows); ``sobol``
fast-forwards one scrambled sequence to the partition's first row, so the whole design is one
Sobol sequence whatever the partition size.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cytonet.errors import ScenarioError, did_you_mean
from cytonet.model.spec import ModelSpec
from cytonet.provenance import check_refs

if TYPE_CHECKING:
    from cytonet.model.compile import CompiledModel

DEFAULT_VARIATION = "reference_default.yaml"


class Method(StrEnum):
    RANDOM = "random"
    LHS = "lhs"
    SOBOL = "sobol"


class Distribution(StrEnum):
    LOGNORMAL = "lognormal"
    UNIFORM = "uniform"
    TRUNCNORMAL = "truncnormal"
    LEVELS = "levels"


class _Spread(BaseModel):
    """A distribution of factors of a nominal value, and why it is what it is."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    distribution: Distribution
    cv: float | None = Field(None, gt=0, lt=3)
    low: float | None = Field(None, ge=0)
    high: float | None = Field(None, gt=0)
    levels: list[float] | None = Field(None, min_length=1, description="factors of the nominal value (distribution: levels)")
    weights: list[float] | None = Field(None, description="relative weight of each level (default: equal)")
    refs: list[str] = Field(default_factory=list)
    assumption: str | None = None

    def _label(self) -> str:
        raise NotImplementedError

    @model_validator(mode="after")
    def _check(self) -> _Spread:
        what = self._label()
        if not self.refs and not self.assumption:
            raise ValueError(f"{what} has neither 'refs' nor an 'assumption' saying why")
        check_refs(self.refs)
        d = self.distribution
        if (d == Distribution.LEVELS) != (self.levels is not None) or (self.weights is not None and d != Distribution.LEVELS):
            raise ValueError(f"{what}: 'levels' (and 'weights') go with distribution 'levels' and only with it")
        if d == Distribution.LEVELS:
            assert self.levels is not None
            if any(v < 0 for v in self.levels):
                raise ValueError(f"{what}: levels are factors of the nominal value and must be >= 0, got {self.levels}")
            w = self.weights
            if w is not None and (len(w) != len(self.levels) or any(x < 0 for x in w) or not sum(w) > 0):
                raise ValueError(f"{what}: need one non-negative weight per level ({len(self.levels)}), not all zero; got {w}")
        if d in (Distribution.LOGNORMAL, Distribution.TRUNCNORMAL) and self.cv is None:
            raise ValueError(f"{d} {what} needs 'cv'")
        if d in (Distribution.UNIFORM, Distribution.TRUNCNORMAL) and (self.low is None or self.high is None):
            raise ValueError(f"{d} {what} needs 'low' and 'high' (factors of the nominal value)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"{what}: need low < high, got {self.low} and {self.high}")
        if d == Distribution.TRUNCNORMAL and not (self.low < 1.0 < self.high):  # type: ignore[operator]
            raise ValueError(f"truncnormal {what}: the nominal value (factor 1) must lie in (low, high)")
        return self

    def factors(self, u: np.ndarray) -> np.ndarray:
        """Multiplicative factors of the nominal value for uniform draws ``u`` in (0, 1)."""
        from scipy import stats

        if self.distribution == Distribution.LEVELS:  # the inverse CDF of the discrete distribution
            assert self.levels is not None
            w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.levels), float)
            edges = np.cumsum(w)[:-1] / w.sum()
            return np.asarray(self.levels, float)[np.searchsorted(edges, u, side="right")]
        if self.distribution == Distribution.LOGNORMAL:
            sigma = np.sqrt(np.log1p(self.cv**2))  # type: ignore[operator]
            return np.exp(-0.5 * sigma**2 + sigma * stats.norm.ppf(u))
        if self.distribution == Distribution.UNIFORM:
            return self.low + (self.high - self.low) * u  # type: ignore[operator]
        a, b = (self.low - 1.0) / self.cv, (self.high - 1.0) / self.cv  # type: ignore[operator]
        return 1.0 + self.cv * stats.truncnorm.ppf(u, a, b)  # type: ignore[operator]


class Variation(_Spread):
    """One group of parameters and how they vary between patients (factors of the nominal value)."""

    parameters: list[str] = Field(min_length=1, description="parameter IDs or glob patterns")
    unit: str | None = Field(None, description="only parameters with this unit")
    exclude: list[str] = Field(default_factory=list, description="IDs or patterns left out")

    def _label(self) -> str:
        return f"variation of {self.parameters}"


class EventVariation(_Spread):
    """How one dosing event's amount (a bolus's amount, an infusion's rate) varies between patients (factors)."""

    event: str = Field(description="event id of the scenario (or of its --lps protocol)")

    def _label(self) -> str:
        return f"variation of event {self.event!r}"


class VariationFile(BaseModel):
    """A whole variation file: the sampling design, the parameter groups and the varied event amounts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    description: str = ""
    method: Method = Method.LHS
    variations: list[Variation] = Field(default_factory=list)
    events: list[EventVariation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> VariationFile:
        if not self.variations and not self.events:
            raise ValueError("a variation file needs 'variations:' (parameters) or 'events:' (event amounts)")
        seen = [e.event for e in self.events]
        if len(set(seen)) != len(seen):
            raise ValueError(f"events: each event is varied once, got {seen}")
        return self


def shipped_variations() -> list[str]:
    """Names of the variation files shipped with cytonet (without ``.yaml``)."""
    folder = resources.files("cytonet.population").joinpath("data")
    return sorted(e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml"))


def _shipped(name: str) -> VariationFile:
    """A shipped variation file by name (trusted: read with the plain YAML loader)."""
    text = resources.files("cytonet.population").joinpath("data").joinpath(f"{name}.yaml").read_text()
    return _validated(yaml.safe_load(text), f"shipped variation file {name}")


def load_variation(path: str | Path | None = None) -> VariationFile:
    """A variation file from ``path`` or a shipped one by name (default: the shipped reference variation)."""
    from cytonet.errors import InputError
    from cytonet.io import load_user_data

    shipped = shipped_variations()
    if path is None:
        return _shipped(DEFAULT_VARIATION.removesuffix(".yaml"))
    p = Path(path)
    if not p.exists():
        if str(path).removesuffix(".yaml") in shipped:
            return _shipped(str(path).removesuffix(".yaml"))
        raise ScenarioError(f"variation file {str(p)!r} not found; give a YAML file with 'variations:' or the name of a "
                            f"shipped one ({', '.join(shipped)}){did_you_mean(str(path), shipped)}")
    try:
        data = load_user_data(p, "variation file")
    except InputError as err:
        raise ScenarioError(str(err)) from None
    return _validated(data, f"variation file {p}")


def _validated(data: object, where: str) -> VariationFile:
    """A variation file's data validated, with the groups of the shipped file it ``extends`` put first."""
    from cytonet.errors import validation_message

    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping with 'variations:', got {type(data).__name__}; "
                            f"see the shipped {DEFAULT_VARIATION}")
    if "extends" in data:
        data = dict(data)
        name, shipped = str(data.pop("extends")).removesuffix(".yaml"), shipped_variations()
        if name not in shipped:
            raise ScenarioError(f"{where}: extends {name!r}, which is no shipped variation file"
                                f"{did_you_mean(name, shipped, '; shipped: ' + ', '.join(shipped))}")
        base = _shipped(name).model_dump(mode="json", exclude_defaults=True)
        data = {**base, **data, "variations": [*base.get("variations", []), *data.get("variations", [])],
                "events": [*base.get("events", []), *data.get("events", [])]}
    try:
        return VariationFile.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(validation_message(err, where)) from None


def resolve(vf: VariationFile, spec: ModelSpec) -> list[tuple[str, float, Variation]]:
    """(parameter ID, nominal value, variation) for every varied parameter, in spec order.

    Each parameter belongs to the first group that matches it; a pattern matching nothing is an error.
    """
    params = [(p.id, float(p.value), p.unit) for p in spec.parameters]
    owner: dict[str, Variation] = {}
    for var in vf.variations:
        for pattern in var.parameters:
            hits = [pid for pid, _, unit in params if fnmatch.fnmatchcase(pid, pattern)
                    and (var.unit is None or unit == var.unit)
                    and not any(fnmatch.fnmatchcase(pid, x) for x in var.exclude)]
            if not hits:
                unit = f" with unit {var.unit!r}" if var.unit else ""
                otherwise = "; check the IDs with 'cytonet model' or remove the pattern"
                hint = otherwise if any(c in pattern for c in "*?[") else did_you_mean(pattern, [pid for pid, _, _ in params], otherwise)
                raise ScenarioError(f"variation pattern {pattern!r}{unit} matches no parameter of model {spec.id!r}{hint}")
            for pid in hits:
                owner.setdefault(pid, var)
    return [(pid, value, owner[pid]) for pid, value, _ in params if pid in owner]


def resolve_events(vf: VariationFile, cm: CompiledModel) -> list[tuple[str, float, EventVariation]]:
    """(batch column ``<event>.amount`` or ``<event>.rate``, the model's own value, variation) per varied event.

    A bolus varies its amount, an infusion its rate; an event the compiled model ``cm`` lacks is an error naming the
    close matches among its events.
    """
    rates = {eid: cm.inf_rate[i] for i, eid in enumerate(cm.infusion_ids) if cm.infusion_ids.count(eid) == 1}
    out = []
    for var in vf.events:
        if var.event in cm.bolus_ids:
            out.append((f"{var.event}.amount", float(cm.bolus_amount[cm.bolus_ids.index(var.event)]), var))
        elif var.event in rates:
            out.append((f"{var.event}.rate", float(rates[var.event]), var))
        else:
            known = [*cm.bolus_ids, *rates]
            piecewise = " (a piecewise input has several rates and cannot be varied as one)" if var.event in cm.infusion_ids else ""
            raise ScenarioError(f"variation of event {var.event!r}: model {cm.model_id!r} has no bolus or infusion of that id"
                                f"{piecewise}{did_you_mean(var.event, known)}; its events: {', '.join(known) or 'none'}")
    return out


def uniform_design(method: Method, d: int, start: int, m: int, seed: int, partition: int) -> np.ndarray:
    """``m`` points in (0, 1)^d for rows ``start .. start + m - 1`` of the population."""
    from scipy.stats import qmc

    if method == Method.SOBOL:
        sob = qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed))
        if start:
            sob.fast_forward(start)
        with warnings.catch_warnings():  # balance properties need powers of two; any length is still a valid design
            warnings.simplefilter("ignore", UserWarning)
            u = sob.random(m)
    else:
        rng = np.random.default_rng(np.random.SeedSequence([seed, partition]))
        u = qmc.LatinHypercube(d, seed=rng).random(m) if method == Method.LHS else rng.random((m, d))
    return np.clip(u, 1e-12, 1 - 1e-12)


def sample(
    varied: Sequence[tuple[str, float, _Spread]], method: Method, start: int, m: int, seed: int, partition: int
) -> dict[str, np.ndarray]:
    """Values of rows ``start .. start + m - 1``: {parameter ID or event column: values}.

    The factors of all parameters of one variation group come from one call (the quantile functions
    work element by element, so the values are those of one call per parameter, at a tenth of the cost)."""
    u = uniform_design(method, len(varied), start, m, seed, partition)
    groups: dict[int, list[int]] = {}
    for j, (_, _, var) in enumerate(varied):
        groups.setdefault(id(var), []).append(j)
    factor = np.empty_like(u)
    for cols in groups.values():
        factor[:, cols] = varied[cols[0]][2].factors(u[:, cols])
    return {pid: nominal * factor[:, j] for j, (pid, nominal, _) in enumerate(varied)}
