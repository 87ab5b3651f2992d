"""A fixed spread sample of the SBML Test Suite cases: each passes with its own tolerances or is refused with a reason.

The full run (767 cases) is ``benchmarks/sbml_suite.py``; this samples every 8th case in case order.
Skips when the suite's cases (``../shared/sbml-test-suite``) are not there.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "sbml-test-suite" / "cases"
ALL = sorted(p for p in CASES.iterdir() if p.is_dir()) if CASES.is_dir() else []
SAMPLE = ALL[::8]


def _runner():
    spec = importlib.util.spec_from_file_location("sbml_suite", ROOT / "benchmarks" / "sbml_suite.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sbml_suite", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not SAMPLE, reason="SBML Test Suite cases not found at ../shared/sbml-test-suite")
@pytest.mark.parametrize("case", SAMPLE, ids=[p.name for p in SAMPLE])
def test_case_passes_or_is_refused_with_a_reason(case: Path, tmp_path: Path) -> None:
    status, reason, err = _runner().run_case(case, tmp_path)
    assert status in ("pass", "unsupported"), f"{case.name}: {status} ({reason}, max error {err:.3g} x tolerance)"
    if status == "unsupported":
        assert reason.startswith(f"model 'case{case.name}'") or reason.startswith("model 'case_"), reason
    else:
        header = (tmp_path / f"{case.name}.csv").read_text().splitlines()[0]
        assert header.split(",")[0] == "time"


@pytest.mark.skipif(not SAMPLE, reason="SBML Test Suite cases not found at ../shared/sbml-test-suite")
def test_sample_spreads_over_the_suite() -> None:
    assert len(SAMPLE) >= 90 and int(SAMPLE[-1].name) - int(SAMPLE[0].name) > 1500
