"""Figures and report.html of a fit: waterfall, fitted versus measured per observable, profiles."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from cytonet.fit.objective import Evaluation, Objective
from cytonet.fit.optimize import CONVERGED_WITHIN, MultistartResult
from cytonet.fit.profile import THRESHOLD_95, Profile
from cytonet.report.html import _page, _table
from cytonet.report.plots import new_figure, save_png, scale_y


def plot_waterfall(ms: MultistartResult, path: Path) -> Path:
    """Final objective of every start, sorted (failed starts marked at the top)."""
    fig, (ax,) = new_figure(1, 1, 6.5, 4.0)
    ok = sorted(s.objective for s in ms.starts if s.status == "ok")
    if ok:
        best = ok[0]
        y = np.asarray(ok) - best + 1.0
        ax.plot(np.arange(1, len(ok) + 1), y, "o-", ms=4)
        ax.axhline(1.0 + CONVERGED_WITHIN, color="grey", ls=":", lw=1, label=f"best + {CONVERGED_WITHIN}")
        scale_y(ax)
        ax.legend(loc="upper left", fontsize=8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("start (sorted)")
    ax.set_ylabel("objective - best + 1")
    ax.set_title(f"{len(ok)} of {len(ms.starts)} starts finished, {ms.converged} converged", fontsize=10)
    return save_png(fig, path)


def plot_fit(obj: Objective, ev: Evaluation, observable: str, path: Path) -> Path:
    """Left: measurements (points) and the fit (lines) against time per condition; right: fitted vs measured."""
    from petab.v1 import C

    md = obj.problem.measurements.reset_index(drop=True)
    rows = np.flatnonzero(md[C.OBSERVABLE_ID].to_numpy() == observable)
    fig, (a, b) = new_figure(1, 2, 11.0, 4.0)
    runs = obj.layout.run_of[rows]
    for r in np.unique(runs):
        sel = rows[runs == r]
        order = sel[np.argsort(obj.layout.times[obj.layout.time_of[sel]], kind="stable")]
        t = md[C.TIME].to_numpy(float)[order]
        pre, sim = obj.layout.runs[r]
        label = sim.condition if pre is None else f"{pre.condition} -> {sim.condition}"
        line = a.plot(t, ev.simulated[0, order], "-", lw=1.5, label=label)[0]
        a.plot(t, obj.layout.measured[order], "o", ms=3.5, color=line.get_color())
    tr = obj.layout.transform[rows[0]] if rows.size else 0
    if tr:
        scale_y(a)
        b.set_xscale("log")
        b.set_yscale("log")
    a.set_xlabel("time")
    a.set_ylabel(observable)
    a.legend(fontsize=7, loc="best")
    m, s = obj.layout.measured[rows], ev.simulated[0, rows]
    b.plot(m, s, "o", ms=3.5)
    finite = np.concatenate([m[np.isfinite(m)], s[np.isfinite(s)]])
    if finite.size:
        lo, hi = finite.min(), finite.max()
        b.plot([lo, hi], [lo, hi], color="grey", lw=1, ls=":")
    b.set_xlabel("measured")
    b.set_ylabel("fitted")
    fig.suptitle(f"{observable}: fit versus measurements", fontsize=10)
    return save_png(fig, path)


def plot_profiles(profiles: list[Profile], path: Path) -> Path:
    n = len(profiles)
    cols = min(3, n)
    fig, axes = new_figure(-(-n // cols), cols, 4.0 * cols, 3.2 * -(-n // cols))
    for ax, p in zip(axes, profiles):
        x = [v for v, _ in p.points]
        d = [v for _, v in p.points]
        ax.plot(x, d, "o-", ms=3)
        ax.axhline(THRESHOLD_95, color="#b03a2e", ls=":", lw=1)
        ax.axvline(p.best, color="grey", lw=0.8)
        ax.set_xlabel(f"{p.parameter} ({p.scale})")
        ax.set_ylabel("objective - best")
        ax.set_title(p.parameter + ("" if p.identifiable else " (not identifiable)"), fontsize=9)
    for ax in axes[n:]:
        ax.set_visible(False)
    return save_png(fig, path)


def _v(x: float | None) -> str:
    return "open" if x is None else f"{x:.4g}"


def write_report(obj: Objective, ms: MultistartResult, out: Path, profiles: list[Profile] | None = None) -> Path:
    """All figures and report.html in ``out``."""
    from cytonet.io import atomic_write_text

    best = ms.best
    ev = obj.evaluate(np.asarray(best.x)[None, :])
    plot_waterfall(ms, out / "waterfall.png")
    figs = []
    for f in obj.layout.observable_formulas:
        if f.rows.size:
            name = f"fit_{f.observable}.png"
            plot_fit(obj, ev, f.observable, out / name)
            figs.append((f.observable, name))
    if profiles:
        plot_profiles(profiles, out / "profiles.png")
    pt = obj.problem.parameters
    ci = {p.parameter: p for p in profiles or []}
    rows = []
    for j, pid in enumerate(ms.parameter_ids):
        sc = str(pt.scales[pt.free[j]])
        p = ci.get(pid)
        rows.append([escape(pid), sc, f"{best.x[j]:.4g}", f"{float(pt.values(np.asarray(best.x))[pt.free[j]]):.4g}",
                     f"{pt.nominal_x()[j]:.4g}", f"[{pt.bounds()[0][j]:.3g}, {pt.bounds()[1][j]:.3g}]",
                     "" if p is None else f"[{_v(p.lower)}, {_v(p.upper)}]",
                     "" if p is None else ("yes" if p.identifiable else "<b>no</b>")])
    failed = [s for s in ms.starts if s.status != "ok"]
    body = [
        f"<p>PEtab problem <b>{escape(obj.problem.name)}</b>: {obj.layout.measured.size} measurements, "
        f"{len(obj.layout.runs)} experiments, {obj.n} estimated parameters. Optimiser <b>{escape(ms.method)}</b>, "
        f"{len(ms.starts)} starts (seed {ms.seed}); best log-likelihood <b>{best.llh:.6g}</b> (chi2 {best.chi2:.4g}); "
        f"{ms.converged} starts within {CONVERGED_WITHIN} of the best objective; {len(failed)} failed.</p>",
        "<h2>Estimates</h2>",
        _table(["parameter", "scale", "estimate (scale)", "estimate", "nominal (scale)", "bounds (scale)", "95 % CI (scale)",
                "identifiable"], rows),
        '<h2>Waterfall</h2><img src="waterfall.png" alt="waterfall">',
        *(f'<h2>{escape(o)}</h2><img src="{n}" alt="{escape(o)}">' for o, n in figs),
    ]
    if profiles:
        body.append('<h2>Profile likelihoods</h2><p><small>95 % CI: objective rise below chi2(0.95, 1)/2 = '
                    f'{THRESHOLD_95:.3f} (Raue et al. 2009, doi:10.1093/bioinformatics/btp358).</small></p>'
                    '<img src="profiles.png" alt="profiles">')
    if failed:
        body.append("<h2>Failed starts</h2>" + _table(["start", "reason"], [[str(s.start), escape(s.message)] for s in failed]))
    return atomic_write_text(out / "report.html", _page(f"Fit of {obj.problem.name}", body))
