"""The catalog store and `onestop catalog import`: all-or-nothing loading, replacement, confidential paths."""

import datetime as dt
from pathlib import Path

import pytest
from catalog.cat_helpers import hospital, line
from click.testing import CliRunner
from sqlalchemy import func, select

from onestop.catalog import default_catalogs, fixture_samples, open_catalogs
from onestop.catalog.cli import catalog
from onestop.catalog.packaged import data_dir
from onestop.catalog.store import _SQL, CatalogStore

HEADER = "edition,med_list_codg,catalog_no,drug_genname,drug_dosform,drug_spec,section,chrgitm_lv,memo,category_code,fixture\n"
NEW = "XA99AFX0001000000000000"


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory) -> str:
    """One seeded SQLite store per module (seeding takes a second), copied per test."""
    path = tmp_path_factory.mktemp("store") / "seed.sqlite"
    url = f"sqlite:///{path}"
    open_catalogs(url)
    return str(path)


@pytest.fixture
def url(seeded_db, tmp_path) -> str:
    target = tmp_path / "catalog.sqlite"
    target.write_bytes(Path(seeded_db).read_bytes())
    return f"sqlite:///{target}"


def drug_count(url: str) -> int:
    store = CatalogStore(url)
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(_SQL["catalog_drug"])).scalar_one()
    store.close()
    return int(n)


def test_store_resolves_like_the_packaged_data(url):
    """A store seeded from the packaged data resolves every fixture sample exactly as the packaged set."""
    stored = open_catalogs(url, confidential_path=data_dir() / "fixtures" / "confidential_standards.csv")
    packaged = default_catalogs()
    for s in fixture_samples():
        ln = line(s.national_code, s.date, name=s.name, category=s.category, spec=s.spec, form=s.dosage_form,
                  hospital_code=s.hospital_code)  # fmt: skip
        h = hospital(s.region, s.hospital)
        assert stored.resolve(ln, h) == packaged.resolve(ln, h), s.key


def test_bad_file_loads_nothing(url, tmp_path):
    """One bad row among good ones: exit 1, each bad row as file:line, and the store is unchanged."""
    before = drug_count(url)
    f = tmp_path / "drugs.csv"
    f.write_text(
        HEADER
        + f"nrdl-2025,{NEW},1,新药,片剂,,西药部分,乙,,XA99A,1\nnrdl-2025,XA99AFX0002000000000000,2,坏药,,,西药部分,丁,,,1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(catalog, ["import", str(f), "--kind", "drug", "--url", url])
    assert result.exit_code == 1
    assert f"{f}:3: chrgitm_lv" in result.output
    assert drug_count(url) == before


def test_good_file_loads_and_reimport_replaces(url, tmp_path):
    """A valid file loads; importing it again replaces the same keys instead of duplicating them."""
    before = drug_count(url)
    f = tmp_path / "drugs.csv"
    f.write_text(HEADER + f"nrdl-2025,{NEW},1,新药,片剂,,西药部分,乙,,XA99A,1\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(catalog, ["import", str(f), "--kind", "drug", "--url", url]).exit_code == 0
    assert runner.invoke(catalog, ["import", str(f), "--kind", "drug", "--url", url]).exit_code == 0
    assert drug_count(url) == before + 1
    res = open_catalogs(url).resolve(line(NEW, dt.date(2026, 3, 2)), hospital())
    assert res.in_catalog
    assert res.name == "新药"


def test_import_that_breaks_the_catalogs_is_rolled_back(url, tmp_path):
    """An edition starting the same day as a loaded one would make dates ambiguous: nothing is loaded."""
    f = tmp_path / "editions.csv"
    f.write_text("edition,kind,title,begndate\nnrdl-x,drug,重复版本,2026-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(catalog, ["import", str(f), "--kind", "edition", "--url", url])
    assert result.exit_code == 1
    assert "nrdl-x" not in {e.id for e in open_catalogs(url).editions()}


def test_new_edition_abolishes_the_previous(url, tmp_path):
    """Importing a 2026 edition (from 2027-01-01) ends the 2025 edition on 2026-12-31."""
    f = tmp_path / "editions.csv"
    f.write_text("edition,kind,title,begndate\nnrdl-2026,drug,新版目录,2027-01-01\n", encoding="utf-8")
    assert CliRunner().invoke(catalog, ["import", str(f), "--kind", "edition", "--url", url]).exit_code == 0
    eds = {e.id: e for e in open_catalogs(url).editions()}
    assert eds["nrdl-2025"].valid_to == dt.date(2026, 12, 31)


def test_confidential_numbers_are_not_stored(url, tmp_path):
    """--kind confidential records the file's path; the numbers never enter the store."""
    src = data_dir() / "fixtures" / "confidential_standards.csv"
    conf = tmp_path / "conf.csv"
    conf.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(catalog, ["import", str(conf), "--kind", "confidential", "--url", url])
    assert result.exit_code == 0
    store = CatalogStore(url)
    assert store.load().confidential == ()
    assert store.confidential_path == conf.resolve()
    store.close()
    conf_text = conf.read_text(encoding="utf-8")
    conf.write_text(conf_text.replace("12.34", "43.21"), encoding="utf-8")  # numbers are read from the file
    s = open_catalogs(url).resolve(line("XV03AEFX006000000000000"), hospital()).standard
    assert s is not None
    assert s.amount_fen == 4321


def test_without_confidential_source_the_store_has_no_number(url):
    """A store without a registered confidential file resolves "*" standards without a number."""
    s = open_catalogs(url).resolve(line("XV03AEFX006000000000000"), hospital()).standard
    assert s is not None
    assert s.confidential
    assert s.amount_fen is None
