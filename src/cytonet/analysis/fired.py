"""The "network of what fired": reactions whose time-averaged flux rose most over the resting flux.

Fluxes are exact: the compiled model's own right-hand-side kernel is called with a stoichiometry
that sends reaction ``r``'s rate to slot ``r`` (identity matrix), so every rate law is evaluated as
the solver sees it. Rates of one spec reaction's lowered parts (binding forward/reverse, delay-chain
stages) are summed. Resting fluxes are taken at the spec's initial state (the host at rest, before
any t = 0 dose). Reactions are ranked by their excess turnover: (mean flux over the run - resting
flux) divided by the peak level of the species the reaction makes (or removes), in 1/h, so a rise
counts by how much of that species' pool it moves rather than by its unit, and a large relative
rise of a negligible flux ranks low. ``log10_fold`` (mean over resting flux, resting flux floored at
1e-6 of the mean) is reported beside it; reactions must at least double (``MIN_FOLD``).

Edges point from each species that drives a reaction (reactants, modifiers, activating regulators;
inhibitory and capacity regulators are left out) to the species it makes (``+``), or, for a reaction
with no product, to the species it removes (``-``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import did_you_mean
from cytonet.model.spec import ModelSpec, Reaction, RegulatorKind

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr

    from cytonet.model.compile import CompiledModel

#: reactions shown in the graph (highest rise first)
TOP_REACTIONS = 25
#: a reaction must at least double its mean flux over rest to be shown
MIN_FOLD = 2.0
_FLOOR = 1e-6
_PASSIVE = {RegulatorKind.HILL_INHIBITION, RegulatorKind.CAPACITY}


@dataclass(frozen=True)
class Rise:
    """One spec reaction: resting and mean flux, log10 of their ratio, excess turnover of its target (1/h)."""

    reaction: str
    rest: float
    mean: float
    log10_fold: float
    turnover: float


def _part_rates(spec: ModelSpec, ds: xr.Dataset) -> tuple[CompiledModel, np.ndarray, np.ndarray]:
    """The compiled model of ``spec`` and the rate of each of its lowered reaction parts over the run and at rest."""
    from cytonet.model.compile import compile_model, rhs_kernel

    cm = compile_model(spec.model_copy(update={"events": []}))
    n, nr = cm.n_species, cm.n_reactions
    f_ptr, f_kind, f_species, f_nu, *_ = cm.kernel_arrays()
    S = (f_ptr, f_kind, f_species, f_nu, np.arange(nr + 1, dtype=np.int64), np.arange(nr, dtype=np.int64), np.ones(nr))
    C = cm.constants()
    u = np.zeros(n)
    states = ds["state"].sel(species=cm.species).values
    rest = states[0].copy()
    initial = {s.id: s.initial for s in spec.species}
    for i, sid in enumerate(cm.species):
        if sid in initial:
            rest[i] = initial[sid]

    def rates(x: np.ndarray) -> np.ndarray:
        out = np.zeros(max(n, nr))
        rhs_kernel(np.ascontiguousarray(x, dtype=float), u, C, S, out)
        return out[:nr]

    return cm, np.array([rates(x) for x in states]), rates(rest)


def reaction_fluxes(spec: ModelSpec, ds: xr.Dataset) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(spec reaction ids, fluxes (time, reaction), resting fluxes) of a run of ``spec``."""
    cm, per_part, r0 = _part_rates(spec, ds)
    sources = [fr.source for fr in cm.factor_reactions]
    ids = list(dict.fromkeys(sources))
    col = {rid: i for i, rid in enumerate(ids)}
    agg = np.zeros((per_part.shape[0], len(ids)))
    agg0 = np.zeros(len(ids))
    for j, src in enumerate(sources):
        agg[:, col[src]] += per_part[:, j]
        agg0[col[src]] += r0[j]
    return ids, agg, agg0


