"""The packaged CHS-DRG 1.1 tables read into indexes as the scheme prints them."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from onestop.drg import load_tables
from onestop.drg.grouper import DIAGNOSIS_RE, PROCEDURE_RE
from onestop.drg.tables import ADRG_SECTIONS, TablesError

T = load_tables("harbin-2024")


def test_every_section_heading_is_understood() -> None:
    """All 14 headings of adrg_members.csv map to a rule part, and each is used by some ADRG."""
    text = resources.files("onestop").joinpath("data", "chs-drg-1.1", "adrg_members.csv").read_text(encoding="utf-8")
    headings = {row["section"] for row in csv.DictReader(text.splitlines())}
    assert headings == set(ADRG_SECTIONS)
    assert len(headings) == 14
    used = {s for rule in T.rules.values() for s in rule.sections}
    assert used == headings


def test_counts_match_the_provenance() -> None:
    """375 ADRGs in table order, 703 DRGs in the Harbin 2024 list."""
    assert len(T.rules) == 375
    assert sum(len(v) for v in T.drgs.values()) == 703


def test_every_known_code_has_the_shape_the_grouper_checks() -> None:
    """No code of the tables would be refused as malformed input."""
    assert all(DIAGNOSIS_RE.match(c) for c in T.diagnoses)
    assert all(PROCEDURE_RE.match(c) for c in T.procedures)


def test_combination_rules_are_disjunctions_of_conjunctions() -> None:
    """AC1: pancreas 和 kidney; JA1: 表1+表2 or 表1+表3+表4; NA1: 手术1 or 手术2+手术3; plain lists: one set."""
    assert [len(alt) for alt in T.rules["AC1"].procedures] == [2]
    assert [len(alt) for alt in T.rules["JA1"].procedures] == [2, 3]
    assert [len(alt) for alt in T.rules["NA1"].procedures] == [1, 2]
    assert [len(alt) for alt in T.rules["GD1"].procedures] == [1]
    assert T.rules["ES3"].procedures == ()


def test_mdc_r_treatment_groups_are_not_operating_room() -> None:
    """Chemotherapy 99.2503 (RB/RE groups) is not an OR procedure; an appendicectomy is."""
    assert "99.2503" not in T.or_procedures
    assert "47.0901" in T.or_procedures


def test_unknown_table_set_is_refused() -> None:
    """Asking for tables that are not packaged names the known ones."""
    with pytest.raises(TablesError, match="harbin-2024"):
        load_tables("shanghai-2030")


def test_tables_are_loaded_once() -> None:
    """The indexes are cached per table set."""
    assert load_tables("harbin-2024") is T
