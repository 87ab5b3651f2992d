"""Provenance: every fact and every number carries references (DOI/PMID) or a stated assumption."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: a reference key: ``doi:10.xxxx/…`` or ``pmid:12345678``
REF_PATTERN = re.compile(r"^(doi:10\.\d{4,9}/\S+|pmid:\d{5,9})$")


def check_refs(refs: list[str]) -> list[str]:
    """``refs`` unchanged, or ``ValueError`` naming the malformed keys."""
    bad = [r for r in refs if not REF_PATTERN.match(r)]
    if bad:
        raise ValueError(f"reference(s) {', '.join(map(repr, bad))} must look like 'doi:10.xxxx/…' or 'pmid:12345678'")
    return refs


class Sourced(BaseModel):
    """Base of every record that states something: ``refs`` or an ``assumption`` saying why, never neither."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    refs: list[str] = Field(default_factory=list, description="doi:… or pmid:… keys of the references table")
    assumption: str | None = Field(default=None, description="why the statement stands without a reference")

    _check_refs = field_validator("refs")(lambda cls, v: check_refs(v))

    def _label(self) -> str:
        """How an error names this record."""
        return "record"

    @model_validator(mode="after")
    def _has_provenance(self) -> Sourced:
        if not self.refs and not (self.assumption and self.assumption.strip()):
            raise ValueError(f"{self._label()} has neither 'refs' nor an 'assumption'")
        return self

    @property
    def source(self) -> str:
        """References, or the assumption, as one line."""
        return ", ".join(self.refs) if self.refs else f"assumption: {self.assumption}"


class Calibration(BaseModel):
    """How a fitted value was estimated: the estimate, its profile-likelihood 95 % interval and the data it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    estimate: float = Field(description="maximum-likelihood estimate, in the parameter's unit")
    ci95: tuple[float | None, float | None] = Field(
        description="profile-likelihood 95 % confidence interval (Raue et al. 2009); None: open on that side")
    problem: str = Field(description="the PEtab problem fitted, as a path in the repository")
    datasets: list[str] = Field(min_length=1, description="datasetIds of the measurements that determine it")

    @model_validator(mode="after")
    def _estimate_inside(self) -> Calibration:
        lo, hi = self.ci95
        if lo is None and hi is None:
            raise ValueError("calibration interval is open on both sides: the data do not identify the parameter; fix it instead")
        if (lo is not None and self.estimate < lo) or (hi is not None and self.estimate > hi):
            raise ValueError(f"calibration estimate {self.estimate:g} lies outside its 95 % interval {list(self.ci95)}")
        return self
