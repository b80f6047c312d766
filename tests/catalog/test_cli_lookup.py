"""`onestop catalog lookup` and `CatalogSet.lookup`: entries, standards, masking and fixture labels."""

import datetime as dt

from click.testing import CliRunner

from onestop.catalog import default_catalogs
from onestop.catalog.cli import catalog

AT = dt.date(2026, 3, 2)


def test_lookup_masks_confidential_numbers_everywhere():
    """The "*" standard of 蔗糖羟基氧化铁咀嚼片 shows "*" in the model, its JSON and the CLI text."""
    res = default_catalogs().lookup(code="XV03AEFX006000000000000", at=AT)
    (entry,) = res.entries
    assert [s.amount for s in entry.standards] == ["*"]
    dumped = res.model_dump_json()
    assert "12.34" not in dumped
    assert "1234" not in dumped
    out = CliRunner().invoke(
        catalog, ["lookup", "--packaged", "--code", "XV03AEFX006000000000000", "--at", "2026-03-02"]
    )
    assert out.exit_code == 0
    assert "12.34" not in out.output
    assert "standard negotiated: *" in out.output


def test_lookup_lists_every_spec_in_force():
    """A bid drug with two specs shows both standards, as yuan text."""
    res = default_catalogs().lookup(code="XC10ABFX007200000000000", at=AT)
    (entry,) = res.entries
    assert sorted(s.amount for s in entry.standards) == ["1.36", "3.15"]


def test_lookup_by_name_finds_real_listing_and_fixture_code():
    """By name, the real listing row (no code, not fixture) and the fixture-coded row both show, labelled."""
    res = default_catalogs().lookup(name="西甲硅油", form="口服液体剂", at=AT)
    assert [(e.national_code != "", e.fixture) for e in res.entries] == [(False, False), (True, True)]
    assert all(e.remark == "限胃肠镜检查和腹部影像学检查。" for e in res.entries)


def test_lookup_by_name_reports_a_cidl_drug():
    """A CIDL drug has no basic-catalog entry: lookup by name reports it as CIDL (CAR-T flagged)."""
    res = default_catalogs().lookup(name="瑞基奥仑赛注射液", at=AT)
    assert res.entries == ()
    (c,) = res.cidl
    assert c.no == 12
    assert c.car_t
    assert c.matched_by == "name"


def test_cli_no_edition_in_force_is_its_own_outcome():
    """Before the first edition the CLI says "no edition in force" with exit code 3 (not 'not in catalog')."""
    out = CliRunner().invoke(
        catalog, ["lookup", "--packaged", "--code", "XA03AFX0001000000000000", "--at", "2023-12-31"]
    )
    assert out.exit_code == 3
    assert "no edition in force" in out.output


def test_cli_not_in_catalog():
    """An unknown code on a covered date prints 'not in catalog' and exits 0."""
    out = CliRunner().invoke(
        catalog, ["lookup", "--packaged", "--code", "XZ99ZFX9999000000000000", "--at", "2026-03-02"]
    )
    assert out.exit_code == 0
    assert "not in catalog" in out.output


def test_cli_fixture_rows_are_labelled():
    """Fixture rows are printed with a [FIXTURE] label, never as official."""
    out = CliRunner().invoke(
        catalog,
        ["lookup", "--packaged", "--code", "XA10BJFX900100000000000", "--at", "2026-03-02", "--region", "220100"],
    )
    assert out.exit_code == 0
    assert "[FIXTURE]" in out.output
    assert "transition: paid at the original standard until 2026-06-30" in out.output


def test_cli_usage_errors():
    """Both --code and --name, or --form without --name, are usage errors."""
    runner = CliRunner()
    assert runner.invoke(catalog, ["lookup", "--code", "X", "--name", "Y", "--at", "2026-01-01"]).exit_code == 2
    assert runner.invoke(catalog, ["lookup", "--code", "X", "--form", "片", "--at", "2026-01-01"]).exit_code == 2


def test_lookup_by_name_finds_a_drug_inside_its_transition_window():
    """贝那鲁肽注射液 left the national list with the 2025 edition; Jilin pays it to 2026-06-30. A lookup by name
    finds it there on the window's last day (as by code) and not the day after."""
    cats = default_catalogs()
    on_last = cats.lookup(name="贝那鲁肽注射液", at=dt.date(2026, 6, 30), region="220100")
    by_code = cats.lookup(code="XA10BJFX900100000000000", at=dt.date(2026, 6, 30), region="220100")
    assert [e.national_code for e in on_last.entries] == [e.national_code for e in by_code.entries]
    assert on_last.entries
    after = cats.lookup(name="贝那鲁肽注射液", at=dt.date(2026, 7, 1), region="220100")
    assert not after.entries
