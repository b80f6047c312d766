"""simulate(): argument checks, whole outputs, progress reports."""

from __future__ import annotations

import pytest
from simulator.sim_helpers import design, funded

from onestop.errors import InvalidRequest
from onestop.simulator import SyntheticParams, simulate


def test_arguments_are_checked_together():
    """Duplicate design codes, an unknown mode and two population sources are all reported at once."""
    d = design()
    with pytest.raises(InvalidRequest) as exc:
        simulate([d, d], population=funded().population, synthetic=SyntheticParams(members=5), mode="slow")
    text = str(exc.value)
    assert "'test-design' is given twice" in text
    assert "mode: must be one of exact, fast" in text
    assert "population: give either" in text


def test_outputs_are_written_whole_and_progress_is_reported(tmp_path):
    """The output directory holds exactly summary.json and report.html; every stage reports up to its total."""
    seen: dict[str, list[int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        seen.setdefault(stage, [0, total])[0] += done

    run = simulate(
        [design()], synthetic=SyntheticParams(members=200, seed=2), out=tmp_path, mode="exact", progress=progress
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "summary.json"]
    assert set(seen) == {"funds", "exact test-design"}
    assert all(done == total for done, total in seen.values())
    assert run.summary["population"]["claims"] == seen["funds"][1]
