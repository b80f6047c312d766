"""The CHS-DRG 1.1 tables, read once into precomputed indexes (dicts and frozensets, no per-case scans).

The packaged files (``onestop/data/chs-drg-1.1``, see its PROVENANCE.md) hold the ADRG member lists by
printed section heading, the CC/MCC flags with their exclusion tables, and a city's DRG list with weights
and base rates. Every section heading the member lists use is mapped to a rule part here; an unknown
heading stops the load, naming file and line, rather than being silently ignored.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from onestop.money import Fen, parse_yuan

__all__ = [
    "ADRG_SECTIONS",
    "NON_OR_TREATMENT_ADRGS",
    "TABLE_SETS",
    "AdrgRule",
    "DrgEntry",
    "DrgTables",
    "SexRule",
    "TablesError",
    "load_tables",
]

_PACKAGE = "onestop"
_DIR = ("data", "chs-drg-1.1")

TABLE_SETS: dict[str, tuple[str, str, str]] = {
    "harbin-2024": (
        "drg_weights_2024.csv",
        "drg_base_rates_2024.json",
        "CHS-DRG 1.1, 哈尔滨 I 级 weights and rates 2024",
    ),
    "2023": ("drg_weights_2023.csv", "drg_base_rates_2023.json", "CHS-DRG 1.1, weights and rates 2023 (no city label)"),
}
"""Packaged weights/base-rate sets by name: (weights file, rates file, label)."""

ADRG_SECTIONS: dict[str, str] = {
    "包含以下主要诊断：": "principal",
    "主要诊断：": "principal",
    "主要诊断或其他诊断中包含以下诊断：": "any_diagnosis",
    "包含以下主要手术或操作：": "procedure",
    # The source prints QJ1's procedure list under this heading (its first member's name): a plain procedure list.
    "重组蛋白输注": "procedure",
    "同时包含以下手术：": "pair_a",
    "和": "pair_b",
    "手术表1：": "table1",
    "手术表2：": "table2",
    "手术表3：": "table3",
    "手术表4：": "table4",
    "手术1：": "op1",
    "手术2：": "op2",
    "手术3：": "op3",
}
"""Every section heading of ``adrg_members.csv`` and the rule part it feeds (14 headings)."""

NON_OR_TREATMENT_ADRGS = frozenset({"RB1", "RB2", "RC1", "RD1", "RE1", "RG1"})
"""MDC R letters its chemotherapy/radiotherapy/interventional/targeted treatment groups B–G, like surgical
groups; their procedures are treatments, not operating-room procedures, so they do not make a case 歧义."""


class TablesError(ValueError):
    """A packaged table does not read as expected (names file and line)."""


@dataclass(frozen=True, slots=True)
class DrgEntry:
    """One DRG of the DRG list."""

    drg: str
    name: str
    weight: Decimal


@dataclass(frozen=True, slots=True)
class AdrgRule:
    """How a case enters one ADRG.

    ``procedures`` is a disjunction of conjunctions: the case qualifies when, for some alternative, each
    code set of that alternative holds at least one of the case's procedures. Empty = a medical ADRG.
    """

    adrg: str
    name: str
    mdc: str
    order: int
    principal: frozenset[str] | None
    any_diagnosis: frozenset[str] | None
    procedures: tuple[tuple[frozenset[str], ...], ...]
    sections: tuple[str, ...]

    @property
    def procedure_driven(self) -> bool:
        """Whether a procedure is needed to enter (surgical or non-OR procedure ADRG)."""
        return bool(self.procedures)

    @property
    def operating_room(self) -> bool:
        """Whether this is an operating-room (surgical) ADRG: second letter A–J, MDC R treatments and MDC A aside."""
        return (
            self.procedure_driven
            and "A" <= self.adrg[1] <= "J"
            and self.adrg not in NON_OR_TREATMENT_ADRGS
            and self.mdc != "A"
        )

    def procedure_match(self, procedures: frozenset[str]) -> tuple[str, ...] | None:
        """The procedures that satisfy the first matching alternative, or None."""
        for alternative in self.procedures:
            hits = []
            for codes in alternative:
                common = procedures & codes
                if not common:
                    break
                hits.append(min(common))
            else:
                return tuple(hits)
        return None


@dataclass(frozen=True, slots=True)
class SexRule:
    """A code prefix that only one sex can carry (labelled fixture)."""

    kind: str
    prefix: str
    sex: str


@dataclass(frozen=True)
class DrgTables:
    """The indexes one grouper needs, built once per table set."""

    name: str
    label: str
    rules: dict[str, AdrgRule]
    """ADRG → rule, in table order."""
    diagnoses: frozenset[str]
    """Every diagnosis code the tables know."""
    procedures: frozenset[str]
    """Every procedure code the tables know."""
    cc: dict[str, tuple[int, str]]
    """Diagnosis → (1 = CC, 2 = MCC; exclusion table id or "")."""
    exclusions: dict[str, frozenset[str]]
    """Exclusion table id → principal diagnoses that cancel the CC/MCC of codes pointing at it."""
    principal_adrgs: dict[str, tuple[str, ...]]
    """Diagnosis → ADRGs whose principal-diagnosis list holds it (table order)."""
    any_diagnosis_adrgs: dict[str, tuple[str, ...]]
    """Diagnosis → ADRGs entered by a principal or secondary diagnosis (newborn weight groups)."""
    procedure_adrgs: dict[str, tuple[str, ...]]
    """Procedure → ADRGs whose procedure lists hold it (table order)."""
    or_procedures: frozenset[str]
    """Procedures of operating-room ADRGs: one that no ADRG of the case's MDC takes makes the case 歧义."""
    drgs: dict[str, dict[str, DrgEntry]]
    """ADRG → suffix (1/3/5/9) → DRG of the DRG list."""
    base_rate_fen: dict[str, Fen]
    """Published base rate (费率) per weight point by 职工 / 居民, in fen."""
    sex_rules: tuple[SexRule, ...]
    """Sex-specific code prefixes (labelled fixture, not from the published tables)."""

    def drg(self, code: str) -> DrgEntry | None:
        """The DRG of the list with this code, or None."""
        group = self.drgs.get(code[:3])
        return None if group is None else group.get(code[3:])


