"""A run folder: ``timecourse.parquet``, ``summary.json``, ``model.xml`` (SBML), ``model.yaml`` (the spec).

``timecourse.parquet`` has a ``time_h`` column, then one column per compiled species (cytokines by
HGNC symbol, pg/mL; delay-chain transit states included) and one per observable; each column's
unit is in its field metadata (``unit``), and the schema metadata ``cytonet`` holds JSON with the
species and observable lists and the run's attrs, so :func:`read_timecourse` restores the Dataset.
Every file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cytonet.errors import CytonetError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import xarray as xr

    from cytonet.analysis.storm import StormSummary
    from cytonet.model.spec import ModelSpec

TIMECOURSE = "timecourse.parquet"
SUMMARY = "summary.json"
MODEL_XML = "model.xml"
MODEL_YAML = "model.yaml"
REPORT = "report.html"
_META = b"cytonet"


class RunFolderError(CytonetError):
    """A run folder that lacks a file or holds one cytonet cannot read."""


def observables(ds: xr.Dataset) -> list[str]:
    """Observable variables of a run (every time-only data variable)."""
    return [v for v in ds.data_vars if v != "state" and ds[v].dims == ("time",)]


def write_timecourse(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a single run's Dataset as Parquet (see the module docstring for the layout)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cytonet.io import atomic_write

    species = [str(s) for s in ds["species"].values]
    units = [str(u) for u in ds["unit"].values] if "unit" in ds.coords else [""] * len(species)
    obs = observables(ds)
    state = ds["state"].values
    fields = [pa.field("time_h", pa.float64(), metadata={"unit": "h"})]
    columns = [pa.array(ds["time"].values.astype(float))]
    for i, (sid, unit) in enumerate(zip(species, units)):
        fields.append(pa.field(sid, pa.float64(), metadata={"unit": unit}))
        columns.append(pa.array(state[:, i]))
    for o in obs:
        fields.append(pa.field(o, pa.float64(), metadata={"unit": str(ds[o].attrs.get("units", ""))}))
        columns.append(pa.array(ds[o].values.astype(float)))
    attrs = {k: (v if isinstance(v, (str, int, float, bool)) else repr(v)) for k, v in ds.attrs.items()}
    meta = json.dumps({"species": species, "observables": obs, "attrs": attrs})
    table = pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata={_META: meta.encode()}))
    return atomic_write(path, lambda p: pq.write_table(table, p))


def read_timecourse(path: str | Path) -> xr.Dataset:
    """Read a ``timecourse.parquet`` written by :func:`write_timecourse` back into a Dataset."""
    import pyarrow.parquet as pq
    import xarray as xr

    p = Path(path)
    try:
        table = pq.read_table(p)
        meta = json.loads(table.schema.metadata[_META])
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise RunFolderError(f"{p}: not a cytonet time course ({err}); rerun `cytonet simulate` to write it") from None
    unit = {f.name: (f.metadata or {}).get(b"unit", b"").decode() for f in table.schema}
    cols = {name: table.column(name).to_numpy() for name in table.column_names}
    species = meta["species"]
    coords = {"time": ("time", cols["time_h"], {"units": "h"}), "species": species,
              "unit": ("species", np.asarray([unit[s] for s in species], dtype=object))}
    data = {"state": (("time", "species"), np.column_stack([cols[s] for s in species]))}
    data.update({o: ("time", cols[o], {"units": unit[o]}) for o in meta["observables"]})
    return xr.Dataset(data, coords=coords, attrs=meta["attrs"])


def write_summary(summary: StormSummary, path: str | Path) -> Path:
    from cytonet.io import atomic_write_text

    return atomic_write_text(path, json.dumps(summary.to_dict(), indent=1, allow_nan=False, default=str) + "\n")


def write_run(out: str | Path, ds: xr.Dataset, spec: ModelSpec, summary: StormSummary,
              initial: Mapping[str, float] | None = None) -> list[Path]:
    """Write the data files of one run into ``out`` (the report is written by :func:`cytonet.report.write_report`).

    ``initial`` is the full state the run started from (as given to ``simulate``), so that
    ``model.xml`` starts there too, delay-chain transit states included.
    """
    from cytonet.model.sbml import export_sbml
    from cytonet.model.spec import dump_spec

    from cytonet.io import mark_run

    d = Path(out)
    dump_spec(spec, d / MODEL_YAML)
    mark_run(d, "simulate")
    return [write_timecourse(ds, d / TIMECOURSE), write_summary(summary, d / SUMMARY), export_sbml(spec, d / MODEL_XML, initial),
            d / MODEL_YAML]


def load_run(folder: str | Path) -> tuple[xr.Dataset, ModelSpec]:
    """The Dataset and spec of a run folder written by ``cytonet simulate``."""
    from cytonet.model.spec import load_spec

    d = Path(folder)
    missing = [name for name in (TIMECOURSE, MODEL_YAML) if not (d / name).is_file()]
    if missing:
        raise RunFolderError(f"{d}: no {' or '.join(missing)} here; give a folder written by `cytonet simulate --out`")
    return read_timecourse(d / TIMECOURSE), load_spec(d / MODEL_YAML)
