"""Hand-worked maternity-fund examples (textbook region: no deductible, 100 %, standards 1,000 / 5,000 yuan)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from policy.pol_helpers import TEXTBOOK

from onestop.errors import InvalidRequest
from onestop.money import Fen
from onestop.policy import Accumulators, compute_maternity

ACC = Accumulators(year=2026)


def test_paid_in_full_without_a_standard():
    """No med_type given: no per-visit standard applies; 3,456 × 100 % = 3,456."""
    r = compute_maternity(TEXTBOOK, 345_600, ACC)
    assert (r.fund_pay_fen, r.deductible_fen, r.copay_fen) == (345_600, 0, 0)


def test_delivery_stay_standard_binds():
    """生育住院 (52), 6,000 in scope: the fund pays up to the 5,000 standard; co-pay 1,000."""
    r = compute_maternity(TEXTBOOK, 600_000, ACC, med_type="52")
    assert (r.fund_pay_fen, r.copay_fen) == (500_000, 100_000)


def test_outpatient_standard():
    """生育门诊 (51), 1,500 in scope: standard 1,000; co-pay 500."""
    r = compute_maternity(TEXTBOOK, 150_000, ACC, med_type="51")
    assert (r.fund_pay_fen, r.copay_fen) == (100_000, 50_000)


def test_deductible_ratio_and_annual_cap():
    """Deductible 200, 90 %, cap 10,000 with 9,000 paid: (3,000 − 200) × 90 % = 2,520, cut to 1,000."""
    terms = TEXTBOOK.maternity.model_copy(
        update={"deductible_fen": Fen(20_000), "ratio": Decimal("0.90"), "annual_cap_fen": Fen(1_000_000)}
    )
    policy = TEXTBOOK.model_copy(update={"maternity": terms})
    r = compute_maternity(policy, 300_000, Accumulators(year=2026, maternity_paid=Fen(900_000)))
    assert (r.deductible_fen, r.fund_pay_fen, r.copay_fen) == (20_000, 100_000, 180_000)


def test_fund_row_and_increment():
    """The 510100 row carries the payment and the standard as 本次可支付限额; the increment is maternity_paid."""
    r = compute_maternity(TEXTBOOK, 600_000, ACC, med_type="52")
    (row,) = r.details
    assert (row.fund_pay_type, row.crt_payb_lmt_amt, row.fund_payamt, r.deltas.maternity_paid) == (
        "510100",
        500_000,
        500_000,
        500_000,
    )


def test_negative_amount_refused():
    """A negative in-scope amount is refused."""
    with pytest.raises(InvalidRequest):
        compute_maternity(TEXTBOOK, -1, ACC)
