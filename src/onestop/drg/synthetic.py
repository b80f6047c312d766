"""Synthetic inpatient cases built from the real CHS-DRG code tables (for benchmarks and property tests).

Each case starts from a randomly chosen ADRG: its principal-diagnosis list gives the principal, its procedure
rule one procedure per required set; secondaries come from the CC/MCC list, with now and then a code the
tables do not use. A share of newborns and of codes outside their ADRG keep every status in the mix.
Deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator

from onestop.drg.case import Case
from onestop.drg.csvio import INPUT_OPTIONAL, INPUT_REQUIRED, parse_case_row
from onestop.drg.tables import DrgTables, load_tables

__all__ = ["synthetic_cases", "synthetic_csv", "synthetic_rows"]

_UNUSED = ("W19.x00", "X59.900", "V89.200", "Y83.900")  # external-cause codes the tables omit


def synthetic_rows(n: int, seed: int = 0, tables: DrgTables | None = None) -> Iterator[dict[str, str]]:
    """``n`` case rows in the ``onestop drg group`` input columns."""
    t = tables or load_tables()
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    rules = [r for r in t.rules.values() if r.principal or r.procedures or r.any_diagnosis]
    cc_codes = sorted(t.cc)
    principals = sorted(t.principal_adrgs)
    by_mdc: dict[str, list[str]] = {}
    for code in principals:
        for adrg in t.principal_adrgs[code]:
            by_mdc.setdefault(t.rules[adrg].mdc, []).append(code)
    or_codes = sorted(t.or_procedures)
    for i in range(n):
        rule = rng.choice(rules)
        pool = rule.principal or rule.any_diagnosis
        # A procedure-only ADRG takes a principal of its own MDC (pre-MDC groups take any).
        principal = rng.choice(sorted(pool)) if pool else rng.choice(by_mdc.get(rule.mdc, principals))
        procedures: list[str] = []
        if rule.procedures:
            for codes in rng.choice(rule.procedures):
                procedures.append(rng.choice(sorted(codes)))
        if rng.random() < 0.05:
            procedures.append(rng.choice(or_codes))  # may make the case 歧义
        secondaries = [rng.choice(cc_codes) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.1:
            secondaries.append(rng.choice(_UNUSED))
        newborn = rule.mdc == "P" or rng.random() < 0.02
        age_days = rng.randint(0, 28) if newborn else None
        total = rng.randint(200_000, 20_000_000)
        cidl = rng.choice((0, 0, 0, 0, rng.randint(1, total // 2)))
        yield {
            "case_id": f"S{seed}-{i:07d}",
            "sex": rng.choice("12"),
            "age": "0" if newborn else str(rng.randint(1, 95)),
            "age_days": "" if age_days is None else str(age_days),
            "birth_weight_g": str(rng.randint(600, 4500)) if newborn else "",
            "dept": "",
            "los_days": str(rng.randint(1, 40)),
            "discharge_way": "1",
            "diagnoses": "|".join([principal, *secondaries]),
            "procedures": "|".join(procedures),
            "vent_hours": rng.choice(("", "", "", "120")),
            "insutype": rng.choice(("310", "390")),
            "region": "990100",
            "discharge_date": (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300))).isoformat(),
            "total_cost_fen": str(total),
            "cidl_cost_fen": str(cidl),
            "cidl_covered": rng.choice(("", "1")) if cidl else "",
        }


def synthetic_csv(n: int, seed: int = 0) -> str:
    """``n`` synthetic cases as the text of a ``onestop drg group`` input file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=INPUT_REQUIRED + INPUT_OPTIONAL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(synthetic_rows(n, seed))
    return out.getvalue()


def synthetic_cases(n: int, seed: int = 0) -> list[Case]:
    """``n`` synthetic cases (see :func:`synthetic_rows`)."""
    return [parse_case_row(row, i + 2) for i, row in enumerate(synthetic_rows(n, seed))]
