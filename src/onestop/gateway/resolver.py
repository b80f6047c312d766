"""The resolver queue, worked one pass at a time: cancel or reverse every leg left open.

Entries (table ``resolver_queue``) and what a pass does with each:

* ``cancel`` — a commercial leg unknown at the cashier's deadline, or one being compensated or
  reversed: ``cancel`` at the insurer with the leg's own reference (a late approval becomes a refund);
* ``reverse`` — a fund settle through a channel whose outcome is unknown: 冲正 (2601) by the
  original reference, never a second settle;
* ``undo`` — a fund leg that stood and must be undone: the channel's cancel with ``<ref>:undo``.

Every call is recorded in ``adapter_calls`` before it is sent. An entry that has not closed after
``max_attempts`` passes goes to ``manual`` with an error log (the alert a human acts on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from onestop.gateway.models import LegStatus, ResolverEntry
from onestop.sdk import (
    CancelInput,
    CancelOutcome,
    ChannelCancelInput,
    ChannelFlow,
    ReversalInput,
    ReversalOutcome,
)

if TYPE_CHECKING:
    from onestop.gateway.service import Gateway
    from onestop.gateway.store import Store

__all__ = ["queue", "resolve_pass"]

_log = structlog.get_logger("onestop.gateway")
_CANCEL_DONE = (CancelOutcome.CANCELLED.value, CancelOutcome.REFUNDED.value, CancelOutcome.NOTHING_TO_CANCEL.value)


def queue(store: Store, state: str | None = "manual") -> tuple[ResolverEntry, ...]:
    """The queue's entries in ``state`` (``open``, ``done``, ``manual``; None for all), oldest first."""
    with store.read() as conn:
        rows = store.queue_by_state(conn, state)
    return tuple(ResolverEntry.model_validate(dict(r._mapping)) for r in rows)


def _call(gw: Gateway, entry: Any) -> tuple[bool, str, str]:
    """Send the entry's call; (closed?, outcome text, the leg's new status)."""
    ref, action, payer, kind = entry.reference, entry.action, entry.payer, entry.kind
    timeout = gw.config.call_policy.timeout_s * 2
    if action == "cancel":
        caller = gw._insurers.get(payer)
        if caller is None:
            return False, "PAYER_NOT_CONFIGURED", ""
        res = gw._loop.run(caller.cancel(CancelInput(reference=ref, payer=payer, reason=entry.reason)), timeout)
        ok = res.outcome.value in _CANCEL_DONE
        was_paid = entry.reason in ("REVERSAL", "COMPENSATION")
        return ok, res.outcome.value, (LegStatus.REVERSED if was_paid else LegStatus.CANCELLED).value
    channel = gw._channels.get(kind)
    if channel is None:
        return False, "CHANNEL_NOT_CONFIGURED", ""
    if action == "reverse":
        rev = gw._loop.run(
            channel.call(
                ChannelFlow.REVERSAL,
                ReversalInput(reference=ref + ":rev", original_reference=ref, original_flow=ChannelFlow.SETTLE),
            ),
            timeout,
        )
        ok = rev.outcome in (ReversalOutcome.REVERSED, ReversalOutcome.NOTHING_TO_REVERSE)
        status = LegStatus.REVERSED if rev.outcome is ReversalOutcome.REVERSED else LegStatus.FAILED
        return ok, rev.outcome.value, status.value
    res = gw._loop.run(
        channel.call(ChannelFlow.CANCEL, ChannelCancelInput(reference=ref + ":undo", original_reference=ref)),
        timeout,
    )
    ok = str(res.outcome) in ("cancelled", "nothing_to_cancel")
    return ok, str(res.outcome), LegStatus.REVERSED.value


def _call_reference(entry: Any) -> tuple[str, str]:
    if entry.action == "cancel":
        return entry.reference, "cancel"
    if entry.action == "reverse":
        return entry.reference + ":rev", "reversal"
    return entry.reference + ":undo", "cancel"


def resolve_pass(gw: Gateway, *, max_attempts: int = 10) -> int:
    """Work every open entry once.

    Args:
        gw: The gateway whose queue and payers to use.
        max_attempts: Passes after which an entry that has not closed goes to ``manual``.

    Returns:
        How many entries closed in this pass.
    """
    store = gw.store
    with store.read() as conn:
        entries = store.open_queue(conn)
    closed = 0
    for e in entries:
        call_ref, flow = _call_reference(e)
        with store.write() as conn:
            store.record_call(conn, e.settlement_id, e.reference, e.payer, flow, call_ref)
        try:
            ok, outcome, status = _call(gw, e)
        except Exception as exc:  # stays open for the next pass
            ok, outcome, status = False, type(exc).__name__, ""
        attempts = int(e.attempts) + 1
        with store.write() as conn:
            store.finish_calls(conn, call_ref, flow, "done" if ok else "failed", outcome)
            if ok:
                store.update_queue(conn, e.reference, e.action, state="done", attempts=attempts, last_error="")
                store.update_leg(conn, e.reference, status=status)
            elif attempts >= max_attempts:
                store.update_queue(conn, e.reference, e.action, state="manual", attempts=attempts, last_error=outcome)
            else:
                store.update_queue(conn, e.reference, e.action, attempts=attempts, last_error=outcome[:200])
        if ok:
            closed += 1
            _log.info("resolver.closed", reference=e.reference, action=e.action, outcome=outcome)
        elif attempts >= max_attempts:
            _log.error("resolver.manual", reference=e.reference, action=e.action, last_error=outcome)
    return closed
