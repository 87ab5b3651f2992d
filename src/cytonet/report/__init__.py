"""Reports of runs: PNG plots (matplotlib, imported lazily) and self-contained HTML pages.

Public API (stable; used by ``cytonet simulate``, ``report``, ``demo`` and therapy comparisons):

- :func:`write_report` (out, ds, spec, summary=None) -> path of ``report.html`` for one run
- :func:`write_comparison` (out, {label: ds}, title=..., name="report.html") -> overlay report
- :func:`write_treatment` (out, treated, changes, title) -> untreated vs treated report with the drug's exposure
- :func:`write_run` / :func:`load_run`: the data files of a run folder (Parquet, JSON, SBML, spec)
"""

from cytonet.report.html import write_comparison, write_report, write_treatment
from cytonet.report.rundir import RunFolderError, load_run, read_timecourse, write_run, write_timecourse

__all__ = ["RunFolderError", "load_run", "read_timecourse", "write_comparison", "write_report", "write_run",
           "write_timecourse", "write_treatment"]
