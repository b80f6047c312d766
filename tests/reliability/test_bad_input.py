"""Bad input: every broken bill is refused with InvalidRequest naming each offending field, never anything else."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from reliability.catalogs import FIRST_EDITION, catalogs
from reliability.invalid_bills import (
    ADMISSION,
    DISCHARGE,
    PLANTED_CERT,
    PLANTED_NAME,
    Broken,
    broken_bills,
    expected_paths,
    matches,
    valid_bill_docs,
)
from reliability.profile import FULL, size

from onestop.domain import parse_bill_json
from onestop.engine import check_settlement, settle
from onestop.errors import InvalidRequest, NoEditionInForce
from onestop.policy import policy_for

# In the full profile (make proof: -m slow) the same tests run at the counts of reliability.md §6.
pytestmark = [pytest.mark.slow] if FULL else []

POLICY = policy_for("990100", DISCHARGE)
CATALOGS = catalogs()

_SETTINGS = settings(
    max_examples=size(600, 5_000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _refusal(broken: Broken) -> InvalidRequest:
    """Parse a broken bill and return the refusal; any other outcome fails the test."""
    note(f"mutations: {[(m.kind, m.expect) for m in broken.mutations]}")
    try:
        bill = parse_bill_json(broken.text)
    except InvalidRequest as exc:
        return exc
    pytest.fail(f"broken bill accepted: {bill!r}")


@_SETTINGS
@given(broken_bills())
def test_every_broken_bill_is_refused_naming_each_offending_field(broken):
    """Each planted fault is named by field path (line index and field); nothing unplanted is reported."""
    exc = _refusal(broken)
    reported = [v.field for v in exc.violations]
    note(f"reported: {reported}")
    required, conditional = expected_paths(broken)
    for path in required:
        assert any(matches(r, path) for r in reported), f"{path} not named in {reported}"
    for r in reported:
        assert any(matches(r, p) for p in required | conditional), f"{r} reported but nothing was planted there"


@_SETTINGS
@given(broken_bills())
def test_refusals_carry_no_personal_data(broken):
    """Neither the message nor any violation repeats the patient's name or certificate number."""
    exc = _refusal(broken)
    text = str(exc) + "".join(v.description + v.field for v in exc.violations)
    assert PLANTED_NAME not in text
    assert PLANTED_CERT not in text


@settings(max_examples=size(150, 2_000), deadline=None, derandomize=True)
@given(valid_bill_docs(), st.data())
def test_valid_bills_with_unknown_item_codes_settle(doc, data):
    """Unknown item codes are out of catalog, not invalid: the bill settles and its invariants hold."""
    bill = parse_bill_json(json.dumps(doc))
    result = settle(bill, CATALOGS, POLICY)
    check_settlement(result)
    assert result.totals.medfee_sumamt == bill.total_fen


@settings(max_examples=size(100, 1_000), deadline=None, derandomize=True)
@given(valid_bill_docs(), st.integers(1, 3000), st.data())
def test_a_date_with_no_catalog_edition_is_refused_naming_the_line(doc, days_before, data):
    """A bill dated before every catalog edition raises NoEditionInForce naming the line's date, never a silent zero."""
    shift = (DISCHARGE - FIRST_EDITION).days + days_before
    doc = copy.deepcopy(doc)
    for section, key in (("visit", "admission_date"), ("visit", "discharge_date")):
        doc[section][key] = (dt.date.fromisoformat(doc[section][key]) - dt.timedelta(days=shift)).isoformat()
    for line in doc["lines"]:
        line["date"] = (dt.date.fromisoformat(line["date"]) - dt.timedelta(days=shift)).isoformat()
    bill = parse_bill_json(json.dumps(doc))
    with pytest.raises(NoEditionInForce) as ei:
        settle(bill, CATALOGS, POLICY)
    sns = {ln.feedetl_sn for ln in bill.lines}
    dates = {ln.date.isoformat() for ln in bill.lines}
    where = str(ei.value) + json.dumps(ei.value.metadata)
    assert any(sn in where for sn in sns) or any(d in where for d in dates)


@settings(max_examples=size(100, 1_000), deadline=None, derandomize=True)
@given(valid_bill_docs(), st.sampled_from(["四级", "三甲", "社区", "x" * 50]))
def test_a_hospital_tier_the_policy_does_not_define_is_invalid_argument(doc, tier):
    """An unknown hospital tier is InvalidRequest naming hospital.tier (state of the policy, not an internal error)."""
    doc = {**doc, "hospital": {**doc["hospital"], "tier": tier}}
    bill = parse_bill_json(json.dumps(doc))
    with pytest.raises(InvalidRequest) as ei:
        settle(bill, CATALOGS, POLICY)
    assert [v.field for v in ei.value.violations] == ["hospital.tier"]


@settings(max_examples=size(300, 5_000), deadline=None, derandomize=True)
@given(st.one_of(st.binary(max_size=2_000), st.text(max_size=2_000)))
def test_arbitrary_bytes_are_refused_as_invalid_request(data):
    """Any byte string that is not a bill is InvalidRequest (never ValueError, UnicodeError or RecursionError)."""
    with pytest.raises(InvalidRequest):
        parse_bill_json(data)


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"lines":' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"hospital": ' * 10_000 + "1" + "}" * 10_000,
        '"' + "x" * 5_000_000 + '"',
        "\x00" * 1000,
        "\ufeff{}",
        '{"lines": [1], "lines": [2]}',
    ],
    ids=["deep-array", "deep-lines", "deep-objects", "5MB-string", "nul", "bom", "duplicate-key"],
)
def test_hostile_json_is_refused_as_invalid_request(payload):
    """Deep nesting, huge strings, NULs and duplicate keys are InvalidRequest, not a crash of the parser."""
    with pytest.raises(InvalidRequest):
        parse_bill_json(payload)


def test_too_many_lines_is_refused_naming_lines():
    """A bill above the line limit is refused as a whole, naming ``lines``, before any line is judged."""
    base = {
        "feedetl_sn": "x",
        "name": "n",
        "category": "09",
        "quantity": "1",
        "unit_price": "1",
        "amount_fen": 100,
        "date": ADMISSION.isoformat(),
    }
    doc = {
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
            "admission_date": ADMISSION.isoformat(),
            "discharge_date": DISCHARGE.isoformat(),
            "diagnoses": [{"code": "K35.800"}],
        },
        "lines": [{**base, "feedetl_sn": str(i)} for i in range(5_001)],
    }
    with pytest.raises(InvalidRequest) as ei:
        parse_bill_json(json.dumps(doc))
    assert [v.field for v in ei.value.violations] == ["lines"]


def test_the_smallest_valid_line_settles():
    """A line at the smallest quantity and price the wire allows (0.0001 × 0.000001, 0 fen) settles; it is not refused."""
    doc = {
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
            "admission_date": ADMISSION.isoformat(),
            "discharge_date": DISCHARGE.isoformat(),
            "diagnoses": [{"code": "K35.800"}],
        },
        "lines": [
            {
                "feedetl_sn": "1",
                "name": "n",
                "category": "09",
                "quantity": "0.0001",
                "unit_price": "0.000001",
                "amount_fen": 0,
                "date": ADMISSION.isoformat(),
            }
        ],
    }
    result = settle(parse_bill_json(json.dumps(doc)), CATALOGS, POLICY)
    check_settlement(result)
    assert result.totals.medfee_sumamt == 0
