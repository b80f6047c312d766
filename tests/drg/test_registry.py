"""Choosing the grouper by (region, scheme version, date); the textbook region's parameters."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pytest
from drg.drg_helpers import case

from onestop.drg import GroupStatus, group, grouper_for, load_tables
from onestop.errors import ConfigError, NoGrouper
from onestop.policy import load_policy, policy_for


def test_textbook_region_uses_chs_drg_11_with_harbin_tables() -> None:
    """990100 is configured with CHS-DRG 1.1 and the Harbin 2024 tables, labelled as example parameters."""
    grouper, settings = grouper_for("990100", dt.date(2026, 3, 1))
    assert grouper.scheme == "chs-drg-1.1"
    assert settings.tables == "harbin-2024"
    assert "Harbin" in settings.label
    assert "example parameters" in settings.label


def test_textbook_base_rates_are_the_published_harbin_rates() -> None:
    """The policy's base rates equal the packaged 哈尔滨 I 级费率 2024 (职工 12,252.70, 居民 9,649.24 yuan)."""
    settings = policy_for("990100", dt.date(2026, 3, 1)).drg
    assert settings is not None
    rates = load_tables("harbin-2024").base_rate_fen
    assert settings.base_rate_fen == {"310": rates["职工"], "390": rates["居民"]}
    assert settings.base_rate_fen == {"310": 1_225_270, "390": 964_924}


@pytest.mark.parametrize(
    ("region", "day", "scheme"),
    [
        ("220100", dt.date(2026, 3, 1), None),  # Changchun's policy configures no DRG
        ("330100", dt.date(2026, 3, 1), None),  # nor Hangzhou's
        ("990100", dt.date(2023, 12, 31), None),  # before the textbook DRG settings start
        ("990100", dt.date(2026, 3, 1), "chs-drg-2.0"),  # another scheme version
        ("110100", dt.date(2026, 3, 1), None),  # no policy at all
    ],
)
def test_unconfigured_pairs_answer_no_grouper(region: str, day: dt.date, scheme: str | None) -> None:
    """A (region, date, scheme) with no DRG configured is an explicit NO_GROUPER, never a silent default."""
    with pytest.raises(NoGrouper) as info:
        grouper_for(region, day, scheme)
    assert info.value.reason == "NO_GROUPER"
    assert region in str(info.value)


def test_group_chooses_by_the_case_region_and_date() -> None:
    """``group(case)`` uses the case's region and discharge date; without them it answers missing_data."""
    r = group(case("J18.900", region="990100", discharge_date=dt.date(2026, 3, 1)))
    assert r.drg == "ES35"
    assert group(case("J18.900")).status is GroupStatus.MISSING_DATA
    with pytest.raises(NoGrouper):
        group(case("J18.900", region="220100", discharge_date=dt.date(2026, 3, 1)))


def test_bad_drg_section_in_a_policy_file_names_the_field(tmp_path: Path) -> None:
    """A policy file whose drg section writes a threshold as a YAML float is refused, naming file and field."""
    text = resources.files("onestop.policy").joinpath("regions", "textbook.yaml").read_text(encoding="utf-8")
    assert 'high_ratio: "3"' in text
    path = tmp_path / "textbook.yaml"
    path.write_text(text.replace('high_ratio: "3"', "high_ratio: 3.5"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    fields = [v.field for v in info.value.violations]
    assert any("textbook.yaml" in f and "drg.high_ratio" in f for f in fields)
