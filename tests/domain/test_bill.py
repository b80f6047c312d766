"""Bill validation: every error names the field and the line; personal data stays out of reprs."""

from __future__ import annotations

import json

import pytest
from engine.fakes import bill, line

from onestop.domain import parse_bill_json
from onestop.errors import InvalidRequest


def doc(**over):
    d = json.loads(bill([line("1", "A", "10.00"), line("2", "B", "2.50", "2")]).model_dump_json())
    for k, v in over.items():
        d[k] = v
    return d


def errors_of(d) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as ei:
        parse_bill_json(json.dumps(d))
    return {v.field: v.description for v in ei.value.violations}


def test_valid_bill_round_trips():
    """A valid bill parses, and its JSON parses back to an equal bill."""
    b = parse_bill_json(json.dumps(doc()))
    assert parse_bill_json(b.model_dump_json()) == b


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("quantity", "0", "greater than 0"),
        ("quantity", "-1", "plain decimal"),
        ("quantity", "1.00001", "at most 4 decimals"),
        ("quantity", 1.5, "not a float"),
        ("quantity", "1e2", "plain decimal"),
        ("quantity", "NaN", "plain decimal"),
        ("unit_price", "1.0000001", "at most 6 decimals"),
        ("unit_price", "-3", "plain decimal"),
        ("unit_price", "Infinity", "plain decimal"),
        ("amount_fen", 1000.0, "integer"),
        ("amount_fen", -5, "greater than or equal"),
        ("category", "99", "Input should be"),
        ("hosp_appr_flag", "7", "Input should be"),
    ],
)
def test_line_field_errors_name_line_and_field(field, value, needle):
    """A bad line field is reported as lines[i].field with the line's feedetl_sn."""
    d = doc()
    d["lines"][1][field] = value
    errs = errors_of(d)
    key = f"lines[1].{field} (feedetl_sn 2)"
    assert key in errs, errs
    assert needle in errs[key]


def test_amount_must_match_quantity_times_price_within_one_fen():
    """2 × 2.50 = 5.00 yuan = 500 fen: 501 is accepted (1 fen), 502 is refused naming the line."""
    d = doc()
    d["lines"][1]["amount_fen"] = 501
    parse_bill_json(json.dumps(d))
    d["lines"][1]["amount_fen"] = 502
    errs = errors_of(d)
    assert any(k.startswith("lines[1]") and "differs" in v for k, v in errs.items())


def test_duplicate_feedetl_sn_and_dates_outside_visit():
    """Duplicate line ids and line dates outside the visit are refused, each naming its line."""
    d = doc()
    d["lines"][1]["feedetl_sn"] = "1"
    d["lines"][0]["date"] = "2026-02-01"
    errs = {k.split(" (feedetl_sn")[0]: v for k, v in errors_of(d).items()}
    assert "lines[1].feedetl_sn" in errs
    assert "lines[0].date" in errs


def test_unknown_enum_codes_are_refused_unknown_item_codes_are_not():
    """insutype 999 is refused; an unknown national code is just out of catalog (valid)."""
    d = doc()
    d["patient"]["insutype"] = "999"
    assert "patient.insutype" in errors_of(d)
    d = doc()
    d["lines"][0]["national_code"] = "ZZ-NOT-A-CODE"
    parse_bill_json(json.dumps(d))


def test_missing_and_unknown_fields():
    """A missing required field and an unknown extra field are both named."""
    d = doc()
    del d["visit"]["mdtrt_id"]
    d["hospital"]["colour"] = "blue"
    errs = errors_of(d)
    assert "visit.mdtrt_id" in errs
    assert "hospital.colour" in errs


def test_oversize_strings_are_refused():
    """Names beyond 200 characters are refused (bounded input)."""
    d = doc()
    d["lines"][0]["name"] = "药" * 201
    assert "lines[0].name (feedetl_sn 1)" in errors_of(d)


def test_work_related_line_needs_work_injury_and_recognition_needs_decision():
    """A work-related line without a work_injury section, and a recognised injury without a decision, are refused."""
    d = doc()
    d["lines"][0]["work_related"] = True
    assert "lines[0].work_related (feedetl_sn 1)" in errors_of(d)
    d = doc(work_injury={"status": "recognised"})
    assert "work_injury.decision_id" in errors_of(d)


def test_personal_data_not_in_repr_and_masked():
    """Name and certificate number never appear in a repr; the display forms are masked."""
    b = parse_bill_json(json.dumps(doc()))
    text = repr(b) + str(b.patient)
    assert "张三" not in text
    assert "110101199001011234" not in text
    assert b.patient.masked_name == "张*"
    assert b.patient.masked_cert_no == "110*************34"


def test_pharmacy_purchase_needs_prescribing_context():
    """A pharmacy purchase (med_type 41) must say whose policy applies (outpatient / discharge / chronic)."""
    d = doc()
    d["visit"]["med_type"] = "41"
    assert "visit.prescribing_context" in errors_of(d)
