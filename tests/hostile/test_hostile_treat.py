"""``cytonet treat`` given hostile doses, times, weights and folders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cytonet.errors import CytonetError
from cytonet.therapy import Regimen, parse_dose, parse_hours

TREAT = ["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--out", "run"]


@pytest.mark.parametrize(("option", "value", "expect"), [
    ("--dose", "1e308mg/kg", "above 1000 mg/kg per administration"),
    ("--dose", "-1mg", "must be positive"), ("--dose", "0mg", "must be positive"),
    ("--dose", "8", "needs a number and a unit"), ("--dose", "8furlongs", "not a dose unit"),
    ("--dose", "8mg/m2", "body-surface"), ("--dose", "nanmg", "needs a number and a unit"),
    ("--at", "1e308h", "beyond 100000 h"), ("--at", "-1h", "non-negative"), ("--at", "abc", "give a number with a unit"),
    ("--at", "1000h", "is not before the end of the run (336 h)"),
    ("--weight", "0", "body weight must be 0.5 to 700 kg"), ("--weight", "-70", "body weight"),
    ("--weight", "nan", "body weight"), ("--weight", "inf", "body weight"), ("--weight", "1e308", "body weight"),
    ("--doses", "0", "number of doses"), ("--doses", "100000000", "from 1 to 10,000"),
    ("--hours", "nan", "not a finite number"), ("--hours", "1e12", "out of range"),
    ("--route", "nasal", "must be one of iv, sc, oral"),
])
def test_numbers_and_units(refused, option: str, value: str, expect: str) -> None:
    refused([*TREAT, option, value], expect)


def test_every_zero_and_unknown_drug(refused) -> None:
    refused([*TREAT, "--doses", "2", "--every", "0h"], "must be positive")
    refused(["treat", "--scenario", "car-t-crs", "--drug", "tocilizumob", "--out", "run"], "did you mean")


def test_out_holding_user_files_is_refused_before_simulating(refused) -> None:
    refused(["treat", "--scenario", "car-t-crs", "--drug", "tocilizumab", "--out", "."], "add --overwrite")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=20), st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True))
def test_regimen_inputs_end_in_a_clean_error_or_a_finite_regimen(dose: str, start: str, weight: float) -> None:
    try:
        r = Regimen(dose, start=start, weight_kg=weight)
    except CytonetError as err:
        assert "\n" not in str(err)
    else:
        assert 0 < r.mg < float("inf") and all(0 <= t <= 1e5 for t in r.times)


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"\s*[+-]?\d{0,400}(\.\d*)?([eE][+-]?\d{1,4})?\s*(mg|g|ug|mg/kg|h|d|min|week)?\s*", fullmatch=True))
def test_number_strings_never_escape_as_non_finite(text: str) -> None:
    for parse in (parse_dose, parse_hours):
        try:
            value = parse(text)
        except CytonetError:
            continue
        amount = value if isinstance(value, float) else value.amount
        assert amount == amount and abs(amount) < float("inf")