def species_balance(spec: ModelSpec, ds: xr.Dataset, species: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Species -> {spec reaction -> its net rate of change of that species over the run}: positive where the reaction
    makes it, negative where it removes it. Each lowered part counts with its own stoichiometry, so a reversible binding
    gives association less dissociation and a delay chain makes its product only at its last stage."""
    known = [s.id for s in spec.species]
    for sid in species:
        if sid not in known:
            raise ValueError(f"no such species in {spec.id}: {sid!r}{did_you_mean(sid, known)}")
    cm, per_part, _ = _part_rates(spec, ds)
    *_, s_ptr, s_species, s_coef = cm.kernel_arrays()
    wanted = {cm.species.index(sid): sid for sid in species}
    out: dict[str, dict[str, np.ndarray]] = {sid: {} for sid in species}
    for j, fr in enumerate(cm.factor_reactions):
        for k in range(s_ptr[j], s_ptr[j + 1]):
            sid = wanted.get(int(s_species[k]))
            if sid is not None:
                out[sid][fr.source] = out[sid].get(fr.source, 0.0) + s_coef[k] * per_part[:, j]
    return out


def production(spec: ModelSpec, ds: xr.Dataset, species: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Species -> {reaction -> the rate at which it makes that species}, for the reactions with it among their products."""
    makes = {r.id: r.products for r in spec.reactions}
    return {sid: {rid: v for rid, v in by.items() if sid in makes[rid]}
            for sid, by in species_balance(spec, ds, species).items()}


def _target(r: Reaction) -> str:
    return next(iter(r.products or r.reactants or r.modifiers))


def rises(spec: ModelSpec, ds: xr.Dataset) -> list[Rise]:
    """Every reaction's rise over rest, largest excess turnover first."""
    ids, flux, rest = reaction_fluxes(spec, ds)
    t = ds["time"].values
    span = t[-1] - t[0]
    mean = np.trapezoid(flux, t, axis=0) / span if span > 0 else flux[0]
    floor = np.maximum(_FLOOR * np.maximum(mean, rest), 1e-300)
    fold = np.log10(np.maximum(mean, floor) / np.maximum(rest, floor))
    reactions = {r.id: r for r in spec.reactions}
    peak = ds["state"].max("time")
    out = []
    for rid, a, b, c in zip(ids, rest, mean, fold):
        scale = float(peak.sel(species=_target(reactions[rid])))
        out.append(Rise(rid, float(a), float(b), float(c), float((b - a) / scale) if scale > 0 else 0.0))
    return sorted(out, key=lambda r: -r.turnover)


def fired_graph(spec: ModelSpec, ds: xr.Dataset, top: int = TOP_REACTIONS) -> nx.DiGraph:
    """Species graph of the ``top`` reactions that rose at least ``MIN_FOLD``-fold (edge attrs: reaction, sign, turnover, log10_fold)."""
    import networkx as nx

    reactions = {r.id: r for r in spec.reactions}
    kind = {s.id: s.kind for s in spec.species}
    g = nx.DiGraph()
    shown = 0
    for rise in rises(spec, ds):
        r = reactions[rise.reaction]
        targets, sign = (list(r.products), "+") if r.products else (list(r.reactants), "-")
        drivers = [*r.reactants, *r.modifiers, *(x.species for x in r.regulators if x.kind not in _PASSIVE)]
        pairs = [(a, b) for a in dict.fromkeys(drivers) for b in targets if a != b]
        if not pairs or rise.log10_fold < np.log10(MIN_FOLD) or rise.turnover <= 0:
            continue  # self-decay and clearance drive nothing else; small rises are not "firing"
        shown += 1
        if shown > top:
            break
        for a, b in pairs:
                old = g.get_edge_data(a, b)
                if old is None or old["turnover"] < rise.turnover:
                    g.add_edge(a, b, reaction=r.id, sign=sign, turnover=rise.turnover, log10_fold=rise.log10_fold)
    for node in g.nodes:
        g.nodes[node]["kind"] = kind.get(node, "state")
    return g
