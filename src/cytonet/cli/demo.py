"""``cytonet demo``: a short tour of the knowledge base, and its export written to a folder."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cytonet.cli._console import console


def demo(out: Annotated[Path, typer.Option(help="folder for the knowledge-base export")] = Path("results/demo")) -> None:
    """Tour the knowledge base and export it to OUT.

    Shows cytokines per family, the IL-6 card, macrophage → Th17 signals and the drugs targeting IL-6R.
    """
    from cytonet.cli._render import talk_table
    from cytonet.cli.kb import card
    from cytonet.knowledge import load
    from cytonet.knowledge.export import export

    kb = load()
    families = Table(title="Cytokines per family", title_justify="left")
    families.add_column("family")
    families.add_column("count", justify="right")
    for fam, n in sorted(Counter(c.family.value for c in kb.cytokines()).items()):
        families.add_row(fam, str(n))
    console().print(families)
    console().print(f"{len(kb.cells())} cells, {len(kb.receptors())} receptors, {len(kb.pathways())} pathways, "
                  f"{len(kb.diseases())} diseases, {len(kb.drugs())} drugs, {len(kb.references())} references")
    console().print(card(kb.describe("IL-6")))
    mac, th17 = kb.cell("macrophage"), kb.cell("Th17")
    console().print(talk_table(kb.talk(mac.id, th17.id), mac.name, th17.name))
    drugs = kb.drugs_targeting("IL6R")
    console().print("Drugs targeting IL-6R: " + ", ".join(f"{d.name} ({d.mechanism.value})" for d in drugs))
    written = export(kb, "json", out / "kb.json") + export(kb, "graphml", out / "kb.graphml")
    written += export(kb, "csv", out / "csv")
    console().print(f"wrote {len(written)} files to {out}")
