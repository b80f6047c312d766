"""Shared builders for the DRG tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from onestop.drg import Case, ChsDrg11Grouper, DrgSettings, GroupResult, load_tables

GROUPER = ChsDrg11Grouper(load_tables("harbin-2024"))
DAY = dt.date(2026, 3, 1)


def case(*diagnoses: str, procedures: tuple[str, ...] = (), **kw: Any) -> Case:
    """An adult male case unless overridden."""
    fields: dict[str, Any] = {"case_id": "C1", "sex": "1", "age": 50, "diagnoses": diagnoses, "procedures": procedures}
    fields.update(kw)
    return Case(**fields)


def grouped(*diagnoses: str, procedures: tuple[str, ...] = (), **kw: Any) -> GroupResult:
    """Group a case built by :func:`case` with the Harbin-2024 tables."""
    return GROUPER.group(case(*diagnoses, procedures=procedures, **kw))


def settings(**over: Any) -> DrgSettings:
    """Weight × base-rate settings with round test figures, overridable."""
    doc: dict[str, Any] = {
        "scheme": "chs-drg-1.1",
        "tables": "harbin-2024",
        "label": "test parameters",
        "valid_from": "2024-01-01",
        "payment_mode": "weight_base_rate",
        "base_rate_fen": {"310": 1_000_000, "390": 800_000},
        "high_ratio": "3",
        "low_ratio": "0.4",
    }
    doc.update(over)
    import json

    return DrgSettings.model_validate_json(json.dumps(doc))
