"""What the channel sent under each gateway reference: the platform addresses undo by msgid, not by our reference.

A 2601 reversal names the original message (``omsgid``, ``oinfno``) and a cancel needs ``setl_id``,
``mdtrt_id`` and ``psn_no``; the gateway only knows its own reference. The journal keeps that
mapping. It is written *before* a settle is sent, so "no settle message recorded for a known
reference" is definitive. The default is in memory; a host that must reverse after a restart passes
a durable implementation of :class:`Journal`.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Protocol

__all__ = ["InMemoryJournal", "Journal", "JournalEntry"]


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


class Journal(Protocol):
    """Where the channel records what it sent per reference."""

    def get(self, reference: str) -> JournalEntry | None:
        """The entry of ``reference``, or None when nothing was ever sent under it."""
        ...

    def put(self, reference: str, entry: JournalEntry) -> None:
        """Record (or replace) the entry of ``reference``."""
        ...

    def entries(self) -> list[JournalEntry]:
        """Every entry (for reconciliation)."""
        ...


class InMemoryJournal:
    """A process-local :class:`Journal` (lost on restart: then a reversal by reference is refused, not guessed)."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._data: dict[str, JournalEntry] = {}

    def get(self, reference: str) -> JournalEntry | None:
        """The entry of ``reference``."""
        with self._lock:
            return self._data.get(reference)

    def put(self, reference: str, entry: JournalEntry) -> None:
        """Record the entry of ``reference``."""
        with self._lock:
            self._data[reference] = entry

    def entries(self) -> list[JournalEntry]:
        """Every entry."""
        with self._lock:
            return list(self._data.values())
