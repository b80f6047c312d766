"""The CHS-DRG 1.1 grouper: principal diagnosis → MDC, treatment → ADRG, CC/MCC → DRG, with a trace.

Order of the rules (CHS-DRG 1.1 分组方案):

1. Input checks: missing fields (``missing_data``), code shapes and contradictions (``invalid``), the sex edit
   (``sex_conflict``), a principal diagnosis the tables do not use (``ungroupable``). Secondary diagnoses and
   procedures the tables do not use are ignored with a trace note (the tables omit e.g. V/W/X/Y codes).
2. CC/MCC from the secondary diagnoses, each cancelled when the principal diagnosis is in its exclusion table.
3. Pre-MDC groups: MDC A (transplants; ventilation ≥ 96 h / ECMO), then MDC P for newborns (age < 29 days,
   birth-weight bands) and infants with a newborn-origin principal diagnosis (PV1).
4. The principal diagnosis's MDC; within it the first procedure-driven ADRG (surgical, then non-OR procedure,
   in table order) whose rule the case meets; else 歧义 (xQY) when an operating-room procedure is left over;
   else the medical ADRG of the principal diagnosis.
5. DRG suffix from the ADRG's DRGs in the DRG list: 9 (not split), 1 (MCC), 3 (CC), 5 (neither).

The grouper is pure: the same case always gives the same result.
"""

from __future__ import annotations

import re
from decimal import Decimal

from onestop.drg.case import Case
from onestop.drg.result import UNGROUPABLE_ADRG, UNGROUPABLE_DRG, GroupResult, GroupStatus
from onestop.drg.tables import AdrgRule, DrgTables

__all__ = ["DIAGNOSIS_RE", "PROCEDURE_RE", "SCHEME_CHS_DRG_11", "ChsDrg11Grouper"]

SCHEME_CHS_DRG_11 = "chs-drg-1.1"

DIAGNOSIS_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Za-z]{1,4}(x[0-9]{3})?)?(\+[A-Z][0-9]{2}(\.[0-9x]{1,4})?\*)?$")
"""Shape of a 医保版 ICD-10 2.0 diagnosis code (``K35.800``, ``A00.100x001``, dagger-asterisk ``B44.101+J99.8*``)."""
PROCEDURE_RE = re.compile(r"^[0-9]{2}(\.[0-9A-Za-z]{1,5}(x[0-9]{3,4})?)?$")
"""Shape of a 医保版 ICD-9-CM-3 2.0 procedure code (``37.5100``, ``40.3x00x001``, ``17.972K0``)."""

VENT_96H_CODE = "96.7201"
"""呼吸机治疗[大于等于96小时]: the code itself says ≥ 96 hours."""
VENT_96H_ADRG = "AH1"
NEWBORN_MAX_DAYS = 28
"""MDC P takes newborns under 29 days (出生年龄＜29天)."""
NEWBORN_VENT_ADRG = "PK1"
INFANT_ADRG = "PV1"
# Birth-weight bands of the premature groups, read from the ADRG names (出生体重＜1500g, 1500-1999g, …).
WEIGHT_BANDS: tuple[tuple[str, int, int], ...] = (
    ("PS1", 0, 1499),
    ("PS2", 1500, 1999),
    ("PS3", 2000, 2499),
    ("PS4", 2500, 99_999),
)
_WEIGHT_GROUPS = frozenset(a for a, _, _ in WEIGHT_BANDS)
_PRE_MDC = frozenset({"A", "P"})
_LEVEL = {2: "MCC", 1: "CC", 0: ""}


class _Outcome(Exception):
    """Internal early exit carrying a finished result."""

    def __init__(self, result: GroupResult) -> None:
        super().__init__(result.status.value)
        self.result = result


