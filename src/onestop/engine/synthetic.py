"""Seeded synthetic bills for benchmarks, load tests and large-bill property checks.

Hypothesis explores small bills well; 200–2,000-line inpatient bills need a seeded generator.
Bills are built from a list of :class:`ItemTemplate` (catalog codes the caller knows exist, or
codes deliberately out of catalog) so the same generator serves the real packaged catalogs and the
engine tests' fake catalog. Synthetic bills are fixtures: never present them as real claims.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onestop.domain.bill import Bill

__all__ = ["ItemTemplate", "synthetic_bill", "synthetic_bill_doc"]


@dataclass(frozen=True, slots=True)
class ItemTemplate:
    """An item a synthetic line can charge."""

    national_code: str
    name: str
    category: str
    """med_chrgitm_type code, e.g. ``09`` western drug."""
    min_price_fen: int
    max_price_fen: int
    dosage_form: str = ""
    spec: str = ""


def synthetic_bill_doc(
    rng: random.Random,
    n_lines: int,
    items: Sequence[ItemTemplate],
    *,
    hospital: dict[str, Any],
    patient: dict[str, Any],
    med_type: str = "21",
    admission: dt.date = dt.date(2026, 3, 1),
    los_days: int = 6,
    diagnoses: Sequence[str] = ("K35.800",),
    coverages: Sequence[dict[str, Any]] = (),
    work_injury: dict[str, Any] | None = None,
    work_share: float = 0.0,
) -> dict[str, Any]:
    """A bill as a JSON-able dict (what a hospital would send).

    Args:
        rng: Seeded random source (same seed → same bill).
        n_lines: Number of fee lines.
        items: What the lines charge; chosen uniformly.
        hospital: The ``hospital`` section.
        patient: The ``patient`` section.
        med_type: Visit med_type.
        admission: Admission date; lines are dated across the stay.
        los_days: Length of stay (0 for an outpatient visit).
        diagnoses: Diagnosis codes, principal first.
        coverages: Commercial coverages in payer order.
        work_injury: Optional ``work_injury`` section.
        work_share: Share of lines flagged work-related when ``work_injury`` is given (a probability, not money).
    """
    discharge = admission + dt.timedelta(days=los_days)
    lines: list[dict[str, Any]] = []
    for i in range(n_lines):
        it = items[rng.randrange(len(items))]
        price = rng.randint(it.min_price_fen, it.max_price_fen)
        qty = rng.randint(1, 6)
        line: dict[str, Any] = {
            "feedetl_sn": f"{i + 1:06d}",
            "national_code": it.national_code,
            "name": it.name,
            "category": it.category,
            "quantity": str(qty),
            "unit_price": f"{price // 100}.{price % 100:02d}",
            "amount_fen": price * qty,
            "hosp_appr_flag": "1",
            "date": (admission + dt.timedelta(days=rng.randint(0, los_days))).isoformat(),
        }
        if it.dosage_form:
            line["dosage_form"] = it.dosage_form
        if it.spec:
            line["spec"] = it.spec
        if work_injury is not None and rng.random() < work_share:
            line["work_related"] = True
        lines.append(line)
    doc: dict[str, Any] = {
        "hospital": hospital,
        "patient": patient,
        "visit": {
            "mdtrt_id": f"SYN{rng.randrange(10**9):09d}",
            "med_type": med_type,
            "admission_date": admission.isoformat(),
            "discharge_date": discharge.isoformat(),
            "diagnoses": [{"code": c} for c in diagnoses],
        },
        "lines": lines,
        "coverages": list(coverages),
    }
    if work_injury is not None:
        doc["work_injury"] = work_injury
    return doc


def synthetic_bill(rng: random.Random, n_lines: int, items: Sequence[ItemTemplate], **kwargs: Any) -> Bill:
    """Like :func:`synthetic_bill_doc`, validated into a :class:`~onestop.domain.Bill`."""
    import json

    return Bill.model_validate_json(json.dumps(synthetic_bill_doc(rng, n_lines, items, **kwargs)))
