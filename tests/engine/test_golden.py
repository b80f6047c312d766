"""The Settlement JSON of known bills is pinned byte for byte, so engine optimisations cannot change an answer."""

from __future__ import annotations

import json

import pytest
from engine.golden_cases import GOLDEN, SYNTHETIC_DIGESTS, digest, example_cases, synthetic_cases

_EXAMPLES = dict(example_cases())
_SYNTHETIC = dict(synthetic_cases())
_DIGESTS: dict[str, str] = json.loads(SYNTHETIC_DIGESTS.read_text(encoding="utf-8"))


def test_every_case_has_a_pinned_answer():
    """Each pinned case is still generated, and each generated case is pinned (no silent drop)."""
    pinned = {p.name for p in GOLDEN.glob("*.json") if p != SYNTHETIC_DIGESTS}
    assert pinned == set(_EXAMPLES)
    assert set(_DIGESTS) == set(_SYNTHETIC)


@pytest.mark.parametrize("name", sorted(_EXAMPLES))
def test_example_bill_settles_to_the_pinned_json(name):
    """An example bill under a region's policy (with or without the 惠民保 payer) gives the same JSON, byte for byte."""
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert _EXAMPLES[name]().model_dump_json(indent=2) + "\n" == expected


@pytest.mark.parametrize("name", sorted(_SYNTHETIC))
def test_large_synthetic_bill_settles_to_the_pinned_digest(name):
    """A seeded 40–300-line bill (account, resident, work injury, 惠民保, outpatient) gives the same JSON digest."""
    assert digest(_SYNTHETIC[name]()) == _DIGESTS[name]
