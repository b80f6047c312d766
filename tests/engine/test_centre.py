"""The NHSA centre's basic leg is authoritative; the engine's own figures are a preview and a cross-check."""

from __future__ import annotations

import datetime as dt

import pytest
from engine.fakes import FakeCatalog, bill, entry, line

from onestop.domain.settlement import PayerKey
from onestop.engine import check_settlement, finalize, settle, settle_funds
from onestop.errors import IntegrityViolation
from onestop.money import Fen
from onestop.policy import policy_for

TB = policy_for("990100", dt.date(2026, 3, 1))
CAT = FakeCatalog({"A": entry("A", "甲"), "B": entry("B", "乙")})
BILL = bill([line("1", "A", "6000.00"), line("2", "B", "4000.00"), line("3", "X", "50.00")])


def _engine_leg():
    leg = settle(BILL, CAT, TB).basic
    assert leg is not None
    assert leg.source == "engine"
    return leg


def _fund_cells(s) -> int:
    return sum(int(a.amount_fen) for ln in s.lines for a in ln.allocations if PayerKey.is_fund(a.payer))


def test_centre_equal_to_engine_changes_nothing_but_the_source():
    """A centre leg with the engine's own figures: same lines, no CENTRE_DIFFERS warning, source nhsa-platform."""
    ours = settle(BILL, CAT, TB)
    leg = _engine_leg()
    s = finalize(settle_funds(BILL, CAT, TB, centre_basic=leg))
    check_settlement(s)
    assert s.lines == ours.lines
    assert s.basic.source == "nhsa-platform"
    assert not [w for w in s.warnings if w.startswith("CENTRE_DIFFERS")]


def test_centre_figures_win_and_each_difference_is_reported():
    """The centre pays 1.00 less 统筹 than the engine computed: lines carry the centre's 统筹 (allocated by
    largest remainder), the patient's cash rises by exactly 1.00, and the warnings give both figures."""
    ours = settle(BILL, CAT, TB)
    leg = _engine_leg()
    hifp = leg.fund_details[0]
    details = (hifp.model_copy(update={"fund_payamt": Fen(int(hifp.fund_payamt) - 100)}), *leg.fund_details[1:])
    centre = leg.model_copy(
        update={
            "hifp_pay": Fen(int(leg.hifp_pay) - 100),
            "fund_pay_sumamt": Fen(int(leg.fund_pay_sumamt) - 100),
            "fund_details": details,
        }
    )
    s = finalize(settle_funds(BILL, CAT, TB, centre_basic=centre))
    check_settlement(s)
    assert int(s.basic.hifp_pay) == int(leg.hifp_pay) - 100
    assert _fund_cells(s) == _fund_cells(ours) - 100
    assert s.totals.final_patient_cash_fen == ours.totals.final_patient_cash_fen + 100
    diffs = [w for w in s.warnings if w.startswith("CENTRE_DIFFERS")]
    assert any(w.startswith("CENTRE_DIFFERS:hifp_pay:") for w in diffs)
    assert any(w.startswith("CENTRE_DIFFERS:fund_pay_sumamt:") for w in diffs)


def test_centre_paying_more_than_the_in_scope_amount_is_refused():
    """Funds + deductible above the lines' in-scope amount cannot be allocated line by line: refused."""
    leg = _engine_leg()
    hifp = leg.fund_details[0]
    extra = int(leg.inscp_scp_amt)
    centre = leg.model_copy(
        update={
            "hifp_pay": Fen(int(leg.hifp_pay) + extra),
            "fund_pay_sumamt": Fen(int(leg.fund_pay_sumamt) + extra),
            "fund_details": (
                hifp.model_copy(update={"fund_payamt": Fen(int(hifp.fund_payamt) + extra)}),
                *leg.fund_details[1:],
            ),
        }
    )
    with pytest.raises(IntegrityViolation, match="exceed the in-scope amount"):
        settle_funds(BILL, CAT, TB, centre_basic=centre)


def test_centre_details_must_add_up():
    """Fund details that do not add up to fund_pay_sumamt are an integrity violation, never adopted."""
    leg = _engine_leg()
    centre = leg.model_copy(update={"fund_pay_sumamt": Fen(int(leg.fund_pay_sumamt) + 1)})
    with pytest.raises(IntegrityViolation, match="add up"):
        settle_funds(BILL, CAT, TB, centre_basic=centre)
