"""Malformed specs always end in one clean ModelSpecError, never another exception type."""

import copy
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
import testmodels as T  # noqa: E402

from cytonet.errors import ModelSpecError  # noqa: E402
from cytonet.model.compile import compile_model  # noqa: E402
from cytonet.model.spec import ModelSpec, spec_from_dict  # noqa: E402

BASE = T.network().model_dump(mode="json")


def _break(kind: str, i: int, data: dict) -> dict:
    d = copy.deepcopy(data)
    rx = d["reactions"][i % len(d["reactions"])]
    if kind == "unknown_species":
        rx["products"] = {"IL_66": 1.0}
    elif kind == "negative_rate":
        pid = next(iter(rx["params"].values()))
        next(p for p in d["parameters"] if p["id"] == pid)["value"] = -1.0
    elif kind == "duplicate_id":
        d["species"].append(copy.deepcopy(d["species"][i % len(d["species"])]))
    elif kind == "unit_mismatch":
        next(p for p in d["parameters"] if p["id"] == "kc")["unit"] = "pg/mL"
    elif kind == "negative_event_time":
        d["events"][0]["time"] = -1.0 - i
    elif kind == "unknown_parameter":
        rx["params"] = {k: v + "_x" for k, v in rx["params"].items()}
    elif kind == "bad_observable":
        d["observables"][0]["expression"] = "__import__('os').system('x')"
    return d


KINDS = ["unknown_species", "negative_rate", "duplicate_id", "unit_mismatch", "negative_event_time",
         "unknown_parameter", "bad_observable"]


def _validate_and_compile(d):
    spec = spec_from_dict(d)
    compile_model(spec)
    return spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), i=st.integers(0, 50))
def test_known_breakages_raise_model_spec_error(kind, i):
    with pytest.raises(ModelSpecError):
        _validate_and_compile(_break(kind, i, BASE))


GARBAGE = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for j, v in enumerate(obj):
            yield from _paths(v, (*prefix, j))


PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), value=GARBAGE)
def test_garbage_anywhere_is_valid_or_a_model_spec_error(path, value):
    d = copy.deepcopy(BASE)
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        assert isinstance(_validate_and_compile(d), ModelSpec)
    except ModelSpecError:
        pass


@given(value=GARBAGE)
def test_non_mapping_top_level(value):
    if isinstance(value, dict):
        value = {**value}
    with pytest.raises(ModelSpecError):
        spec_from_dict(value)
