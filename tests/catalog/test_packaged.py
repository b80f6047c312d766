"""The packaged data: real files complete and verbatim-shaped, every fixture row marked, samples resolve."""

import csv
import datetime as dt

import pytest
from catalog.cat_helpers import hospital, line

from onestop.catalog import MatchedBy, default_catalogs, fixture_samples
from onestop.catalog.packaged import FILES, data_dir, load_packaged

BASE = data_dir()


def rows(rel: str) -> list[dict[str, str]]:
    with (BASE / rel).open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def test_real_excerpt_and_cidl_are_complete():
    """79 excerpt rows; all 19 CIDL drugs with 5 CAR-T products, valid 2026-01-01..2027-12-31."""
    data = load_packaged()
    real = [d for d in data.drugs if not d.fixture]
    assert len(real) == 79
    cidl = {c.no: c for c in data.cidl if not c.fixture}
    assert sorted(cidl) == list(range(1, 20))
    assert sum(c.category_code == "XL01XL" for c in cidl.values()) == 5
    assert {(c.valid_from, c.valid_to) for c in cidl.values()} == {(dt.date(2026, 1, 1), dt.date(2027, 12, 31))}


def test_kangxi_radical_is_kept_in_the_real_data():
    """The real 他克莫司颗粒 备注 keeps the Kangxi radical as published (normalised only when compared)."""
    (row,) = [r for r in rows("real/nrdl-2025-excerpt/nrdl_2025_west_excerpt.csv") if r["name_zh"] == "他克莫司颗粒"]
    assert "\u2f09" in row["restriction"]


@pytest.mark.parametrize(
    "rel", [rel for rel, _ in FILES if rel.startswith("fixtures/")] + ["fixtures/confidential_standards.csv"]
)
def test_every_fixture_row_is_marked(rel):
    """Every row of every fixtures/ file has fixture=1 and the file says FIXTURE in its header comment."""
    text = (BASE / rel).read_text(encoding="utf-8")
    assert text.startswith("# FIXTURE")
    assert rows(rel)
    assert all(r["fixture"] == "1" for r in rows(rel))


def test_fixture_codes_copy_the_real_2025_rows():
    """A fixture code row of the 2025 edition repeats its real listing's class and 备注 exactly."""
    data = load_packaged()
    real = {(d.name, d.form): d for d in data.drugs if d.edition == "nrdl-2025" and not d.fixture}
    for d in data.drugs:
        if d.edition == "nrdl-2025" and d.fixture and (d.name, d.form) in real:
            r = real[(d.name, d.form)]
            assert (d.lv, d.memo, d.section) == (r.lv, r.memo, r.section), d.name


def test_the_one_unparseable_standard_is_reported():
    """Loading notes the real "见备注2" standard as kept text, with its file and line."""
    (note,) = load_packaged().notes
    assert note.startswith("nrdl_2025_west_excerpt.csv:67: STANDARD_AS_TEXT")


def test_provenance_is_shipped():
    """The data directory carries its PROVENANCE.md."""
    assert "Licence" in (BASE / "PROVENANCE.md").read_text(encoding="utf-8")


def test_default_catalogs_is_cached():
    """default_catalogs() builds once per process."""
    assert default_catalogs() is default_catalogs()


EXPECT = {
    # key: (in_catalog, class text or None, standard fen or None, flag)
    "drug_a": (True, "01", 60, None),
    "drug_b_restricted": (True, "02", None, "indication"),
    "negotiated_standard": (True, "02", 42500, "negotiated"),
    "negotiated_confidential": (True, "02", 1234, "confidential"),
    "bid_specs": (True, "02", 315, None),
    "transition": (True, "02", 15000, "transition"),
    "work_injury_only": (True, "02", None, "work_injury_only"),
    "maternity_only": (True, "02", None, "maternity_only"),
    "facility_level": (True, "02", None, "facility_level"),
    "course_days": (True, "02", None, "course_days"),
    "cidl_car_t_name": (False, None, None, "cidl"),
    "cidl_code": (False, None, None, "cidl"),
    "dual_channel": (True, "02", 120000, "dual_channel"),
    "two_diseases": (True, "02", 105, "two_diseases"),
    "preparation_group": (True, "02", 1750, "preparation"),
    "service_bed": (True, "01", 3500, None),
    "service_surgery": (True, "01", 90000, None),
    "service_nursing": (True, "01", 4000, None),
    "consumable_cap": (True, "02", 12000, None),
    "hospital_map": (True, "01", 60, "hospital_map"),
}


@pytest.mark.parametrize("sample", fixture_samples(), ids=lambda s: s.key)
def test_each_fixture_sample_shows_its_feature(sample):
    """Each documented sample code resolves with the property the docs table promises."""
    in_catalog, lv, fen, flag = EXPECT[sample.key]
    res = default_catalogs().resolve(
        line(sample.national_code, sample.date, name=sample.name, category=sample.category, spec=sample.spec,
             form=sample.dosage_form, hospital_code=sample.hospital_code),
        hospital(sample.region, sample.hospital),
    )  # fmt: skip
    assert res.in_catalog is in_catalog
    if lv is not None:
        assert res.chrgitm_lv.value == lv
    assert (res.standard.amount_fen if res.standard else None) == fen
    kinds = {r.kind.value for r in res.restrictions}
    checks = {
        None: True,
        "indication": "indication" in kinds,
        "negotiated": res.negotiated,
        "confidential": res.standard is not None and res.standard.confidential,
        "transition": res.transition_until == dt.date(2026, 6, 30),
        "work_injury_only": "work_injury_only" in kinds,
        "maternity_only": "maternity_only" in kinds,
        "facility_level": "facility_level" in kinds,
        "course_days": "course_days" in kinds,
        "cidl": res.cidl is not None,
        "dual_channel": res.dual_channel,
        "two_diseases": res.two_diseases,
        "preparation": res.hospital_preparation is not None and res.hospital_preparation.group_approved,
        "hospital_map": res.matched_by is MatchedBy.HOSPITAL_MAP,
    }
    assert checks[flag]


def test_sample_keys_are_unique_and_all_expected():
    """The sample list and the expectations above cover the same features."""
    keys = [s.key for s in fixture_samples()]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(EXPECT)
