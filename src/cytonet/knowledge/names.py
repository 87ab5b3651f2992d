"""Name normalisation for look-ups: case-, punctuation- and Greek-letter-insensitive keys."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

_GREEK = {
    "α": "a", "β": "b", "γ": "g", "δ": "d", "κ": "k", "λ": "l", "ω": "w",
    "alpha": "a", "beta": "b", "gamma": "g", "delta": "d", "kappa": "k", "lambda": "l", "omega": "w",
}  # fmt: skip
_GREEK_RE = re.compile("|".join(sorted(map(re.escape, _GREEK), key=len, reverse=True)))
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(name: str) -> str:
    """Look-up key of ``name``: 'TNF-α', 'TNF alpha', 'tnfa' and 'Interleukin 6'/'IL-6' pairwise agree."""
    key = _GREEK_RE.sub(lambda m: _GREEK[m.group(0)], name.lower())
    key = key.replace("interleukin", "il")
    return _NON_ALNUM.sub("", key)


def suggest(name: str, keys: Mapping[str, str], n: int = 3) -> list[str]:
    """Display names whose look-up keys are closest to ``name`` (``keys``: key -> display name)."""
    hits = difflib.get_close_matches(normalize(name), list(keys), n=4 * n, cutoff=0.6)
    return list(dict.fromkeys(keys[h] for h in hits))[:n]
