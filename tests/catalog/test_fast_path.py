"""The cached per-line path answers exactly what the reference resolver computes for that day."""

import datetime as dt

from catalog.cat_helpers import hospital, line
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.catalog import default_catalogs, fixture_samples
from onestop.catalog.catalogset import CatalogSet
from onestop.domain.codes import ChargeCategory
from onestop.errors import NoEditionInForce

CODES = sorted({(s.national_code, s.category) for s in fixture_samples() if s.national_code})
REGIONS = ["220100", "220200", "220000", "330100", "990100", "000000"]
SPECS = ["", "45mg", "135mg", "5mg", "50mg"]


def reference(cats: CatalogSet, code: str, category: str, day: dt.date, region: str, spec: str):
    res, _needs_spec = cats._resolve_at(ChargeCategory(category).item_kind, code, day, region, spec)
    return res


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(CODES),
    st.dates(min_value=dt.date(2023, 6, 1), max_value=dt.date(2028, 6, 30)),
    st.sampled_from(REGIONS),
    st.sampled_from(SPECS),
)
def test_cached_resolution_equals_reference(code_cat, day, region, spec):
    """For any (code, date, region, spec) the segment cache returns the reference resolution."""
    cats = default_catalogs()
    code, category = code_cat
    expected = reference(cats, code, category, day, region, spec)
    try:
        got = cats.resolve(line(code, day, category=category, spec=spec), hospital(region))
    except NoEditionInForce:
        assert expected is None
        return
    assert got == expected