class ChsDrg11Grouper:
    """CHS-DRG 1.1 on the packaged tables; one instance per table set, shared by every call."""

    scheme = SCHEME_CHS_DRG_11

    def __init__(self, tables: DrgTables) -> None:
        """Build the grouper on loaded tables (see :func:`onestop.drg.tables.load_tables`)."""
        self.tables = tables
        self.label = tables.label
        self._sex: dict[str, dict[str, str]] = {"diagnosis": {}, "procedure": {}}
        for rule in tables.sex_rules:
            self._sex[rule.kind][rule.prefix] = rule.sex
        self._sex_lengths = sorted({len(r.prefix) for r in tables.sex_rules})
        self._p_rules = tuple(r for r in tables.rules.values() if r.mdc == "P")

    # -- public -------------------------------------------------------------------------------------------

    def group(self, case: Case) -> GroupResult:
        """Group one case; every result carries the trace of the rules that matched or excluded."""
        trace: list[str] = []
        try:
            return self._group(case, trace)
        except _Outcome as out:
            return out.result

    # -- steps --------------------------------------------------------------------------------------------

    def _result(
        self,
        case: Case,
        trace: list[str],
        status: GroupStatus,
        reason: str,
        *,
        mdc: str = "",
        adrg: str = "",
        drg: str = "",
        drg_name: str = "",
        weight: Decimal | None = None,
        level: int = 0,
    ) -> GroupResult:
        if not trace or trace[-1] != reason:
            trace.append(reason)
        return GroupResult(
            case_id=case.case_id,
            scheme=self.scheme,
            status=status,
            mdc=mdc,
            adrg=adrg,
            drg=drg,
            drg_name=drg_name,
            weight=weight,
            cc_level=_LEVEL[level],
            reason=reason,
            trace=tuple(trace),
        )

    def _stop(
        self,
        case: Case,
        trace: list[str],
        status: GroupStatus,
        reason: str,
        *,
        mdc: str = "",
        adrg: str = "",
        drg: str = "",
    ) -> _Outcome:
        return _Outcome(self._result(case, trace, status, reason, mdc=mdc, adrg=adrg, drg=drg))

    def _group(self, case: Case, trace: list[str]) -> GroupResult:
        self._check_input(case, trace)
        principal, secondaries, procedures = self._known_codes(case, trace)
        level = self._cc_level(principal, secondaries, trace)
        procset = frozenset(procedures)
        candidates = self._procedure_candidates(procedures)
        hit = self._pre_mdc_a(case, procset, candidates, trace)
        if hit is None:
            hit = self._newborn(case, principal, secondaries, procset, trace)
        if hit is None:
            hit = self._by_principal(case, principal, secondaries, procset, candidates, trace)
        return self._finish(case, hit, level, trace)

    def _check_input(self, case: Case, trace: list[str]) -> None:
        missing = [
            name
            for name, value in (("sex", case.sex), ("age", case.age), ("diagnoses", case.diagnoses or None))
            if value is None
        ]
        if case.age == 0 and case.age_days is None:
            missing.append("age_days")
        if missing:
            why = f"missing data: {', '.join(missing)} needed to group the case"
            if "age_days" in missing:
                why += " (age 0 needs age_days for the newborn rules)"
            raise self._stop(case, trace, GroupStatus.MISSING_DATA, why)
        for i, code in enumerate(case.diagnoses):
            if not DIAGNOSIS_RE.match(code):
                why = f"invalid: diagnoses[{i}] {code!r} is not an ICD-10 (医保版 2.0) diagnosis code"
                raise self._stop(case, trace, GroupStatus.INVALID, why)
        for i, code in enumerate(case.procedures):
            if not PROCEDURE_RE.match(code):
                why = f"invalid: procedures[{i}] {code!r} is not an ICD-9-CM-3 (医保版 2.0) procedure code"
                raise self._stop(case, trace, GroupStatus.INVALID, why)
        if VENT_96H_CODE in case.procedures and case.vent_hours is not None and case.vent_hours < 96:
            why = f"invalid: procedure {VENT_96H_CODE} says ventilation ≥ 96 h but vent_hours is {case.vent_hours}"
            raise self._stop(case, trace, GroupStatus.INVALID, why)
        if case.sex in ("1", "2"):
            self._sex_edit(case, trace)

    def _sex_edit(self, case: Case, trace: list[str]) -> None:
        for kind, codes in (("diagnosis", case.diagnoses), ("procedure", case.procedures)):
            table = self._sex[kind]
            for code in codes:
                for n in self._sex_lengths:
                    only = table.get(code[:n])
                    if only is not None and only != case.sex:
                        who = "female" if only == "2" else "male"
                        why = f"sex conflict: {kind} {code} is {who}-only (fixture list of sex-specific codes), sex={case.sex}"
                        raise self._stop(case, trace, GroupStatus.SEX_CONFLICT, why)

    def _known_codes(self, case: Case, trace: list[str]) -> tuple[str, list[str], list[str]]:
        t = self.tables
        principal = case.diagnoses[0]
        if principal not in t.diagnoses:
            why = f"ungroupable: principal diagnosis {principal} is not used by this grouper"
            raise self._stop(case, trace, GroupStatus.UNGROUPABLE, why, adrg=UNGROUPABLE_ADRG, drg=UNGROUPABLE_DRG)
        trace.append(f"principal diagnosis {principal}")
        secondaries: list[str] = []
        for code in case.diagnoses[1:]:
            if code not in t.diagnoses:
                trace.append(f"secondary diagnosis {code} is not used by this grouper: ignored")
            elif code != principal and code not in secondaries:
                secondaries.append(code)
        procedures: list[str] = []
        for code in case.procedures:
            if code not in t.procedures:
                trace.append(f"procedure {code} is not used by this grouper: ignored")
            elif code not in procedures:
                procedures.append(code)
        return principal, secondaries, procedures

    def _cc_level(self, principal: str, secondaries: list[str], trace: list[str]) -> int:
        level = 0
        for code in secondaries:
            entry = self.tables.cc.get(code)
            if entry is None:
                continue
            lvl, table = entry
            if table and principal in self.tables.exclusions.get(table, frozenset()):
                trace.append(f"{code} {_LEVEL[lvl]} excluded: principal {principal} is in exclusion table {table}")
                continue
            trace.append(f"{code} counts as {_LEVEL[lvl]}")
            level = max(level, lvl)
        return level

    def _procedure_candidates(self, procedures: list[str]) -> list[AdrgRule]:
        index = self.tables.procedure_adrgs
        seen: set[str] = set()
        for code in procedures:
            seen.update(index.get(code, ()))
        rules = self.tables.rules
        return sorted((rules[a] for a in seen), key=lambda r: r.order)

    def _rule_met(self, rule: AdrgRule, principal: str, diagnoses: set[str], procset: frozenset[str]) -> str | None:
        """Why the case meets ``rule`` (one trace line), or None."""
        if rule.principal is not None and principal not in rule.principal:
            return None
        if rule.any_diagnosis is not None and not (diagnoses & rule.any_diagnosis):
            return None
        hits = rule.procedure_match(procset)
        if hits is None:
            return None
        parts = [f"ADRG {rule.adrg} {rule.name}: procedures {'+'.join(hits)}"]
        if rule.principal is not None:
            parts.append(f"principal {principal} in its diagnosis list")
        return "; ".join(parts)

    def _rule_missed(self, rule: AdrgRule, principal: str, diagnoses: set[str], procset: frozenset[str]) -> str | None:
        """Why a procedure ADRG the case's procedures point at was not taken (one trace line), or None.

        Only rules that list one of the case's procedures are explained: a trace names the candidates a
        coder would look at, not every ADRG of the MDC.
        """
        if not rule.procedure_driven:
            return None
        listed = sorted({p for alternative in rule.procedures for codes in alternative for p in procset & codes})
        if not listed:
            return None
        head = f"ADRG {rule.adrg} {rule.name} not taken (lists {'+'.join(listed)}): "
        if rule.principal is not None and principal not in rule.principal:
            return head + f"principal {principal} is not in its diagnosis list"
        if rule.any_diagnosis is not None and not (diagnoses & rule.any_diagnosis):
            return head + "no diagnosis of the case is in its diagnosis list"
        return head + "its procedure combination is not complete"

    def _pre_mdc_a(
        self, case: Case, procset: frozenset[str], candidates: list[AdrgRule], trace: list[str]
    ) -> AdrgRule | None:
        for rule in candidates:
            if rule.mdc != "A":
                continue
            hits = rule.procedure_match(procset)
            if hits is not None:
                trace.append(f"pre-MDC A: ADRG {rule.adrg} {rule.name}: procedures {'+'.join(hits)}")
                return rule
        if case.vent_hours is not None and case.vent_hours >= 96:
            rule = self.tables.rules[VENT_96H_ADRG]
            trace.append(f"pre-MDC A: ADRG {rule.adrg} {rule.name}: vent_hours {case.vent_hours} ≥ 96")
            return rule
        return None

    def _newborn(
        self,
        case: Case,
        principal: str,
        secondaries: list[str],
        procset: frozenset[str],
        trace: list[str],
    ) -> AdrgRule | None:
        if case.age != 0 or case.age_days is None:
            return None
        rules = self.tables.rules
        if case.age_days > NEWBORN_MAX_DAYS:
            infant = rules[INFANT_ADRG]
            if infant.principal is not None and principal in infant.principal:
                trace.append(
                    f"infant aged {case.age_days} days: ADRG {infant.adrg} {infant.name}: principal {principal}"
                )
                return infant
            return None
        trace.append(f"newborn aged {case.age_days} days (< {NEWBORN_MAX_DAYS + 1}): MDC P rules first")
        diagnoses = {principal, *secondaries}
        for rule in self._p_rules:
            if rule.adrg == INFANT_ADRG:
                continue
            if rule.procedure_driven:
                why = self._rule_met(rule, principal, diagnoses, procset)
                if why is None and rule.adrg == NEWBORN_VENT_ADRG and case.vent_hours:
                    why = f"ADRG {rule.adrg} {rule.name}: vent_hours {case.vent_hours}"
                if why is not None:
                    trace.append(why)
                    return rule
            elif rule.adrg in _WEIGHT_GROUPS:
                if rule.any_diagnosis is not None and diagnoses & rule.any_diagnosis:
                    return self._weight_band(case, sorted(diagnoses & rule.any_diagnosis)[0], trace)
            elif rule.principal is not None and principal in rule.principal:
                trace.append(f"ADRG {rule.adrg} {rule.name}: principal {principal}")
                return rule
        trace.append("newborn: no MDC P rule matched; grouped by the principal diagnosis")
        return None

    def _weight_band(self, case: Case, code: str, trace: list[str]) -> AdrgRule:
        if case.birth_weight_g is None:
            why = f"missing data: birth_weight_g needed for the premature groups PS1–PS4 (diagnosis {code})"
            raise self._stop(case, trace, GroupStatus.MISSING_DATA, why)
        for adrg, low, high in WEIGHT_BANDS:
            if low <= case.birth_weight_g <= high:
                rule = self.tables.rules[adrg]
                trace.append(f"ADRG {adrg} {rule.name}: diagnosis {code}, birth weight {case.birth_weight_g} g")
                return rule
        raise AssertionError("weight bands cover every weight")  # pragma: no cover

    def _by_principal(
        self,
        case: Case,
        principal: str,
        secondaries: list[str],
        procset: frozenset[str],
        candidates: list[AdrgRule],
        trace: list[str],
    ) -> AdrgRule:
        rules = self.tables.rules
        listed = self.tables.principal_adrgs.get(principal, ())
        mdcs = list(dict.fromkeys(rules[a].mdc for a in listed if rules[a].mdc not in _PRE_MDC))
        if not mdcs:
            why = f"ungroupable: principal diagnosis {principal} leads to no MDC for this patient"
            raise self._stop(case, trace, GroupStatus.UNGROUPABLE, why, adrg=UNGROUPABLE_ADRG, drg=UNGROUPABLE_DRG)
        trace.append(f"principal {principal} → MDC {'/'.join(mdcs)}")
        diagnoses = {principal, *secondaries}
        for mdc in mdcs:
            for rule in candidates:
                if rule.mdc != mdc:
                    continue
                met = self._rule_met(rule, principal, diagnoses, procset)
                if met is not None:
                    trace.append(met)
                    return rule
                missed = self._rule_missed(rule, principal, diagnoses, procset)
                if missed is not None:
                    trace.append(missed)
        or_left = sorted(procset & self.tables.or_procedures)
        if or_left:
            mdc = mdcs[0]
            why = (
                f"ambiguous: operating-room procedure {', '.join(or_left)} fits no ADRG of MDC {mdc} "
                f"(principal {principal}): 歧义组 {mdc}QY"
            )
            raise self._stop(case, trace, GroupStatus.AMBIGUOUS, why, mdc=mdc, drg=f"{mdc}QY")
        for adrg in listed:
            rule = rules[adrg]
            if rule.mdc in mdcs and not rule.procedure_driven and rule.any_diagnosis is None:
                others = [a for a in listed if a != adrg and not rules[a].procedure_driven]
                note = f" (also listed under {', '.join(others)}; the first in table order is taken)" if others else ""
                trace.append(f"medical ADRG {rule.adrg} {rule.name}: principal {principal}{note}")
                return rule
        why = f"ungroupable: principal diagnosis {principal} needs a procedure its MDC's ADRGs take, and none matched"
        raise self._stop(case, trace, GroupStatus.UNGROUPABLE, why, adrg=UNGROUPABLE_ADRG, drg=UNGROUPABLE_DRG)

    def _finish(self, case: Case, rule: AdrgRule, level: int, trace: list[str]) -> GroupResult:
        drgs = self.tables.drgs.get(rule.adrg)
        if not drgs:
            why = f"ungroupable: ADRG {rule.adrg} has no DRG in this DRG list ({self.tables.name})"
            return self._result(
                case, trace, GroupStatus.UNGROUPABLE, why, mdc=rule.mdc, adrg=UNGROUPABLE_ADRG, drg=UNGROUPABLE_DRG
            )
        if "9" in drgs:
            suffix = "9"
        elif level == 2:
            suffix = next(s for s in "135" if s in drgs)
        elif level == 1:
            suffix = next(s for s in "351" if s in drgs)
        else:
            suffix = next(s for s in "531" if s in drgs)
        entry = drgs[suffix]
        kind = _LEVEL[level] or "no CC/MCC"
        reason = f"grouped: {entry.drg} {entry.name} (ADRG {rule.adrg} offers {'/'.join(sorted(drgs))}; {kind})"
        return self._result(
            case,
            trace,
            GroupStatus.GROUPED,
            reason,
            mdc=rule.mdc,
            adrg=rule.adrg,
            drg=entry.drg,
            drg_name=entry.name,
            weight=entry.weight,
            level=level,
        )