def _rows(name: str) -> Iterator[tuple[int, dict[str, str]]]:
    text = resources.files(_PACKAGE).joinpath(*_DIR, name).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines(keepends=True) if not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("".join(lines)))
    for row in reader:
        yield reader.line_num, row


def _read_rules() -> tuple[dict[str, AdrgRule], set[str], set[str]]:
    names: dict[str, tuple[str, str]] = {}
    for _, row in _rows("adrg_list.csv"):
        names[row["adrg"]] = (row["adrg_name"], row["mdc"])
    parts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    seen_sections: dict[str, list[str]] = defaultdict(list)
    dx: set[str] = set()
    px: set[str] = set()
    for line, row in _rows("adrg_members.csv"):
        section = row["section"]
        part = ADRG_SECTIONS.get(section)
        if part is None:
            raise TablesError(f"adrg_members.csv line {line}: unknown section heading {section!r}")
        if row["adrg"] not in names:
            raise TablesError(f"adrg_members.csv line {line}: ADRG {row['adrg']!r} is not in adrg_list.csv")
        parts[row["adrg"]][part].add(row["code"])
        if section not in seen_sections[row["adrg"]]:
            seen_sections[row["adrg"]].append(section)
        (dx if part in ("principal", "any_diagnosis") else px).add(row["code"])
    rules = {}
    for order, (adrg, (name, mdc)) in enumerate(names.items()):
        p = parts.get(adrg, {})
        alternatives: list[tuple[frozenset[str], ...]] = []
        if "procedure" in p:
            alternatives.append((frozenset(p["procedure"]),))
        if "pair_a" in p or "pair_b" in p:
            alternatives.append((frozenset(p["pair_a"]), frozenset(p["pair_b"])))
        if any(f"table{i}" in p for i in range(1, 5)):
            # 手术表1–4 (JA1, 伴乳房重建): reconstruction with a radical excision, or with a partial excision
            # plus lymph-node dissection — read from the ADRG name and the lists' content.
            t1, t2, t3, t4 = (frozenset(p[f"table{i}"]) for i in range(1, 5))
            alternatives += [(t1, t2), (t1, t3, t4)]
        if any(f"op{i}" in p for i in range(1, 4)):
            # 手术1–3 (JA2, NA1): a radical excision, or a lesser excision together with lymph-node dissection.
            o1, o2, o3 = (frozenset(p[f"op{i}"]) for i in range(1, 4))
            alternatives += [(o1,), (o2, o3)]
        rules[adrg] = AdrgRule(
            adrg=adrg,
            name=name,
            mdc=mdc,
            order=order,
            principal=frozenset(p["principal"]) if "principal" in p else None,
            any_diagnosis=frozenset(p["any_diagnosis"]) if "any_diagnosis" in p else None,
            procedures=tuple(alternatives),
            sections=tuple(seen_sections.get(adrg, ())),
        )
    return rules, dx, px


