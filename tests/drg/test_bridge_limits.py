"""A bill the domain accepts is never refused by the DRG bridge: its limits are the bill's own."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from onestop.catalog import default_catalogs
from onestop.domain import parse_bill_json
from onestop.engine import check_settlement, settle
from onestop.policy import policy_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bills" / "inpatient_car_t_huiminbao.json"


def test_longest_codes_the_bill_allows_reach_the_grouper_not_a_validation_error():
    """A 50-character principal diagnosis and a 200-character department are valid bill fields: the grouper
    answers its own status (invalid: not an ICD-10 code), and the settlement completes."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["visit"]["diagnoses"] = [{"code": "X" * 50}]
    doc["visit"]["dept"] = "科" * 200
    doc["hospital"]["tier"] = "三级"
    bill = parse_bill_json(json.dumps(doc).encode())
    s = settle(bill, default_catalogs(), policy_for("990100", dt.date(2026, 3, 1)))
    check_settlement(s)
    assert s.drg is not None
    assert s.drg.status == "invalid"
