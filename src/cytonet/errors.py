"""The one error hierarchy of cytonet: every failure a user can cause is a ``CytonetError``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CytonetError(Exception):
    """Base class of all errors cytonet raises on purpose."""


class UnknownEntityError(CytonetError, KeyError):
    """A name or ID that the knowledge base, a model or a registry does not know."""

    def __init__(self, kind: str, name: str, suggestions: Iterable[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        msg = f"unknown {kind} {name!r}"
        if self.suggestions:
            if len(self.suggestions) == 1:
                msg += f"; did you mean {self.suggestions[0]}?"
            else:
                msg += "; did you mean " + ", ".join(self.suggestions[:-1]) + f" or {self.suggestions[-1]}?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class KnowledgeDataError(CytonetError):
    """A curated knowledge-base file that fails validation (names file, record and field)."""


class ModelSpecError(CytonetError):
    """A model specification that is malformed or inconsistent (names the element and the problem)."""


class SolverError(CytonetError):
    """The numerical integration failed; says when, where and what to try."""


class ScenarioError(CytonetError):
    """A scenario, protocol or override that cannot be applied."""


class TherapyError(CytonetError):
    """A drug, dose or regimen that cannot be applied."""


class InputError(CytonetError):
    """A user file or value cytonet refuses: unreadable, too large, too deep, not text, out of range."""


class OutputError(CytonetError):
    """An output path that cannot be written, or that holds files cytonet did not write."""


def validation_message(err: object, source: str) -> str:
    """The first problem of a pydantic ``ValidationError`` as one line (``source: field: message``), with a count of the rest."""
    problems = err.errors()  # type: ignore[attr-defined]
    if not problems:
        return f"{source}: invalid"
    first = problems[0]
    loc = ".".join(str(p) for p in first["loc"]) or "value"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{source}: {loc}: {first['msg']}{more}"


def close_matches(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Candidates closest to ``name`` (case-insensitive), best first."""
    cands = list(dict.fromkeys(candidates))
    lower = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=cutoff)
    return [lower[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str], otherwise: str = "") -> str:
    """A message's tail naming the close matches of ``name``: "; did you mean A or B?", else ``otherwise``."""
    sugg = close_matches(name, candidates)
    return f"; did you mean {' or '.join(sugg)}?" if sugg else otherwise
