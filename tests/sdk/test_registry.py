"""Discovery by entry points and validation at load: broken adapters are refused with a clear message."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest
from click.testing import CliRunner
from sdk.toys import BROKEN, NotAnAdapter, ToyWorkInjuryChannel

from onestop.errors import AdapterValidationError
from onestop.sdk import _registry, load_adapters, load_channels, validate_adapter, validate_channel
from onestop.sdk.cli import adapter as adapter_cli
from onestop.testing import FakeInsurer


@pytest.mark.parametrize("key", sorted(BROKEN), ids=sorted(BROKEN))
def test_broken_adapter_refused_naming_adapter_flow_and_fault(key: str) -> None:
    """Each broken adapter is refused with a message naming the adapter, the flow and what is wrong."""
    cls, words = BROKEN[key]
    with pytest.raises(AdapterValidationError) as info:
        validate_adapter(cls)
    for word in words:
        assert word in str(info.value)
    assert info.value.adapter == key


def test_not_a_subclass_is_refused() -> None:
    """A class that does not derive from InsurerAdapter is refused."""
    with pytest.raises(AdapterValidationError, match=r"not a subclass of onestop\.sdk\.InsurerAdapter"):
        validate_adapter(NotAnAdapter)


def test_entry_point_name_must_match_adapter_name() -> None:
    """An adapter advertised under another name than its own is refused."""
    with pytest.raises(AdapterValidationError, match=r"named 'acme' but the class says name = 'fake'"):
        validate_adapter(FakeInsurer, name="acme")


def test_channel_validation_uses_channel_rules() -> None:
    """A channel validates as a channel, and an insurer adapter is refused as one."""
    assert validate_channel(ToyWorkInjuryChannel) is ToyWorkInjuryChannel
    with pytest.raises(AdapterValidationError, match="FundChannel"):
        validate_channel(FakeInsurer)


def _eps(monkeypatch: pytest.MonkeyPatch, group: str, items: dict[str, str]) -> None:
    eps = [EntryPoint(name=n, value=v, group=group) for n, v in items.items()]

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [e for e in eps if e.group == group]

    monkeypatch.setattr(_registry, "entry_points", fake_entry_points)


def test_load_adapters_validates_and_honours_block_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading returns validated classes by name and skips block-listed names without importing them."""
    _eps(
        monkeypatch,
        "onestop.adapters",
        {"fake": "onestop.testing:FakeInsurer", "blocked_one": "no.such.module:Nothing"},
    )
    assert load_adapters(blocked=("blocked_one",)) == {"fake": FakeInsurer}


def test_load_refuses_broken_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken adapter behind an entry point stops the load with its validation message."""
    _eps(monkeypatch, "onestop.adapters", {"wrong_args": "sdk.toys:_WrongArgs"})
    with pytest.raises(AdapterValidationError, match=r"wrong_args\.settle"):
        load_adapters()


def test_load_reports_import_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point that cannot be imported is refused naming the adapter and the target."""
    _eps(monkeypatch, "onestop.adapters", {"ghost": "no.such.module:Nothing"})
    with pytest.raises(AdapterValidationError, match=r"'ghost'.*cannot be imported from 'no.such.module:Nothing'"):
        load_adapters()


def test_load_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels load from their own group."""
    _eps(monkeypatch, "onestop.channels", {"toy_wi": "sdk.toys:ToyWorkInjuryChannel"})
    assert load_channels() == {"toy_wi": ToyWorkInjuryChannel}
    assert load_adapters() == {}


def test_cli_list_shows_capabilities_and_refuses_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """`onestop adapter list` prints each adapter's capabilities, and fails clearly on a broken one."""
    _eps(monkeypatch, "onestop.adapters", {"fake": "onestop.testing:FakeInsurer"})
    out = CliRunner().invoke(adapter_cli, ["list"])
    assert out.exit_code == 0, out.output
    assert "adapter fake: flows=cancel,eligibility,pre_settle,query,reconcile,settle" in out.output
    _eps(monkeypatch, "onestop.adapters", {"sync_settle": "sdk.toys:_SyncSettle"})
    out = CliRunner().invoke(adapter_cli, ["list"])
    assert out.exit_code != 0
    assert "sync_settle.settle" in out.output


def test_registry_signature_table_covers_every_flow() -> None:
    """Every flow has an input and a result type in the validation tables."""
    from onestop.sdk import ChannelFlow, InsurerFlow

    tables: list[Any] = [(_registry.INSURER_SIGNATURES, InsurerFlow), (_registry.CHANNEL_SIGNATURES, ChannelFlow)]
    for table, flows in tables:
        assert set(table) == set(flows)
