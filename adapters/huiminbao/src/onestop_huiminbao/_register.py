"""The member register: enrolment and pre-existing conditions, kept as counters in the host's state store.

For each (product, member_ref, product year) the register holds, under the adapter's name:

* ``member:enrolled_on`` — the enrolment date as its proleptic ordinal (``date.toordinal()``);
  0 (never written) means the member is not registered for that product year;
* ``member:pre_existing:<group>`` — 1 for each pre-existing group of the design the member had
  before enrolling.

A registration is applied once under the reference ``register:<product>:<year>:<member_ref>``, so a
repeated registration changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from onestop.errors import InvalidRequest
from onestop.products import Design, MemberFacts
from onestop.sdk import StateDelta, StateKey, StateStore

__all__ = ["MemberRegister"]

ENROLLED_ON = "member:enrolled_on"
PRE_EXISTING = "member:pre_existing:"


class MemberRegister:
    """Reads and writes the member facts of one adapter in a state store."""

    def __init__(self, adapter: str, state: StateStore) -> None:
        """Bind the register to an adapter name and the host's store."""
        self.adapter = adapter
        self.state = state

    def _key(self, design: Design, member_ref: str, key: str) -> StateKey:
        return StateKey(self.adapter, design.code, member_ref, design.product_year, key)

    async def register(
        self,
        design: Design,
        member_ref: str,
        *,
        enrolled_on: dt.date,
        region: str,
        insutype: str,
        age: int,
        pre_existing: Iterable[str] = (),
    ) -> bool:
        """Enrol a member for the design's product year.

        Args:
            design: The product.
            member_ref: The pseudonymous member reference offers will carry.
            enrolled_on: Cover start (inside the policy period).
            region: The member's basic-insurance region (admdvs), checked against the design's eligibility.
            insutype: The member's basic insurance type.
            age: Age at enrolment.
            pre_existing: Ids of the design's pre-existing groups the member had before enrolling.

        Returns:
            True when registered now; False when already registered for this product year.

        Raises:
            InvalidRequest: not admitted by the design's eligibility, a date outside the policy
                period, or an unknown pre-existing group.
        """
        problems = []
        if not design.eligibility.admits(region, insutype, age):
            problems.append(f"region {region}, insutype {insutype}, age {age} are not admitted by {design.code}")
        if not design.policy_period.contains(enrolled_on):
            problems.append(f"enrolment {enrolled_on.isoformat()} is outside the policy period of {design.code}")
        known = {g.id for g in design.pre_existing}
        groups = sorted(set(pre_existing))
        problems += [f"unknown pre-existing group {g!r} for {design.code}" for g in groups if g not in known]
        if problems:
            raise InvalidRequest("cannot register member: " + "; ".join(problems))
        deltas = [StateDelta(self._key(design, member_ref, ENROLLED_ON), enrolled_on.toordinal())]
        deltas += [StateDelta(self._key(design, member_ref, PRE_EXISTING + g), 1) for g in groups]
        return await self.state.apply(f"register:{design.code}:{design.product_year}:{member_ref}", deltas)

    async def facts(self, design: Design, member_ref: str) -> MemberFacts | None:
        """The member's facts for the design's product year, or None when not registered."""
        ordinal = await self.state.get(self._key(design, member_ref, ENROLLED_ON))
        if ordinal <= 0:
            return None
        groups = frozenset(
            [
                g.id
                for g in design.pre_existing
                if await self.state.get(self._key(design, member_ref, PRE_EXISTING + g.id))
            ]
        )
        return MemberFacts(enrolled_on=dt.date.fromordinal(ordinal), pre_existing=groups)
