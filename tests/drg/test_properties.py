"""Properties of the grouper over cases drawn from the real code tables."""

from __future__ import annotations

from drg.drg_helpers import GROUPER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onestop.drg import Case, ChsDrg11Grouper, GroupStatus, load_tables
from onestop.drg.synthetic import synthetic_cases

T = load_tables("harbin-2024")
DIAGNOSES = sorted(T.diagnoses)
PRINCIPALS = sorted(T.principal_adrgs)
PROCEDURES = sorted(T.procedures)
NEWBORN = sorted(c for a in ("PR1", "PS1", "PU1") for c in (T.rules[a].principal or T.rules[a].any_diagnosis or ()))

cases = st.builds(
    Case,
    case_id=st.just("H"),
    sex=st.sampled_from(["1", "2", "9"]),
    age=st.integers(0, 99),
    age_days=st.one_of(st.none(), st.integers(0, 365)),
    birth_weight_g=st.one_of(st.none(), st.integers(500, 5000)),
    diagnoses=st.tuples(
        st.one_of(st.sampled_from(PRINCIPALS), st.sampled_from(NEWBORN), st.sampled_from(DIAGNOSES)),
        st.lists(st.one_of(st.sampled_from(DIAGNOSES), st.just("W19.x00")), max_size=4),
    ).map(lambda t: (t[0], *t[1])),
    procedures=st.lists(st.sampled_from(PROCEDURES), max_size=3).map(tuple),
    vent_hours=st.one_of(st.none(), st.integers(0, 200)),
)


def _check(r_case: Case) -> None:
    r = GROUPER.group(r_case)
    assert r.trace, "the trace is never empty"
    assert r.trace[-1] == r.reason
    if r.status is GroupStatus.GROUPED:
        assert r.drg[:3] == r.adrg, "the DRG belongs to its ADRG"
        entry = T.drg(r.drg)
        assert entry is not None, "the DRG exists in the DRG list"
        assert entry.weight == r.weight
        assert T.rules[r.adrg].mdc == r.mdc
    elif r.status is GroupStatus.UNGROUPABLE:
        assert (r.adrg, r.drg) == ("00", "0000")
    elif r.status is GroupStatus.AMBIGUOUS:
        assert r.drg == f"{r.mdc}QY"
    assert GROUPER.group(r_case) == r, "the same case always gives the same result"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_grouping_invariants_on_drawn_cases(c: Case) -> None:
    """Grouped → DRG of its ADRG and in the list (with its weight); every result has a trace; deterministic."""
    _check(c)


def test_grouping_invariants_on_synthetic_cases() -> None:
    """The same invariants over 3,000 cases built ADRG by ADRG from the tables; most of them group."""
    cs = synthetic_cases(3000, seed=7)
    for c in cs:
        _check(c)
    grouped = sum(GROUPER.group(c).status is GroupStatus.GROUPED for c in cs)
    assert grouped > len(cs) // 2


def test_a_fresh_grouper_answers_the_same() -> None:
    """Results do not depend on the grouper instance or on earlier calls."""
    fresh = ChsDrg11Grouper(T)
    for c in synthetic_cases(200, seed=3):
        assert fresh.group(c) == GROUPER.group(c)
