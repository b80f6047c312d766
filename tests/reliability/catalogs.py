"""The catalogs the reliability suite settles against: the packaged ones when present, else a dated fixture.

The fixture knows nothing but edition windows: every line is out of catalog, and a line dated
before :data:`FIRST_EDITION` (or of a kind with no edition) has no edition in force. That is enough
for fault and bad-input tests, which exercise the error paths and the invariants, not the split rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from onestop.catalog.resolution import AuditHit, CatalogView, MatchedBy, Resolution
from onestop.errors import NoEditionInForce

__all__ = ["FIRST_EDITION", "EditionFixture", "catalogs"]

#: The first day any edition of any kind is in force, in the packaged data (service and consumable lists from
#: 2020-01-01) and in the fixture.
FIRST_EDITION = dt.date(2020, 1, 1)


class EditionFixture:
    """A CatalogView with one edition per item kind from :data:`FIRST_EDITION` on; every item out of catalog."""

    def resolve(self, line: Any, hospital: Any) -> Resolution:
        """Out of catalog, or NoEditionInForce before the first edition."""
        if line.date < FIRST_EDITION:
            raise NoEditionInForce(
                f"no {line.category.item_kind.value} catalog edition in force on {line.date.isoformat()}",
                metadata={"feedetl_sn": line.feedetl_sn, "date": line.date.isoformat()},
            )
        return Resolution(
            in_catalog=False, matched_by=MatchedBy.NONE, kind=line.category.item_kind, edition="fixture-edition"
        )

    def audit(self, bill: Any) -> tuple[AuditHit, ...]:
        """No audit rules in the fixture."""
        return ()


def catalogs() -> CatalogView:
    """The packaged default catalogs when the catalog package provides them, else :class:`EditionFixture`."""
    try:
        from onestop.catalog import default_catalogs  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return EditionFixture()
    return default_catalogs()  # type: ignore[no-any-return,unused-ignore]
