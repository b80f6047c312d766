"""NHSA 智能审核 "两库" knowledge points as audit rules: they produce warnings, never refusals.

The catalog's own 备注 decides payment (see :mod:`onestop.catalog.remarks`); these lists are the
regulator's monitoring rules, so a hit is reported to the hospital and recorded with the
settlement, and the money is split exactly as it would be without it.

Rule kinds and when they hit (per line, by national code, or by the hospital's mapped code):

* ``age_children`` (限儿童 / 儿童专用): the patient is 18 or older;
* ``sex`` (限男 / 限女): the patient's recorded sex is the other one;
* ``fund`` (限工伤 / 限生育): the line is not on that leg (not work-related / not a maternity visit);
* ``setting`` (限住院): the visit is not inpatient;
* ``facility`` (限二级 / 三级医疗机构): the hospital's tier text names a lower level;
* ``course`` (限支付N天): the code is charged over more than N days of the visit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from onestop.catalog._rows import AuditRule
from onestop.catalog.resolution import AuditHit
from onestop.domain.codes import Sex

if TYPE_CHECKING:
    from onestop.domain.bill import Bill, BillLine

__all__ = ["AuditIndex", "facility_level_of"]

_ADULT = 18
_LEVELS = (("三级", 3), ("二级", 2), ("一级", 1), ("社区", 1))
_DAYS = re.compile(r"(\d+)")


def facility_level_of(tier: str) -> int | None:
    """The facility level (1..3) named by a hospital tier text such as ``市属三级``; None if unknown."""
    for word, level in _LEVELS:
        if word in tier:
            return level
    return None


class AuditIndex:
    """Audit rules indexed by national code."""

    def __init__(self, rules: Sequence[AuditRule]) -> None:
        """Index the rules by code."""
        by_code: dict[str, list[AuditRule]] = defaultdict(list)
        for r in rules:
            by_code[r.code].append(r)
        self._by_code = {k: tuple(v) for k, v in by_code.items()}
        self.size = len(rules)

    def rules_for(self, code: str) -> tuple[AuditRule, ...]:
        """The rules bound to a national code."""
        return self._by_code.get(code, ())

    def check(self, bill: Bill, code_map: Mapping[tuple[str, str], str]) -> tuple[AuditHit, ...]:
        """Every hit on the bill, in line order (course hits after the line that exceeds the course)."""
        h = bill.hospital
        level = facility_level_of(h.tier)
        hits: list[AuditHit] = []
        days_by_code: dict[str, set[dt.date]] = defaultdict(set)
        reported_course: set[str] = set()
        for line in bill.lines:
            code = line.national_code or code_map.get((h.code, line.hospital_code), "")
            rules = self._by_code.get(code)
            if not rules:
                continue
            days_by_code[code].add(line.date)
            for r in rules:
                message = self._hit(r, line, bill, level, days_by_code[code])
                if message is None:
                    continue
                if r.kind == "course":
                    if code in reported_course:
                        continue
                    reported_course.add(code)
                hits.append(AuditHit(rule_set=r.rule_set, feedetl_sn=line.feedetl_sn, message=message))
        return tuple(hits)

    @staticmethod
    def _hit(r: AuditRule, line: BillLine, bill: Bill, level: int | None, days: set[dt.date]) -> str | None:
        p, v = bill.patient, bill.visit
        label = f"{r.name} ({r.code})"
        if r.kind == "age_children" and p.age >= _ADULT:
            return f"{label}: 限儿童使用, patient is an adult"
        if r.kind == "sex":
            if (r.value == "男" and p.sex is Sex.FEMALE) or (r.value == "女" and p.sex is Sex.MALE):
                return f"{label}: 限{r.value}性使用, patient's recorded sex differs"
            return None
        if r.kind == "fund":
            if r.value == "工伤" and not line.work_related:
                return f"{label}: 限工伤保险, line is not work-related"
            if r.value == "生育" and not v.med_type.is_maternity:
                return f"{label}: 限生育保险, visit is not a maternity visit"
            return None
        if r.kind == "setting" and r.value == "住院" and not v.med_type.is_inpatient:
            return f"{label}: 限住院使用, visit is not inpatient"
        if r.kind == "facility" and level is not None:
            need = facility_level_of(r.value)
            if need is not None and level < need:
                return f"{label}: 限{r.value}及以上医疗机构, hospital tier {bill.hospital.tier!r}"
            return None
        if r.kind == "course":
            m = _DAYS.search(r.value)
            if m and len(days) > int(m.group(1)):
                return f"{label}: 限支付{m.group(1)}天, charged on {len(days)} days"
        return None
