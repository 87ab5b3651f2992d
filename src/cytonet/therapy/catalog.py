"""Representative treated scenarios for the shipped-model catalog (libroadrunner cross-check)."""

from __future__ import annotations

from cytonet.model.spec import ModelSpec

#: (scenario, drug, labelled regimen overrides) covering TMDD, ligand binding, two-compartment PK and inhibition.
COMBINATIONS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("car-t-crs", "tocilizumab", {"start": "24h"}),
    ("lps-endotoxemia", "infliximab", {}),
    ("hlh", "emapalumab", {"start": "72h"}),
    ("sepsis-storm", "dexamethasone", {"start": "6h"}),
)


def treated_models() -> dict[str, ModelSpec]:
    """``{"therapy:<scenario>+<drug>": spec}`` for each representative combination."""
    from cytonet.scenarios import scenario_model
    from cytonet.therapy.pkpd import labelled_regimen, treat

    out = {}
    for scenario, drug, overrides in COMBINATIONS:
        spec, _rest = scenario_model(scenario)
        out[f"therapy:{scenario}+{drug}"] = treat(spec, drug, labelled_regimen(drug, **overrides))
    return out
