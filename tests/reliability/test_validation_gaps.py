"""Regression tests of the gaps G1–G7 the reliability suite found (closed; see docs/proof.md).

Each test states the promise "name each offending field" for one case the first model missed.
"""

from __future__ import annotations

import json

import pytest

from onestop.catalog import default_catalogs
from onestop.domain import parse_bill_json
from onestop.engine import check_settlement, settle
from onestop.errors import InvalidRequest
from onestop.policy import policy_for


def _doc():
    return {
        "hospital": {"code": "H0001", "tier": "三级", "region": "990100"},
        "patient": {
            "psn_no": "P",
            "cert_type": "02",
            "cert_no": "c",
            "name": "n",
            "insutype": "310",
            "psn_type": "11",
            "age": 1,
            "sex": "1",
            "insured_region": "990100",
        },
        "visit": {
            "mdtrt_id": "V",
            "med_type": "21",
            "admission_date": "2026-03-01",
            "discharge_date": "2026-03-06",
            "diagnoses": [{"code": "K35.800"}],
        },
        "lines": [
            {
                "feedetl_sn": "1",
                "name": "a",
                "category": "09",
                "quantity": "2",
                "unit_price": "2.50",
                "amount_fen": 500,
                "date": "2026-03-02",
            },
            {
                "feedetl_sn": "2",
                "name": "b",
                "category": "09",
                "quantity": "1",
                "unit_price": "1",
                "amount_fen": 100,
                "date": "2026-03-02",
            },
        ],
    }


def _fields(doc) -> list[str]:
    with pytest.raises(InvalidRequest) as ei:
        parse_bill_json(json.dumps(doc, ensure_ascii=False))
    return [v.field.split(" (feedetl_sn", 1)[0] for v in ei.value.violations]


def test_duplicate_line_id_is_named_even_when_another_field_is_bad():
    """A duplicate feedetl_sn is reported together with an unrelated bad field, not only after it is fixed."""
    doc = _doc()
    doc["lines"][1]["feedetl_sn"] = "1"
    doc["patient"]["age"] = -1
    assert "lines[1].feedetl_sn" in _fields(doc)


def test_line_date_outside_visit_is_named_even_when_another_field_is_bad():
    """A line dated outside the visit is reported together with an unrelated bad field."""
    doc = _doc()
    doc["lines"][0]["date"] = "2027-01-01"
    doc["lines"][1]["quantity"] = "0"
    assert "lines[0].date" in _fields(doc)


def test_amount_mismatch_names_amount_fen():
    """An amount that differs from quantity × price is reported on ``lines[i].amount_fen``."""
    doc = _doc()
    doc["lines"][0]["amount_fen"] = 999
    assert "lines[0].amount_fen" in _fields(doc)


def test_reversed_visit_dates_name_discharge_date():
    """A discharge before the admission is reported on ``visit.discharge_date``."""
    doc = _doc()
    doc["visit"]["discharge_date"] = "2026-02-01"
    doc["lines"][0]["date"] = doc["lines"][1]["date"] = "2026-03-01"
    assert "visit.discharge_date" in _fields(doc)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("hospital", "region"), "９９０１００"),
        (("patient", "insured_region"), "٩٩٠١٠٠"),
        (("lines", 0, "quantity"), "２"),
        (("lines", 1, "unit_price"), "١"),
    ],
    ids=["fullwidth-region", "arabic-insured-region", "fullwidth-quantity", "arabic-price"],
)
def test_non_ascii_digits_are_refused(path, value):
    """Codes and decimals on the wire are ASCII digits; full-width or Arabic-Indic digits are refused."""
    doc = _doc()
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    dotted = ".".join(str(p) for p in path).replace(".0.", "[0].").replace(".1.", "[1].")
    assert dotted in _fields(doc)


def test_a_valid_bill_with_a_very_long_stay_settles():
    """G6 (found by atheris): a stay longer than 9,999 days is a valid bill, so the DRG case must accept it."""
    doc = _doc()
    doc["visit"]["admission_date"] = "1820-01-01"
    for line in doc["lines"]:
        line["date"] = "2026-03-02"
    bill = parse_bill_json(json.dumps(doc).encode())
    result = settle(bill, default_catalogs(), policy_for("990100", bill.visit.discharge_date))
    check_settlement(result)
    assert result.drg is not None


def test_an_oversize_line_id_is_not_echoed_into_every_field_name():
    """G7 (found through the server): refusals name lines by feedetl_sn only when it is valid, so they stay small."""
    doc = _doc()
    doc["lines"][0]["feedetl_sn"] = "长" * 5_000
    doc["lines"][0]["quantity"] = "0"
    with pytest.raises(InvalidRequest) as ei:
        parse_bill_json(json.dumps(doc, ensure_ascii=False))
    fields = [v.field for v in ei.value.violations]
    assert "lines[0].feedetl_sn" in fields
    assert "lines[0].quantity" in fields
    assert sum(len(v.field) + len(v.description) for v in ei.value.violations) < 1_000, fields
