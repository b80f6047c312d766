"""What the channel sent under each gateway reference: the platform addresses undo by msgid, not by our reference.

A 2601 reversal names the original message (``omsgid``, ``oinfno``) and a cancel needs ``setl_id``,
``mdtrt_id`` and ``psn_no``; the gateway only knows its own reference. The journal keeps that
mapping. It is written *before* a settle is sent, so "no settle message recorded for a known
reference" is definitive.

Two implementations: :class:`InMemoryJournal` (lost on restart) and :class:`StateJournal`, kept in
the host's :class:`~onestop.sdk.StateStore` so that a channel built again after a restart still
reverses by the original msgid. The store holds only integer counters changed by deltas, so an
entry is kept as counters (text as 7-byte chunks) and every change is one atomic ``apply``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from onestop.sdk import StateDelta, StateKey, StateStore

__all__ = ["InMemoryJournal", "Journal", "JournalConflict", "JournalEntry", "JournalTotals", "StateJournal"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One gateway reference at the platform.

    Attributes:
        psn_no: Person number the messages were sent for.
        insuplc_admdvs: Insured region (参保地) sent in the envelope.
        mdtrt_id: The platform's visit id, once known.
        insutype: 险种类型 of the settlement.
        settle_infno: ``2207`` or ``2304`` once a settle message was *about to be sent*.
        settle_msgid: Its msgid.
        setl_id: The platform's settlement id, once an answer said so.
        day: Settlement day (for reconciliation).
        medfee_fen, fund_fen, acct_fen: The settlement's totals (for reconciliation).
        undone: Cancelled or reversed.
    """

    psn_no: str
    insuplc_admdvs: str
    mdtrt_id: str = ""
    insutype: str = ""
    settle_infno: str = ""
    settle_msgid: str = ""
    setl_id: str = ""
    day: dt.date | None = None
    medfee_fen: int = 0
    fund_fen: int = 0
    acct_fen: int = 0
    undone: bool = False

    @property
    def counted(self) -> bool:
        """Whether the entry is a standing settlement that the day's reconciliation counts."""
        return bool(self.setl_id) and not self.undone and self.day is not None


@dataclass(frozen=True, slots=True)
class JournalTotals:
    """One day's standing settlements as this channel journaled them (sent in 3201)."""

    count: int = 0
    medfee_fen: int = 0
    fund_fen: int = 0
    acct_fen: int = 0


class Journal(Protocol):
    """Where the channel records what it sent per reference."""

    async def get(self, reference: str) -> JournalEntry | None:
        """The entry of ``reference``, or None when nothing was ever sent under it."""
        ...

    async def put(self, reference: str, entry: JournalEntry) -> None:
        """Record (or replace) the entry of ``reference``."""
        ...

    async def totals(self, day: dt.date, insutype: str = "") -> JournalTotals:
        """The standing settlements of ``day`` (of one 险种, or all when ``insutype`` is empty)."""
        ...


def _sum(entries: Sequence[JournalEntry]) -> JournalTotals:
    return JournalTotals(
        count=len(entries),
        medfee_fen=sum(e.medfee_fen for e in entries),
        fund_fen=sum(e.fund_fen for e in entries),
        acct_fen=sum(e.acct_fen for e in entries),
    )


class InMemoryJournal:
    """A process-local :class:`Journal` (lost on restart: then a reversal by reference is refused, not guessed)."""

    def __init__(self) -> None:
        """Start empty."""
        self._data: dict[str, JournalEntry] = {}

    async def get(self, reference: str) -> JournalEntry | None:
        """The entry of ``reference``."""
        return self._data.get(reference)

    async def put(self, reference: str, entry: JournalEntry) -> None:
        """Record the entry of ``reference``."""
        self._data[reference] = entry

    async def totals(self, day: dt.date, insutype: str = "") -> JournalTotals:
        """The day's standing settlements, summed over the entries."""
        return _sum(
            [e for e in self._data.values() if e.counted and e.day == day and (not insutype or e.insutype == insutype)]
        )


class JournalConflict(RuntimeError):
    """Another writer kept changing the same reference's entry; the write was not applied."""


# An entry is a set of counters. Text is UTF-8 split into 7-byte big-endian chunks (each < 2**56,
# inside a signed 64-bit column) plus its byte length; a date is its ordinal; a flag is 0/1.
_CHUNK = 7
_MAX_TEXT = 256
_TEXT = ("psn_no", "insuplc_admdvs", "mdtrt_id", "insutype", "settle_infno", "settle_msgid", "setl_id")
_INTS = ("medfee_fen", "fund_fen", "acct_fen")
_TOTALS = ("count", "medfee_fen", "fund_fen", "acct_fen")
_VERSION = "v"
_RETRIES = 8
# The store's member column is 64 characters: a longer reference is kept under its digest.
_MEMBER_MAX = 64


def _text_counters(name: str, value: str) -> dict[str, int]:
    raw = value.encode()
    if len(raw) > _MAX_TEXT:
        raise ValueError(f"journal field {name} is {len(raw)} bytes, more than {_MAX_TEXT}")
    out = {f"{name}.len": len(raw)}
    for i in range(0, len(raw), _CHUNK):
        out[f"{name}.{i // _CHUNK}"] = int.from_bytes(raw[i : i + _CHUNK], "big")
    return out


