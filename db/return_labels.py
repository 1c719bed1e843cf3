"""What people read for the return's breakdowns and codes (the Data sheet's dimensions, the dialog's
figures): db.returns' labels, kept in a module of their own."""
from __future__ import annotations

from . import codes
from .instruments import INSTRUMENTS, score_definition

UNKNOWN = "unknown"          # the breakdown's code for a blank


_GROUP_LABELS = {
    ("source_group", "COMMUNITY"): "Community and self", ("source_group", "NHS"): "NHS and clinical",
    ("source_group", "OTHER"): "Other or not known",
    ("ethnic_group", "WHITE"): "White", ("ethnic_group", "MIXED"): "Mixed or multiple ethnic groups",
    ("ethnic_group", "ASIAN"): "Asian or Asian British", ("ethnic_group", "BLACK"): "Black or Black British",
    ("ethnic_group", "OTHER"): "Other ethnic group", ("ethnic_group", "NOTSTATED"): "Not stated or not known",
}
_DIM_LISTS = {"source": "source", "mode": "mode", "closure_reason": "closure_reason", "gender": "gender",
              "gp_registered": "yes_no_unknown", "employment": "employment", "disability": "disability",
              "area": "area", "status": "goal_status", "category": "signposting_category",
              "type": "signposting_type"}
DIMENSION_LABELS = {
    "source": "Referral source", "source_group": "Source group", "mode": "Mode", "closure_reason": "Closure reason",
    "gender": "Gender", "age_band": "Age on start date", "ethnic_group": "Ethnic group",
    "imd_quintile": "Deprivation quintile (IMD 2019)", "gp_registered": "Registered with a GP",
    "employment": "Employment status", "disability": "Disability", "area": "Area", "status": "Status",
    "category": "Kind of service", "type": "Signposted or referred", "instrument": "Instrument",
    "score": "Score",
}


def code_label(dimension: str, code: str) -> str:
    """What people read for a breakdown's code."""
    if code == UNKNOWN:
        return "Not recorded"
    if dimension in _DIM_LISTS:
        return codes.label(_DIM_LISTS[dimension], code)
    if (dimension, code) in _GROUP_LABELS:
        return _GROUP_LABELS[(dimension, code)]
    if dimension == "age_band":
        return {"under16": "Under 16", "75plus": "75 and over"}.get(code, code.replace("-", "–"))
    if dimension == "imd_quintile":
        return {"1": "1 (most deprived)", "5": "5 (least deprived)"}.get(code, code)
    if dimension == "instrument":
        inst = INSTRUMENTS.get(code)
        return inst.name if inst else code
    if dimension == "score":
        s = score_definition(code)
        return f"{s.label} ({s.unit})" if s and s.unit else (s.label if s else code)
    return code
