"""The LPS protocol options shared by ``simulate``, ``treat`` and ``population``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cytonet.scenarios import Scenario

LpsOption = Annotated[list[str] | None, typer.Option(
    "--lps", help="LPS bolus DOSE[@TIME], e.g. 2ng/kg or 2ng/kg@24h (repeatable; replaces the scenario's own LPS)")]
LpsInfusionOption = Annotated[str | None, typer.Option(
    "--lps-infusion", help="continuous LPS infusion RATE[@START], e.g. 0.5ng/kg/h (needs --for)")]
ForOption = Annotated[str | None, typer.Option("--for", help="length of the LPS infusion, e.g. 4h")]


def apply_lps(sc: Scenario, lps: list[str] | None, infusion: str | None, duration: str | None,
              hours: float | None = None, weight_kg: float = 70.0) -> Scenario:
    """The scenario with the options' LPS protocol (unchanged when no LPS option was given)."""
    from cytonet.scenarios import parse_lps, with_lps
    from cytonet.scenarios.lps import check_horizon

    protocol = parse_lps(lps or [], infusion, duration, weight_kg=weight_kg)
    if protocol is None:
        return sc
    check_horizon(protocol, float(hours or sc.t_end))
    return with_lps(sc, protocol)
