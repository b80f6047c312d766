"""Loading product designs: shipped files, exact ratios, and errors naming file, line and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from products.prod_helpers import BASE_YAML

from onestop.errors import ConfigError, NotFound
from onestop.products import LiabilityKind, load_design, load_product, parse_design, shipped_designs


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_design(text, source="bad.yaml")
    return [f"{v.field}: {v.description}" for v in info.value.violations]


def test_shipped_designs_load_and_label_example_values():
    """The three shipped designs of domain §6 load, and each names its unsourced fields as example values."""
    designs = shipped_designs()
    assert set(designs) == {"heilongjiang-basic-2025", "heilongjiang-upgraded-2025", "tianjin-2025"}
    for d in designs.values():
        assert "premium_fen" in d.example_values
        assert d.source


def test_heilongjiang_upgraded_carries_the_sourced_figures():
    """The upgraded plan: CAR-T 100 % (35 % pre-existing) with 1.2万 deductible and 100万 sum insured."""
    d = load_design("heilongjiang-upgraded-2025")
    car_t = d.liability("car_t")
    assert car_t.kind is LiabilityKind.CAR_T
    assert (car_t.ratio, car_t.pre_existing_ratio) == (Decimal("1.00"), Decimal("0.35"))
    assert d.deductibles[car_t.deductible] == 1_200_000
    assert d.limits[car_t.limit] == 100_000_000
    assert (d.liability("in_catalog").ratio, d.liability("out_of_catalog").ratio) == (Decimal("0.90"), Decimal("0.70"))


def test_tianjin_shares_one_deductible_between_in_and_out_of_catalog():
    """Tianjin's 2万/year deductible is one pool for 医保内 and 医保外; 70 % with 30 % for pre-existing conditions."""
    d = load_design("tianjin-2025")
    assert d.liability("in_catalog").deductible == d.liability("out_of_catalog").deductible
    assert {lia.waiting_days for lia in d.liabilities} == {0}
    assert {lia.pre_existing_ratio for lia in d.liabilities} == {Decimal("0.30")}


def test_unknown_design_code_is_not_found():
    """Asking for a design that is not shipped names the shipped ones."""
    with pytest.raises(NotFound, match="tianjin-2025"):
        load_design("nowhere-2030")


def test_ratio_is_read_exactly_from_its_text():
    """A YAML ratio such as 0.70 is the Decimal of its text, never a binary float."""
    d = parse_design(BASE_YAML.replace("ratio: 0.50", "ratio: 0.333333333333333333333"))
    assert d.liability("out_of_catalog").ratio == Decimal("0.333333333333333333333")


def test_errors_name_file_line_and_field():
    """A bad value is reported as <file>:<line>: <field path> with the reason."""
    text = BASE_YAML.replace("ratio: 0.90", "ratio: 1.90").replace("premium_fen: 10000", "premium_fen: 100.00")
    lines = text.splitlines()
    ratio_line = next(i for i, ln in enumerate(lines, 1) if "ratio: 1.90" in ln)
    premium_line = next(i for i, ln in enumerate(lines, 1) if "premium_fen" in ln)
    problems = _problems(text)
    assert any(p.startswith(f"bad.yaml:{ratio_line}: liabilities[1].ratio: ") for p in problems), problems
    assert any(p.startswith(f"bad.yaml:{premium_line}: premium_fen: ") for p in problems), problems


def test_cross_field_errors_point_at_the_liability():
    """A liability naming an unknown pool is reported at that liability's line and field."""
    text = BASE_YAML.replace("limit: out_of_catalog", "limit: nowhere")
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if "limit: nowhere" in ln)
    problems = _problems(text)
    assert f"bad.yaml:{line_no}: liabilities[2].limit: no limit pool 'nowhere'" in problems


def test_missing_drug_list_unknown_field_and_duplicate_key_are_refused():
    """A drug liability without a list, an unknown field and a key given twice are each refused."""
    no_list = BASE_YAML.replace('    drugs: {cidl_nos: [10], names: ["fixture-drug"]}\n', "")
    assert any("drugs: a special_drug liability needs a drug list" in p for p in _problems(no_list))
    extra = BASE_YAML.replace("premium_fen: 10000", "premium_fen: 10000\nbonus: 1")
    assert any(p.startswith("bad.yaml:") and "bonus" in p for p in _problems(extra))
    twice = BASE_YAML.replace("premium_fen: 10000", "premium_fen: 10000\npremium_fen: 20000")
    assert any("premium_fen" in p and "twice" in p for p in _problems(twice))


def test_example_values_must_name_real_fields():
    """An example_values entry that names no field is refused (labels cannot drift from the data)."""
    text = BASE_YAML.replace("source: tests", "source: tests\nexample_values: [premium, limits.drugs]")
    problems = _problems(text)
    assert any("example_values[0]: no field 'premium'" in p for p in problems), problems


def test_unreadable_or_non_yaml_file_is_a_config_error(tmp_path: Path):
    """A missing file or broken YAML is a ConfigError naming the file (and the line for YAML)."""
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_product(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: [unclosed\nname: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_product(broken)
    assert info.value.violations[0].field.startswith("broken.yaml:")
