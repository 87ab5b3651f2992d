"""Bad input: unknown drugs, unit-less or wrong-unit doses, negative values, labelled ranges, absent targets."""

import warnings

import pytest

from cytonet.errors import TherapyError
from cytonet.model.spec import ModelSpec
from cytonet.therapy import DoseRangeWarning, Regimen, labelled_regimen, parse_dose, parse_hours, treat


@pytest.fixture(scope="module")
def tiny():
    return ModelSpec.model_validate({
        "id": "tiny", "compartments": [{"id": "blood", "volume": 3.0}],
        "species": [{"id": "X", "compartment": "blood", "initial": 1.0, "unit": "pg/mL"}],
        "parameters": [{"id": "k", "value": 1.0, "unit": "1/h", "assumption": "test"}],
        "reactions": [{"id": "X_clear", "rate_law": "first_order", "reactants": {"X": 1}, "params": {"k": "k"}}],
    })


def test_dose_parsing():
    assert parse_dose("8mg/kg").amount == 8 and parse_dose("8mg/kg").unit == "mg/kg"
    assert parse_dose("0.5 g").amount == 500 and parse_dose("0.5 g").unit == "mg"
    assert Regimen("8 mg/kg", weight_kg=50).mg == 400
    assert parse_hours("2d") == 48 and parse_hours("90min") == 1.5 and parse_hours("1 week") == 168


@pytest.mark.parametrize(("dose", "fragment"), [
    ("8", "needs a number and a unit"), ("10 mg/m2", "body-surface"), ("5 mL", "not a dose unit"),
    ("-3 mg", "must be positive"), ("0 mg", "must be positive"),
])
def test_bad_doses(dose, fragment):
    with pytest.raises(TherapyError, match=fragment):
        parse_dose(dose)


def test_bad_times_and_counts():
    with pytest.raises(TherapyError, match="non-negative"):
        Regimen("8 mg/kg", start="-2h")
    with pytest.raises(TherapyError, match="unit"):
        Regimen("8 mg/kg", start="2 fortnights")
    with pytest.raises(TherapyError, match="need an interval"):
        Regimen("8 mg/kg", doses=3)
    with pytest.raises(TherapyError, match="positive"):
        Regimen("8 mg/kg", every="0h", doses=2)
    with pytest.raises(TherapyError, match="route"):
        Regimen("8 mg/kg", route="im")


def test_unknown_drug_suggests(tiny):
    with pytest.raises(TherapyError, match="did you mean tocilizumab"):
        treat(tiny, "tocilizumib")
    with pytest.raises(TherapyError, match="no PK/PD model"):
        treat(tiny, "rilonacept")


def test_absent_target_names_it(tiny):
    with pytest.raises(TherapyError, match="'IL6R'"):
        treat(tiny, "tocilizumab")
    with pytest.raises(TherapyError, match="'TNF'"):
        treat(tiny, "infliximab")
    with pytest.raises(TherapyError, match="JAK1, JAK2"):
        treat(tiny, "ruxolitinib")
    with pytest.raises(TherapyError, match="glucocorticoid receptor"):
        treat(tiny, "hydrocortisone", Regimen("100 mg", route="iv"))


def test_route_and_regimen_names(tiny):
    with pytest.raises(TherapyError, match="not given oral"):
        treat(tiny, "tocilizumab", Regimen("8 mg/kg", route="oral"))
    with pytest.raises(TherapyError, match="labelled: car-t-crs"):
        labelled_regimen("tocilizumab", "psoriasis")


def test_far_out_of_range_dose_warns_with_label_range():
    from cytonet.model.build import reference_network

    spec = reference_network()
    with pytest.warns(DoseRangeWarning, match="labelled range 4-12 mg/kg"):
        treat(spec, "tocilizumab", Regimen("40 mg/kg", route="iv"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        treat(spec, "tocilizumab", Regimen("8 mg/kg", route="iv"))


def test_every_record_has_provenance_and_labelled_regimens():
    from cytonet import kb
    from cytonet.therapy import pk_data

    data = pk_data()
    assert len(data.drugs) >= 12
    for d in data.drugs.values():
        assert kb.drug(d.id).id == d.id  # each PK record links to a knowledge-base drug record
        for q in [d.mw_kda, *d.params.values(), *d.regimens]:
            assert q.refs or q.assumption
