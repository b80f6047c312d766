"""The engine fills the Settlement's DRG section for inpatient bills under a policy with a grouper."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from onestop.catalog import default_catalogs
from onestop.domain import Bill
from onestop.engine import check_settlement, settle
from onestop.policy import policy_for

BILLS = Path(__file__).resolve().parents[2] / "examples" / "bills"
TB = policy_for("990100", dt.date(2026, 3, 21))


def _car_t_bill(**visit: Any) -> dict[str, Any]:
    """The CAR-T 惠民保 example, moved to the textbook region (its tiers and region code)."""
    doc: dict[str, Any] = json.loads((BILLS / "inpatient_car_t_huiminbao.json").read_text(encoding="utf-8"))
    doc["hospital"].update(region="990100", tier="三级")
    doc["patient"]["insured_region"] = "990100"
    doc["visit"].update(visit)
    return doc


def test_inpatient_example_gets_a_drg_section_without_cidl_cost_and_with_review() -> None:
    """Lymphoma C83.300 → RS1 (no CC → RS15). The 1,200,000.00 CAR-T line is CIDL: the DRG case cost is the
    other lines only (1,075.20), and since the patient's 惠民保 covers CIDL the case is flagged for 特例单议."""
    doc = _car_t_bill()
    b = Bill.model_validate_json(json.dumps(doc))
    s = settle(b, default_catalogs(), TB)
    check_settlement(s)
    d = s.drg
    assert d is not None
    assert (d.scheme, d.status, d.drg) == ("chs-drg-1.1", "grouped", "RS15")
    total = sum(line["amount_fen"] for line in doc["lines"])
    assert d.cidl_cost_fen == 120_000_000
    assert d.case_cost_fen == total - 120_000_000
    assert d.special_review
    assert "CIDL" in d.special_review_reason
    assert d.base_rate_fen == 1_225_270
    assert any("Harbin" in t for t in d.trace)


def test_without_a_commercial_product_the_cidl_case_is_not_reviewed_for_cidl() -> None:
    """The same bill with no commercial coverage: CIDL still leaves the case cost, but no CIDL review."""
    doc = _car_t_bill()
    doc["coverages"] = []
    s = settle(Bill.model_validate_json(json.dumps(doc)), default_catalogs(), TB)
    assert s.drg is not None
    assert s.drg.cidl_cost_fen == 120_000_000
    assert not s.drg.special_review


def test_region_without_grouper_has_no_drg_section() -> None:
    """Changchun's policy configures no DRG: the inpatient example settles with no DRG section."""
    doc = json.loads((BILLS / "inpatient_car_t_huiminbao.json").read_text(encoding="utf-8"))
    s = settle(
        Bill.model_validate_json(json.dumps(doc)), default_catalogs(), policy_for("220100", dt.date(2026, 3, 21))
    )
    assert s.drg is None


def test_a_case_discharged_before_the_grouper_applies_says_so_and_is_not_grouped() -> None:
    """The textbook region's grouper applies from 2024-01-01: a case discharged in 2023 gets an explicit
    no_grouper section (with the date it starts), not a grouping and a payment under settings not yet in force."""
    from engine.fakes import FakeCatalog, bill, entry, line

    cat = FakeCatalog({"A": entry("A", "甲")})
    b = bill(
        [line("1", "A", "100.00", date="2023-06-02")],
        visit={"admission_date": "2023-06-01", "discharge_date": "2023-06-05"},
    )
    s = settle(b, cat, TB)
    assert s.drg is not None
    assert s.drg.status == "no_grouper"
    assert (s.drg.drg, s.drg.drg_payment_fen) == ("", None)
    assert "2024-01-01" in s.drg.trace[0]