def _counters(entry: JournalEntry | None) -> dict[str, int]:
    """The entry's counters (absent keys are 0); None is the empty entry."""
    if entry is None:
        return {}
    out: dict[str, int] = {"exists": 1}
    for name in _TEXT:
        out.update(_text_counters(name, getattr(entry, name)))
    for name in _INTS:
        out[name] = int(getattr(entry, name))
    out["day"] = entry.day.toordinal() if entry.day is not None else 0
    out["undone"] = int(entry.undone)
    return {k: v for k, v in out.items() if v}


def _contribution(entry: JournalEntry | None) -> dict[tuple[dt.date, str], int]:
    """What the entry adds to the per-day totals, under its 险种 and under ``*`` (all)."""
    if entry is None or not entry.counted or entry.day is None:
        return {}
    values = (1, entry.medfee_fen, entry.fund_fen, entry.acct_fen)
    out: dict[tuple[dt.date, str], int] = {}
    for insutype in {entry.insutype or "*", "*"}:
        for name, v in zip(_TOTALS, values, strict=True):
            out[(entry.day, f"{insutype}:{name}")] = v
    return out


class StateJournal:
    """A :class:`Journal` kept in the host's :class:`~onestop.sdk.StateStore` (survives a restart).

    Every :meth:`put` is one atomic ``apply`` of the differences to the stored entry plus a version
    counter, under the reference ``<scope>:<reference>:<version>``: two writers that read the same
    version cannot both apply (the store applies a reference once), so the loser re-reads and retries.
    The day totals that 3201 sends are counters changed in the same ``apply``.

    Args:
        store: The host's state store (the gateway's database; tests use ``InMemoryStateStore``).
        scope: Separates journals sharing one store (the channel uses ``<channel name>:<fixmedins_code>``).
    """

    def __init__(self, store: StateStore, *, scope: str) -> None:
        """Keep the store and the scope."""
        if not scope or len(scope) > 48:
            raise ValueError("a journal scope is 1 to 48 characters")
        self._store = store
        self._scope = scope
        self._entries = f"{scope}:journal"
        self._totals = f"{scope}:totals"

    def _member(self, reference: str) -> str:
        if len(reference) <= _MEMBER_MAX and not reference.startswith("#"):
            return reference
        return "#" + hashlib.sha256(reference.encode()).hexdigest()[: _MEMBER_MAX - 1]

    def _key(self, reference: str, name: str) -> StateKey:
        return StateKey("nhsa-platform", self._entries, self._member(reference), 0, name)

    def _total_key(self, day: dt.date, name: str) -> StateKey:
        return StateKey("nhsa-platform", self._totals, day.isoformat(), day.year, name)

    async def _text(self, reference: str, name: str) -> str:
        size = await self._store.get(self._key(reference, f"{name}.len"))
        if size <= 0:
            return ""
        chunks = [await self._store.get(self._key(reference, f"{name}.{i}")) for i in range(-(-size // _CHUNK))]
        raw = b"".join(
            c.to_bytes(min(_CHUNK, size - i * _CHUNK), "big") for i, c in enumerate(chunks)
        )  # the last chunk is short
        return raw.decode()

    async def _read(self, reference: str) -> tuple[int, JournalEntry | None]:
        # The version is read first: a write that lands during the read moves it, and the next apply conflicts.
        version = await self._store.get(self._key(reference, _VERSION))
        if not await self._store.get(self._key(reference, "exists")):
            return version, None
        values: dict[str, Any] = {name: await self._text(reference, name) for name in _TEXT}
        values |= {name: await self._store.get(self._key(reference, name)) for name in _INTS}
        day = await self._store.get(self._key(reference, "day"))
        values["day"] = dt.date.fromordinal(day) if day else None
        values["undone"] = bool(await self._store.get(self._key(reference, "undone")))
        return version, JournalEntry(**values)

    async def get(self, reference: str) -> JournalEntry | None:
        """The entry of ``reference``, read from the store."""
        return (await self._read(reference))[1]

    async def put(self, reference: str, entry: JournalEntry) -> None:
        """Replace the entry of ``reference`` by one atomic apply of the differences.

        Raises:
            JournalConflict: the entry kept changing under concurrent writers (nothing applied).
            ValueError: a text field longer than 256 bytes.
        """
        new = _counters(entry)
        for _ in range(_RETRIES):
            version, old_entry = await self._read(reference)
            old = _counters(old_entry)
            deltas = [
                StateDelta(self._key(reference, k), new.get(k, 0) - old.get(k, 0))
                for k in sorted(new.keys() | old.keys())
                if new.get(k, 0) != old.get(k, 0)
            ]
            if not deltas:
                return
            before, after = _contribution(old_entry), _contribution(entry)
            deltas += [
                StateDelta(self._total_key(day, name), after.get((day, name), 0) - before.get((day, name), 0))
                for day, name in sorted(before.keys() | after.keys())
                if after.get((day, name), 0) != before.get((day, name), 0)
            ]
            deltas.append(StateDelta(self._key(reference, _VERSION), 1))
            if await self._store.apply(f"{self._entries}:{self._member(reference)}:{version + 1}", deltas):
                return
            await asyncio.sleep(0)
        raise JournalConflict(f"journal entry of {reference!r} kept changing; not written")

    async def totals(self, day: dt.date, insutype: str = "") -> JournalTotals:
        """The day's standing settlements from the total counters."""
        values = [await self._store.get(self._total_key(day, f"{insutype or '*'}:{name}")) for name in _TOTALS]
        return JournalTotals(*values)
