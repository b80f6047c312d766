"""Parse a catalog 备注 into payment restrictions (pure; the verbatim text is always kept too).

A 备注 is one restriction sentence, or ``限：1.…；2.…`` — numbered clauses that are alternatives
(any one qualifies), with an optional preamble that applies to every clause. What is parsed:

* 限工伤保险 / 限生育保险 → the item is payable only by that fund;
* ages: ``成人`` (18), ``N岁及以上`` / ``N岁以上`` (minimum), ``N岁以下`` / ``N岁及以下`` (maximum),
  ``N月龄至M岁`` (maximum M); the restriction is the loosest over the clauses;
* 儿童: every clause speaks of 儿童/儿科 and none of 成人 or an explicit age → children only;
* 限住院 / 住院患者 and 限门诊 → care setting; 二级及以上 / 三级 医疗机构 → facility level;
* 支付不超过N天 / 限支付N天 → course length;
* anything else (a diagnosis, indication or line of therapy) → an indication restriction that
  needs the hospital's attestation (``hosp_appr_flag``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from onestop.catalog._text import norm
from onestop.catalog.resolution import Restriction, RestrictionKind

__all__ = ["parse_remark"]

_ADULT = 18
_CLAUSE_NO = re.compile(r"(?:^|[;；。])\s*\d+[.、．]")
_AGE_MIN = re.compile(r"(\d+)岁(?:及)?以上")
_AGE_MAX_EXCL = re.compile(r"(\d+)岁以下")
_AGE_MAX_INCL = re.compile(r"(\d+)岁及以下|月龄至(\d+)岁|(?<![\d.])\d+岁至(\d+)岁")
_COURSE = re.compile(r"(?:支付不超过|限支付|支付)(\d+)天")
_FACILITY = (("三级医疗机构", 3), ("二级及以上", 2), ("二级以上", 2))
# Phrases that carry no indication once parsed: what is left after removing them decides INDICATION.
_STRUCTURAL = re.compile(
    r"限工伤保险(?:基金)?|限生育保险(?:基金)?|限儿童|限住院(?:患者)?|限门诊|"
    r"限?(?:二级及以上|二级以上|三级)医疗机构(?:使用)?|(?:支付不超过|限支付)\d+天|\d+岁及?以[上下]的?|儿童|患者|"
    r"[限：:;；,，。.、\s]"
)


def _clauses(text: str) -> list[str]:
    """Split ``限：pre 1.a；2.b`` into ``[pre+a, pre+b]``; a plain sentence is one clause."""
    marks = list(_CLAUSE_NO.finditer(text))
    if len(marks) < 2:
        return [text]
    pre = text[: marks[0].start()]
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append(pre + text[m.end() : end])
    return out


def _age_bounds(clause: str) -> tuple[int, int | None, bool]:
    """(minimum age, maximum age or None, mentions children) for one clause."""
    mins = [int(n) for n in _AGE_MIN.findall(clause)]
    maxs = [int(n) - 1 for n in _AGE_MAX_EXCL.findall(clause)]
    for m in _AGE_MAX_INCL.finditer(clause):
        maxs.extend(int(g) for g in m.groups() if g)
    child = "儿童" in clause or "儿科" in clause or "月龄" in clause
    if not mins and "成人" in clause and not child and not maxs:
        mins = [_ADULT]
    if mins and "成人" in clause:
        mins.append(_ADULT)
    return (min(mins) if mins else 0), (max(maxs) if maxs else None), child


@lru_cache(maxsize=8192)
def parse_remark(remark: str) -> tuple[Restriction, ...]:
    """Parse a 备注 into restrictions.

    Args:
        remark: The 备注 text verbatim (any width or radical variant; it is NFKC-normalised here).

    Returns:
        The restrictions, in a fixed order (fund, age, children, setting, facility, course,
        indication); empty for an empty 备注.
    """
    text = norm(remark)
    if not text:
        return ()
    out: list[Restriction] = []
    if "限工伤保险" in text:
        out.append(Restriction(RestrictionKind.WORK_INJURY_ONLY, "限工伤保险"))
    if "限生育保险" in text:
        out.append(Restriction(RestrictionKind.MATERNITY_ONLY, "限生育保险"))

    clauses = _clauses(text)
    bounds = [_age_bounds(c) for c in clauses]
    min_age = min(b[0] for b in bounds)
    maxs = [b[1] for b in bounds]
    max_age = None if any(m is None for m in maxs) else max(m for m in maxs if m is not None)
    if min_age > 0:
        out.append(Restriction(RestrictionKind.AGE_MIN, text, min_age))
    if max_age is not None:
        out.append(Restriction(RestrictionKind.AGE_MAX, text, max_age))
    explicit_adult = any("成人" in c for c in clauses)
    if "限儿童" in text or (all(b[2] for b in bounds) and not explicit_adult and min_age == 0 and max_age is None):
        out.append(Restriction(RestrictionKind.CHILDREN, text))

    if "限住院" in text or all("住院患者" in c for c in clauses):
        out.append(Restriction(RestrictionKind.INPATIENT_ONLY, text))
    elif "限门诊" in text:
        out.append(Restriction(RestrictionKind.OUTPATIENT_ONLY, text))
    for phrase, level in _FACILITY:
        if phrase in text:
            out.append(Restriction(RestrictionKind.FACILITY_LEVEL, text, level))
            break
    course = _COURSE.search(text)
    if course:
        out.append(Restriction(RestrictionKind.COURSE_DAYS, course.group(0), int(course.group(1))))
    if _STRUCTURAL.sub("", text):
        out.append(Restriction(RestrictionKind.INDICATION, text))
    return tuple(out)
