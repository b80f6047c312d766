"""The engine pauses the cyclic collector only for the duration of a stage and always restores it."""

from __future__ import annotations

import gc

import pytest

from onestop.engine._gc import collector_paused


@collector_paused
def _observe() -> bool:
    return gc.isenabled()


@collector_paused
def _fail() -> None:
    raise ValueError("boom")


def test_collector_is_paused_inside_and_running_after():
    """Inside a stage the collector is off; after it, it runs again as before."""
    assert gc.isenabled()
    assert _observe() is False
    assert gc.isenabled()


def test_collector_resumes_after_an_exception():
    """A stage that raises still leaves the collector running."""
    with pytest.raises(ValueError, match="boom"):
        _fail()
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled():
    """The engine never turns on a collector its caller had turned off."""
    gc.disable()
    try:
        assert _observe() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_paused_stage_keeps_its_name_and_docs():
    """The public stages keep their names and docstrings (the API docs read them)."""
    from onestop.engine import finalize, settle, settle_funds

    for fn in (settle, settle_funds, finalize):
        assert fn.__doc__
        assert fn.__name__ in {"settle", "settle_funds", "finalize"}
