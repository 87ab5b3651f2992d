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
(cv, low, high factors; mean = nominal). Uniform draws come from ``scipy.stats.qmc`` (Latin
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

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cytonet.errors import ScenarioError, did_you_mean
from cytonet.model.spec import ModelSpec
from cytonet.provenance import check_refs

DEFAULT_VARIATION = "reference_default.yaml"


class Method(StrEnum):
    RANDOM = "random"
    LHS = "lhs"
    SOBOL = "sobol"


class Distribution(StrEnum):
    LOGNORMAL = "lognormal"
    UNIFORM = "uniform"
    TRUNCNORMAL = "truncnormal"


class Variation(BaseModel):
    """One group of parameters and how they vary between patients (factors of the nominal value)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    parameters: list[str] = Field(min_length=1, description="parameter IDs or glob patterns")
    unit: str | None = Field(None, description="only parameters with this unit")
    exclude: list[str] = Field(default_factory=list, description="IDs or patterns left out")
    distribution: Distribution
    cv: float | None = Field(None, gt=0, lt=3)
    low: float | None = Field(None, ge=0)
    high: float | None = Field(None, gt=0)
    refs: list[str] = Field(default_factory=list)
    assumption: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Variation:
        if not self.refs and not self.assumption:
            raise ValueError(f"variation of {self.parameters} has neither 'refs' nor an 'assumption' saying why")
        check_refs(self.refs)
        d = self.distribution
        if d in (Distribution.LOGNORMAL, Distribution.TRUNCNORMAL) and self.cv is None:
            raise ValueError(f"{d} variation of {self.parameters} needs 'cv'")
        if d in (Distribution.UNIFORM, Distribution.TRUNCNORMAL) and (self.low is None or self.high is None):
            raise ValueError(f"{d} variation of {self.parameters} needs 'low' and 'high' (factors of the nominal value)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"variation of {self.parameters}: need low < high, got {self.low} and {self.high}")
        if d == Distribution.TRUNCNORMAL and not (self.low < 1.0 < self.high):  # type: ignore[operator]
            raise ValueError(f"truncnormal variation of {self.parameters}: the nominal value (factor 1) must lie in (low, high)")
        return self

    def factors(self, u: np.ndarray) -> np.ndarray:
        """Multiplicative factors of the nominal value for uniform draws ``u`` in (0, 1)."""
        from scipy import stats

        if self.distribution == Distribution.LOGNORMAL:
            sigma = np.sqrt(np.log1p(self.cv**2))  # type: ignore[operator]
            return np.exp(-0.5 * sigma**2 + sigma * stats.norm.ppf(u))
        if self.distribution == Distribution.UNIFORM:
            return self.low + (self.high - self.low) * u  # type: ignore[operator]
        a, b = (self.low - 1.0) / self.cv, (self.high - 1.0) / self.cv  # type: ignore[operator]
        return 1.0 + self.cv * stats.truncnorm.ppf(u, a, b)  # type: ignore[operator]


class VariationFile(BaseModel):
    """A whole variation file: the sampling design and the parameter groups."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    description: str = ""
    method: Method = Method.LHS
    variations: list[Variation] = Field(min_length=1)


def load_variation(path: str | Path | None = None) -> VariationFile:
    """A variation file from ``path``, or the shipped default for the reference network."""
    from cytonet.errors import InputError, validation_message
    from cytonet.io import load_user_data

    if path is None:  # shipped with cytonet: trusted
        text = resources.files("cytonet.population").joinpath("data").joinpath(DEFAULT_VARIATION).read_text()
        return VariationFile.model_validate(yaml.safe_load(text))
    p = Path(path)
    if not p.exists():
        raise ScenarioError(f"variation file {str(p)!r} not found; give a YAML file with 'variations:' (see the shipped {DEFAULT_VARIATION})")
    try:
        data = load_user_data(p, "variation file")
    except InputError as err:
        raise ScenarioError(str(err)) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"variation file {p}: expected a mapping with 'variations:', got {type(data).__name__}; "
                            f"see the shipped {DEFAULT_VARIATION}")
    try:
        return VariationFile.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(validation_message(err, f"variation file {p}")) from None


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
    varied: Sequence[tuple[str, float, Variation]], method: Method, start: int, m: int, seed: int, partition: int
) -> dict[str, np.ndarray]:
    """Parameter values of rows ``start .. start + m - 1``: {parameter ID: values}.

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
