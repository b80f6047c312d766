"""The catalog data shipped inside the package (``onestop/data/catalog``), read into rows.

Three kinds of files live there (see its PROVENANCE.md): ``real/`` — public data copied verbatim
and adapted here (the 2025 NRDL excerpt and its 支付标准 column, the complete CIDL, the NHSA 两库
rule lists); ``seeded/`` — rows stated by the provincial notices (transition windows, 双通道 and
两病 changes); ``fixtures/`` — invented rows in the import formats, each marked ``fixture=1``.
The confidential-standard fixture is read only when asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from onestop.catalog._rows import (
    NATIONAL,
    AuditRule,
    CatalogData,
    CidlRow,
    ConfidentialRow,
    DrugRow,
    EditionRow,
    ItemRow,
    ListRow,
    MapRow,
    PrepRow,
    StandardRow,
    TransitionRow,
)
from onestop.catalog.csvformat import read_csv
from onestop.catalog.resolution import StandardSource
from onestop.catalog.standards import parse_standard_text
from onestop.domain.codes import ChrgitmLv

__all__ = [
    "CONFIDENTIAL_FIXTURE",
    "EXCERPT_EDITION",
    "data_dir",
    "load_packaged",
    "read_audit_rules",
    "read_cidl",
    "read_nrdl_excerpt",
]

EXCERPT_EDITION = "nrdl-2025"
CIDL_EDITION = "cidl-2025"
_PERIOD = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日至(\d{4})年(\d{1,2})月(\d{1,2})日")
_LV = {"甲": ChrgitmLv.A, "乙": ChrgitmLv.B, "丙": ChrgitmLv.C}

#: Packaged files in import format: (relative path, kind).
FILES: tuple[tuple[str, str], ...] = (
    ("fixtures/drugs_nrdl_2023.csv", "drug"),
    ("fixtures/drugs_nrdl_2024.csv", "drug"),
    ("fixtures/drugs_nrdl_2025_codes.csv", "drug"),
    ("fixtures/services.csv", "service"),
    ("fixtures/consumables.csv", "consumable"),
    ("fixtures/standards.csv", "standard"),
    ("fixtures/hospital_map.csv", "hospital-map"),
    ("fixtures/cidl_codes.csv", "cidl"),
    ("fixtures/preparations_jilin.csv", "preparation"),
    ("seeded/transitions.csv", "transition"),
    ("seeded/dual_channel_jilin.csv", "dual-channel"),
    ("seeded/two_diseases_jilin.csv", "two-diseases"),
)
CONFIDENTIAL_FIXTURE = "fixtures/confidential_standards.csv"

# rule_set → (codes file, names file or "", kind, code column, value column in the names/codes file)
_AUDIT: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "b1_drug_age_limit",
        "b1_drug_age_limit_codes.csv",
        "b1_drug_age_limit_names.csv",
        "age_children",
        "国标代码",
        "限定对象",
    ),
    (
        "b1_drug_gender_limit",
        "b1_drug_gender_limit_codes.csv",
        "b1_drug_gender_limit_names.csv",
        "sex",
        "药品代码",
        "限定对象",
    ),
    ("b1_item_age_limit", "b1_item_age_limit.csv", "", "age_children", "国标代码", "限定对象"),
    ("b1_item_gender_limit", "b1_item_gender_limit.csv", "", "sex", "国标代码", "限定性别"),
    (
        "b3_drug_insurance_type_limit",
        "b3_drug_insurance_type_limit_codes.csv",
        "b3_drug_insurance_type_limit_names.csv",
        "fund",
        "国标代码",
        "限定对象",
    ),
    (
        "b4_drug_care_setting_limit",
        "b4_drug_care_setting_limit_codes.csv",
        "b4_drug_care_setting_limit_names.csv",
        "setting",
        "国标代码",
        "限定值域",
    ),
    (
        "b5_drug_facility_level_limit",
        "b5_drug_facility_level_limit_codes.csv",
        "b5_drug_facility_level_limit_names.csv",
        "facility",
        "国标代码",
        "限定值域",
    ),
    (
        "b6_drug_payment_duration_limit",
        "b6_drug_payment_duration_limit_codes.csv",
        "b6_drug_payment_duration_limit_names.csv",
        "course",
        "国标代码",
        "限定值域",
    ),
)


def data_dir() -> Path:
    """The packaged ``onestop/data/catalog`` directory."""
    return Path(str(resources.files("onestop") / "data" / "catalog"))


def _dict_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}


def _period(text: str) -> tuple[dt.date, dt.date] | None:
    m = _PERIOD.search(text)
    if m is None:
        return None
    y1, m1, d1, y2, m2, d2 = (int(g) for g in m.groups())
    return dt.date(y1, m1, d1), dt.date(y2, m2, d2)


def read_nrdl_excerpt(
    path: Path, edition: EditionRow
) -> tuple[tuple[DrugRow, ...], tuple[StandardRow, ...], tuple[str, ...]]:
    """Adapt the verbatim 2025 excerpt: listing rows (no codes) and its 支付标准 column as standard rows.

    A standard is valid over the row's 协议有效期 (or from the edition's start when none is given).
    Unparseable quotations are kept as text rows with a note ``file:line: STANDARD_AS_TEXT …``.
    """
    drugs: list[DrugRow] = []
    standards: list[StandardRow] = []
    notes: list[str] = []
    for line, r in _dict_rows(path):
        drugs.append(
            DrugRow(
                edition=edition.edition,
                code="",
                catalog_no=r["no"],
                name=r["name_zh"],
                form=r["dosage_form"],
                spec="",
                section=r["section"],
                lv=_LV[r["class"]],
                memo=r["restriction"],
                category_code=r["category_code"],
                fixture=False,
            )
        )
        parsed, warnings = parse_standard_text(r["payment_standard"])
        notes.extend(f"{path.name}:{line}: {w}" for w in warnings)
        if not parsed:
            continue
        period = _period(r["agreement_period"])
        start, end = period if period else (edition.valid_from, None)
        source = StandardSource.NEGOTIATED if "谈判" in r["section"] else StandardSource.BID
        for p in parsed:
            standards.append(
                StandardRow(
                    code="",
                    name=r["name_zh"],
                    spec=p.spec,
                    unit=p.unit,
                    source=source,
                    amount_fen=p.amount_fen,
                    confidential=p.confidential,
                    region=NATIONAL,
                    valid_from=start,
                    valid_to=end,
                    text="" if p.amount_fen is not None or p.confidential else p.text,
                    fixture=False,
                )
            )
    return tuple(drugs), tuple(standards), tuple(notes)


def read_cidl(path: Path, edition: str) -> tuple[CidlRow, ...]:
    """Adapt the verbatim CIDL list (19 drugs, no national codes)."""
    out = []
    for _line, r in _dict_rows(path):
        period = _period(r["validity"])
        if period is None:  # pragma: no cover - every real row has its validity
            raise ValueError(f"{path.name}: row {r['no']} has no validity period")
        out.append(
            CidlRow(
                edition=edition,
                no=int(r["no"]),
                name=r["name_zh"],
                form="",
                brand=r["brand_name_zh"],
                category_code=r["category_code"],
                valid_from=period[0],
                valid_to=period[1],
                code="",
                fixture=False,
            )
        )
    return tuple(out)


def read_audit_rules(folder: Path) -> tuple[AuditRule, ...]:
    """Adapt the NHSA 两库 lists (code sheets joined to their name sheets) into audit rules."""
    rules: list[AuditRule] = []
    for rule_set, codes_file, names_file, kind, code_col, value_col in _AUDIT:
        info: dict[str, tuple[str, str]] = {}
        if names_file:
            for _line, r in _dict_rows(folder / names_file):
                info[r["药品通用名"]] = (r.get(value_col, ""), r.get("药品说明", ""))
        seen: set[str] = set()
        for _line, r in _dict_rows(folder / codes_file):
            code = r.get(code_col, "")
            name = r.get("药品通用名") or r.get("项目名称", "")
            if not code or code in seen:
                continue
            seen.add(code)
            value, text = info.get(name, (r.get(value_col, ""), r.get("项目说明", "")))
            if not value:
                continue
            rules.append(AuditRule(rule_set=rule_set, code=code, name=name, kind=kind, value=value, text=text))
    return tuple(rules)


def load_packaged(confidential: Path | None = None, *, with_confidential_fixture: bool = False) -> CatalogData:
    """All packaged rows as one :class:`CatalogData`.

    Args:
        confidential: A confidential-standards file (import format ``confidential``) to read.
        with_confidential_fixture: Read the packaged, labelled fixture of confidential numbers
            (used when ``confidential`` is None).
    """
    base = data_dir()
    editions = read_csv(base / "editions.csv", "edition")
    ed_kinds = {e.edition: e.kind for e in editions}
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for rel, kind in FILES:
        by_kind[kind].extend(read_csv(base / rel, kind, ed_kinds))
    excerpt_edition = next(e for e in editions if e.edition == EXCERPT_EDITION)
    real_drugs, real_standards, notes = read_nrdl_excerpt(
        base / "real" / "nrdl-2025-excerpt" / "nrdl_2025_west_excerpt.csv", excerpt_edition
    )
    cidl = read_cidl(base / "real" / "nrdl-2025-excerpt" / "cidl_2025.csv", CIDL_EDITION)
    conf_path = confidential if confidential is not None else (base / CONFIDENTIAL_FIXTURE)
    conf: tuple[ConfidentialRow, ...] = ()
    if confidential is not None or with_confidential_fixture:
        conf = read_csv(conf_path, "confidential")
    items: list[ItemRow] = [*by_kind["service"], *by_kind["consumable"]]
    maps: list[MapRow] = by_kind["hospital-map"]
    dual: list[ListRow] = by_kind["dual-channel"]
    two: list[ListRow] = by_kind["two-diseases"]
    preps: list[PrepRow] = by_kind["preparation"]
    trans: list[TransitionRow] = by_kind["transition"]
    return CatalogData(
        editions=editions,
        drugs=(*real_drugs, *by_kind["drug"]),
        items=tuple(items),
        standards=(*real_standards, *by_kind["standard"]),
        confidential=conf,
        hospital_map=tuple(maps),
        cidl=(*cidl, *by_kind["cidl"]),
        dual_channel=tuple(dual),
        two_diseases=tuple(two),
        preparations=tuple(preps),
        transitions=tuple(trans),
        audit_rules=read_audit_rules(base / "real" / "nhsa-rule-kb"),
        notes=notes,
    )
