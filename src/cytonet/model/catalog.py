"""Discover every model spec shipped with cytonet (for tests that must loop over all of them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from cytonet.model.spec import ModelSpec, load_spec

PACKAGE_ROOT = Path(__file__).resolve().parents[1]

def _scenario_models() -> dict[str, ModelSpec]:
    from cytonet.scenarios import _catalog

    return _catalog()


def _treated_models() -> dict[str, ModelSpec]:
    from cytonet.therapy.catalog import treated_models

    return treated_models()


#: Providers of models that are not plain files: callables returning {name: ModelSpec}.
PROVIDERS: list[Callable[[], dict[str, ModelSpec]]] = [_scenario_models, _treated_models]


def _is_model_file(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "species" in data and "reactions" in data


def shipped_models() -> dict[str, ModelSpec]:
    """Every ``src/cytonet/**/*.yaml`` whose top level has ``species`` and ``reactions``, plus provider models.

    Keys are paths relative to the package (or the provider's names); a file that is present but
    invalid raises ``ModelSpecError`` rather than being skipped.
    """
    found: dict[str, ModelSpec] = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.yaml")):
        if _is_model_file(path):
            found[str(path.relative_to(PACKAGE_ROOT))] = load_spec(path)
    for provider in PROVIDERS:
        found.update(provider())
    return found
