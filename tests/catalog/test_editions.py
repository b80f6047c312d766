"""Edition boundaries: each edition in force from its start, abolishing the previous one that day."""

import datetime as dt

import pytest
from catalog.cat_helpers import CODE_A, CODE_B, edition, hospital, line, small

from onestop.catalog import CatalogSet, default_catalogs
from onestop.catalog._rows import CatalogData
from onestop.errors import ConfigError, NoEditionInForce

D = dt.date
PIVERIUM = "XA03AFX0001000000000000"  # 匹维溴铵, in all three packaged editions (fixture codes)
SUCROFERRIC = "XV03AEFX006000000000000"  # 蔗糖羟基氧化铁咀嚼片, new in the 2025 edition


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 1, 1), "nrdl-2023"),
        (D(2024, 12, 31), "nrdl-2023"),
        (D(2025, 1, 1), "nrdl-2024"),
        (D(2025, 12, 31), "nrdl-2024"),
        (D(2026, 1, 1), "nrdl-2025"),
        (D(2031, 6, 1), "nrdl-2025"),
    ],
)
def test_edition_in_force_on_each_boundary(day, expected):
    """The day before a start date uses the previous edition, the start date the new one."""
    res = default_catalogs().resolve(line(PIVERIUM, day), hospital())
    assert res.edition == expected
    assert res.in_catalog


def test_no_edition_before_the_first_is_distinct_from_out_of_catalog():
    """2023-12-31 precedes every loaded edition: NoEditionInForce, not 'not in catalog'."""
    cats = default_catalogs()
    with pytest.raises(NoEditionInForce):
        cats.resolve(line(PIVERIUM, D(2023, 12, 31)), hospital())
    with pytest.raises(NoEditionInForce):
        cats.resolve(line("XZ99ZFX9999000000000000", D(2023, 12, 31)), hospital())
    with pytest.raises(NoEditionInForce):
        cats.lookup(code=PIVERIUM, at=D(2023, 12, 31))


def test_unknown_code_in_force_is_out_of_catalog():
    """On a covered date an unknown code is simply out of catalog, under the edition in force."""
    res = default_catalogs().resolve(line("XZ99ZFX9999000000000000", D(2026, 3, 2)), hospital())
    assert not res.in_catalog
    assert res.edition == "nrdl-2025"


def test_entry_new_in_2025_is_out_the_day_before():
    """A drug first listed in the 2025 edition is out of catalog on 2025-12-31 and in on 2026-01-01."""
    cats = default_catalogs()
    assert not cats.resolve(line(SUCROFERRIC, D(2025, 12, 31)), hospital()).in_catalog
    assert cats.resolve(line(SUCROFERRIC, D(2026, 1, 1)), hospital()).in_catalog


def test_open_ended_edition_is_abolished_by_the_next():
    """An edition without an end date stops the day before the next edition of its kind starts."""
    cats = CatalogSet(small())
    assert cats.resolve(line(CODE_B, D(2024, 12, 31)), hospital()).in_catalog is False
    assert cats.resolve(line(CODE_A, D(2024, 12, 31)), hospital()).edition == "e2024"
    assert cats.resolve(line(CODE_A, D(2025, 1, 1)), hospital()).edition == "e2025"
    info = {e.id: e for e in cats.editions()}
    assert info["e2024"].valid_to == D(2024, 12, 31)
    assert info["e2025"].valid_to is None


def test_two_editions_starting_the_same_day_are_refused():
    """Two editions of one kind cannot start on the same day (which one would be in force?)."""
    with pytest.raises(ConfigError):
        CatalogSet(CatalogData(editions=(edition("a", D(2024, 1, 1)), edition("b", D(2024, 1, 1)))))


def test_editions_carry_their_official_titles():
    """The 2023/2024 editions and the renamed 2025 edition keep their own official titles and periods."""
    eds = {e.id: e for e in default_catalogs().editions()}
    assert eds["nrdl-2023"].title.startswith("国家基本医疗保险、工伤保险和生育保险药品目录")
    assert eds["nrdl-2024"].title.startswith("国家基本医疗保险、工伤保险和生育保险药品目录")
    assert eds["nrdl-2025"].title.startswith("国家基本医疗保险、生育保险和工伤保险药品目录")
    assert (eds["nrdl-2023"].valid_from, eds["nrdl-2023"].valid_to) == (D(2024, 1, 1), D(2024, 12, 31))
    assert (eds["nrdl-2024"].valid_from, eds["nrdl-2024"].valid_to) == (D(2025, 1, 1), D(2025, 12, 31))
    assert eds["nrdl-2025"].valid_from == D(2026, 1, 1)
    assert (eds["cidl-2025"].valid_from, eds["cidl-2025"].valid_to) == (D(2026, 1, 1), D(2027, 12, 31))
    assert not any(eds[k].fixture for k in ("nrdl-2023", "nrdl-2024", "nrdl-2025", "cidl-2025"))
    assert eds["svc-fixture"].fixture
