"""Biologic and small-molecule therapies: PK/PD records, dosing regimens, and ``treat`` for any model."""

from cytonet.therapy.pkpd import labelled_regimen, treat
from cytonet.therapy.records import DrugPK, drug_ids, get_drug, pk_data
from cytonet.therapy.regimen import Dose, DoseRangeWarning, Regimen, parse_dose, parse_hours

__all__ = ["Dose", "DoseRangeWarning", "DrugPK", "Regimen", "drug_ids", "get_drug", "labelled_regimen",
           "parse_dose", "parse_hours", "pk_data", "treat"]
