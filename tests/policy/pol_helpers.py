"""Shared helpers for the policy tests: the packaged regions and a compact call of compute_basic."""

from __future__ import annotations

import datetime as dt

from onestop.policy import Accumulators, BasicFundResult, CrossRegion, RegionalPolicy, compute_basic, policy_for

ON = dt.date(2026, 3, 1)
TEXTBOOK = policy_for("990100", ON)
CHANGCHUN = policy_for("220100", ON)
HANGZHOU = policy_for("330100", ON)


def basic(
    inscope: int,
    *,
    policy: RegionalPolicy = TEXTBOOK,
    insutype: str = "310",
    psn_type: str = "11",
    tier: str = "三级",
    kind: str = "inpatient",
    civil: bool = False,
    assistance: str = "none",
    outside: int = 0,
    acc: Accumulators | None = None,
    cross_region: CrossRegion = CrossRegion.NONE,
) -> BasicFundResult:
    """compute_basic with the textbook 职工 三级 inpatient defaults."""
    return compute_basic(
        policy,
        insutype=insutype,
        psn_type=psn_type,
        tier=tier,
        kind=kind,
        civil_servant=civil,
        assistance=assistance,
        inscope_fen=inscope,
        personal_outside_fen=outside,
        accumulators=acc or Accumulators(year=2026),
        cross_region=cross_region,
    )