def _index(rules: dict[str, AdrgRule]) -> tuple[dict[str, tuple[str, ...]], ...]:
    principal: dict[str, list[str]] = defaultdict(list)
    any_dx: dict[str, list[str]] = defaultdict(list)
    procs: dict[str, list[str]] = defaultdict(list)
    for adrg, rule in rules.items():
        for code in rule.principal or ():
            principal[code].append(adrg)
        for code in rule.any_diagnosis or ():
            any_dx[code].append(adrg)
        for code in {c for alt in rule.procedures for codes in alt for c in codes}:
            procs[code].append(adrg)
    order = {a: r.order for a, r in rules.items()}

    def freeze(d: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(sorted(v, key=order.__getitem__)) for k, v in d.items()}

    return freeze(principal), freeze(any_dx), freeze(procs)


def _read_drgs(weights_file: str, rules: dict[str, AdrgRule]) -> dict[str, dict[str, DrgEntry]]:
    drgs: dict[str, dict[str, DrgEntry]] = defaultdict(dict)
    for line, row in _rows(weights_file):
        code = row["drg"]
        if len(code) != 4 or code[3] not in "1359":
            raise TablesError(f"{weights_file} line {line}: DRG code {code!r} is not ADRG + suffix 1/3/5/9")
        try:
            weight = Decimal(row["weight"])
        except ArithmeticError as exc:
            raise TablesError(f"{weights_file} line {line}: weight {row['weight']!r} is not a decimal") from exc
        drgs[code[:3]][code[3]] = DrgEntry(code, row["drg_name"] or rules.get(code[:3], _NO_RULE).name, weight)
    return dict(drgs)


_NO_RULE = AdrgRule("", "", "", -1, None, None, (), ())


def _read_rates(rates_file: str) -> dict[str, Fen]:
    text = resources.files(_PACKAGE).joinpath(*_DIR, rates_file).read_text(encoding="utf-8")
    doc = json.loads(text)
    return {k: parse_yuan(v) for k, v in doc["base_rate_yuan"].items()}


def _read_cc() -> tuple[dict[str, tuple[int, str]], set[str], set[str]]:
    cc: dict[str, tuple[int, str]] = {}
    dx: set[str] = set()
    px: set[str] = set()
    for _, row in _rows("codes_adrg_cc_mcc.csv"):
        code = row["code"]
        (dx if row["code_type"] == "diagnosis" else px).add(code)
        level = 2 if row["is_mcc"] == "1" else 1 if row["is_cc"] == "1" else 0
        if level and level >= cc.get(code, (0, ""))[0]:
            cc[code] = (level, row["exclusion_table"])
    return cc, dx, px


def _read_exclusions() -> tuple[dict[str, frozenset[str]], set[str]]:
    tables: dict[str, set[str]] = defaultdict(set)
    for _, row in _rows("cc_exclusion_tables.csv"):
        tables[row["exclusion_table"]].add(row["code"])
    codes = {c for v in tables.values() for c in v}
    return {k: frozenset(v) for k, v in tables.items()}, codes


def _read_sex_rules() -> tuple[SexRule, ...]:
    return tuple(SexRule(row["kind"], row["prefix"], row["sex"]) for _, row in _rows("fixtures/sex_specific_codes.csv"))


@functools.cache
def load_tables(name: str = "harbin-2024") -> DrgTables:
    """Read the packaged tables once (cached per table set) into precomputed indexes.

    Args:
        name: A key of :data:`TABLE_SETS` (which weights and base rates).

    Raises:
        TablesError: For an unknown table set or a table that does not read as expected.
    """
    if name not in TABLE_SETS:
        raise TablesError(f"unknown DRG table set {name!r}; known: {sorted(TABLE_SETS)}")
    weights_file, rates_file, label = TABLE_SETS[name]
    rules, member_dx, member_px = _read_rules()
    principal, any_dx, procs = _index(rules)
    cc, cc_dx, cc_px = _read_cc()
    exclusions, excl_dx = _read_exclusions()
    or_procedures = frozenset(
        c for rule in rules.values() if rule.operating_room for alt in rule.procedures for codes in alt for c in codes
    )
    return DrgTables(
        name=name,
        label=label,
        rules=rules,
        diagnoses=frozenset(member_dx | cc_dx | excl_dx),
        procedures=frozenset(member_px | cc_px),
        cc=cc,
        exclusions=exclusions,
        principal_adrgs=principal,
        any_diagnosis_adrgs=any_dx,
        procedure_adrgs=procs,
        or_procedures=or_procedures,
        drgs=_read_drgs(weights_file, rules),
        base_rate_fen=_read_rates(rates_file),
        sex_rules=_read_sex_rules(),
    )
