"""DRG payment: standard, cost classes, CIDL and exclusion-list review (test settings: 10,000.00 per weight)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from drg.drg_helpers import case, grouped, settings
from pydantic import ValidationError

from onestop.drg import CostClass, pay
from onestop.money import Fen

# ES35 weighs 0.3825: standard = 0.3825 × 1,000,000 fen = 382,500 fen.
ES35_STANDARD = 382_500


def _pay(total: int, **kw: object):  # type: ignore[no-untyped-def]
    s = kw.pop("settings", settings())
    c = case("J18.900", insutype=kw.pop("insutype", "310"), total_cost_fen=total, **kw)
    return pay(grouped("J18.900"), c, s)  # type: ignore[arg-type]


def test_weight_times_base_rate_rounds_half_up_to_the_fen() -> None:
    """Weight 0.3825 × 居民 rate 8,000.00 = 3,060.00; with a rate of 1,000,001 fen: 382,500.3825 → 382,500;
    with 1,000,003 fen: 382,501.1475 → 382,501."""
    assert _pay(300_000, insutype="390").standard_fen == 306_000
    assert _pay(300_000, settings=settings(base_rate_fen={"310": 1_000_001})).standard_fen == 382_500
    assert _pay(300_000, settings=settings(base_rate_fen={"310": 1_000_003})).standard_fen == 382_501
    # 0.3825 × 2 fen = 0.765 → 1 (half-up at the fen)
    assert _pay(1, settings=settings(base_rate_fen={"310": 2})).standard_fen == 1


def test_normal_case_is_paid_the_standard() -> None:
    """Cost 3,825.00 against a standard of 3,825.00: ratio 1.0000, normal, paid the standard, no review."""
    p = _pay(ES35_STANDARD)
    assert p.cost_ratio == Decimal("1.0000")
    assert p.cost_class is CostClass.NORMAL
    assert p.drg_payment_fen == ES35_STANDARD
    assert not p.special_review
    assert isinstance(p.drg_payment_fen, Fen)


def test_high_ratio_is_flagged_for_review() -> None:
    """Cost exactly 3× the standard reaches the high threshold (≥ 3): high_ratio, special review, reason."""
    p = _pay(3 * ES35_STANDARD)
    assert p.cost_class is CostClass.HIGH
    assert p.special_review
    assert "high threshold" in p.reason
    assert p.drg_payment_fen == ES35_STANDARD
    just_below = _pay(3 * ES35_STANDARD - 100)
    assert just_below.cost_class is CostClass.NORMAL


def test_low_ratio_is_paid_its_cost_or_the_standard_as_configured() -> None:
    """Cost 0.4× the standard is low-ratio; paid the case cost by default, the standard when so configured."""
    low = int(ES35_STANDARD * Decimal("0.4"))
    assert _pay(low).cost_class is CostClass.LOW
    assert _pay(low).drg_payment_fen == low
    assert _pay(low, settings=settings(low_ratio_payment="standard")).drg_payment_fen == ES35_STANDARD


def test_cidl_cost_never_counts_and_covered_cidl_is_reviewed() -> None:
    """Total 1,000,000 with 617,500 CIDL: case cost 382,500 (ratio 1). Covered by a commercial product → review,
    and only the CIDL cost leaves DRG (the standard is still paid). Not covered → no review, same cost."""
    covered = _pay(1_000_000, cidl_cost_fen=617_500, cidl_covered=True)
    assert covered.case_cost_fen == ES35_STANDARD
    assert covered.cost_class is CostClass.NORMAL
    assert covered.special_review
    assert "CIDL" in covered.reason
    assert covered.drg_payment_fen == ES35_STANDARD
    uncovered = _pay(1_000_000, cidl_cost_fen=617_500, cidl_covered=False)
    assert uncovered.case_cost_fen == ES35_STANDARD
    assert not uncovered.special_review


def test_whole_case_out_of_drg() -> None:
    """With cidl_handling = whole_case_out a reviewed CIDL case gets no DRG payment (paid by item after review)."""
    p = _pay(1_000_000, cidl_cost_fen=617_500, cidl_covered=True, settings=settings(cidl_handling="whole_case_out"))
    assert p.special_review
    assert p.drg_payment_fen is None
    assert "whole case out of DRG" in p.reason


def test_exclusion_list_items_use_the_same_mechanism() -> None:
    """Lines on the region's exclusion list leave the case cost and send the case to review."""
    p = _pay(1_000_000, excluded_cost_fen=617_500)
    assert p.case_cost_fen == ES35_STANDARD
    assert p.special_review
    assert "exclusion list" in p.reason


def test_points_mode() -> None:
    """点数法: 0.3825 × 100 = 38.25 points × 98.6 fen = 3,771.45 → 3,771 fen; no base rate is reported."""
    s = settings(payment_mode="points", base_rate_fen={}, point_value_fen="98.6")
    p = _pay(3771, settings=s)
    assert p.points == Decimal("38.2500")
    assert p.standard_fen == 3771
    assert p.base_rate_fen is None
    assert p.cost_class is CostClass.NORMAL


def test_no_base_rate_for_the_insutype_leaves_payment_empty() -> None:
    """A case whose insutype has no base rate gets no standard, with the reason."""
    p = _pay(300_000, insutype="330")
    assert p.standard_fen is None
    assert p.drg_payment_fen is None
    assert "no base rate for insutype 330" in p.reason


def test_no_total_cost_leaves_ratio_empty() -> None:
    """Without a total cost the ratio and class are empty; the standard is still given."""
    c = case("J18.900", insutype="310")
    p = pay(grouped("J18.900"), c, settings())
    assert p.cost_ratio is None
    assert p.cost_class is None
    assert p.drg_payment_fen == ES35_STANDARD


def test_ungrouped_case_is_not_paid_by_drg() -> None:
    """An ambiguous case gets no DRG amounts, but a covered CIDL drug still flags review."""
    c = case(
        "J18.900", procedures=("47.0901",), insutype="310", total_cost_fen=900_000, cidl_cost_fen=100, cidl_covered=True
    )
    p = pay(grouped("J18.900", procedures=("47.0901",)), c, settings())
    assert p.drg_payment_fen is None
    assert p.special_review
    assert "ambiguous" in p.reason


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"high_ratio": 3.0}, "floats"),
        ({"low_ratio": "3", "high_ratio": "2"}, "below high_ratio"),
        ({"payment_mode": "points", "base_rate_fen": {}}, "point_value_fen"),
        ({"base_rate_fen": {}}, "base_rate_fen"),
        ({"valid_to": "2023-01-01"}, "valid_to"),
        ({"scheme": "chs-drg-9"}, "scheme"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_settings_refuse_bad_values(over: dict[str, object], message: str) -> None:
    """DRG settings are strict: floats, inconsistent thresholds, a missing rate or an unknown key are refused."""
    with pytest.raises(ValidationError, match=message):
        settings(**over)
