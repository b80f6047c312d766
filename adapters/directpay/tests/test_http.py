"""The direct-pay adapter over real HTTP on 127.0.0.1: slow answers, 5xx, signatures, nonces, duplicate confirms."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from onestop_directpay import DirectPayAdapter, DirectPayConfig
from onestop_directpay._signing import canonical, envelope, sign, verify
from onestop_directpay._wire import CODE
from onestop_directpay.testing import Fault, shared_config, shared_server
from pydantic import SecretStr
from structlog.testing import capture_logs

from onestop.domain.offer import AnswerStatus, Category, Offer
from onestop.errors import IntegrityViolation, PayerUnavailable
from onestop.sdk import InsurerCaller, PreSettleInput, QueryInput, ReasonCode, Resolver, SettleInput
from onestop.sdk.testing import sample_offer
from onestop.testing import FakeClock

T = TypeVar("T")


def run(body: Callable[[DirectPayAdapter, InsurerCaller, FakeClock], Awaitable[T]], **cfg: Any) -> T:
    async def main() -> T:
        clock = FakeClock()
        adapter = DirectPayAdapter(shared_config(**cfg))
        try:
            return await body(adapter, InsurerCaller(adapter, clock=clock), clock)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def wait_until(pred: Callable[[], bool]) -> None:
    """Wait (bounded) for the server thread to finish a request it was told to delay."""
    done = threading.Event()
    for _ in range(200):
        if pred():
            return
        done.wait(0.05)
    raise AssertionError("the fake server did not finish the delayed request")


def test_slow_confirm_after_effect_is_resolved_by_query_and_paid_once() -> None:
    """A confirm that took effect but answered after the read timeout is found by query; it was sent once."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with server.faults("/order/confirm", Fault(delay_s=2.0, after=True)):
            res = await c.settle(SettleInput(offer=offer))
        assert res.status is AnswerStatus.PARTIAL
        assert res.paid_fen == server.state.paid_out[offer.reference] > 0
        assert server.state.confirms[offer.reference] == 1

    run(body)


def test_confirm_landing_late_is_refunded_never_paid_twice() -> None:
    """A confirm held past the timeout leaves the leg pending; the resolver undoes it whichever way it lands."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        resolver = Resolver({"directpay": c})
        with server.faults("/order/confirm", Fault(delay_s=1.0)):
            answer = await resolver.settle_for_cashier(SettleInput(offer=offer))
            assert answer.status in (AnswerStatus.PENDING, AnswerStatus.UNKNOWN)
            assert answer.totals == {}
            wait_until(lambda: server.state.confirms.get(offer.reference, 0) == 1)
        (outcome,) = await resolver.resolve_pending()
        assert outcome.done
        assert server.state.paid_out.get(offer.reference, 0) == 0
        assert server.state.orders[offer.reference]["orderStatus"] in ("2", "3")

    run(body)


def test_5xx_after_confirm_is_ambiguous_and_resolved() -> None:
    """A 503 returned after the confirm took effect is treated as unknown and resolved by query, not re-sent."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with server.faults("/order/confirm", Fault(status=503, after=True)):
            res = await c.settle(SettleInput(offer=offer))
        assert res.status is AnswerStatus.PARTIAL
        assert server.state.confirms[offer.reference] == 1

    run(body)


def test_5xx_before_trial_fails_after_definitive_query() -> None:
    """A 503 before anything happened is resolved by query to not-found, so the leg failed and nothing is paid."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with server.faults("/order/trial", Fault(status=503)):
            res = await c.settle(SettleInput(offer=offer))
        assert (res.status, res.reason) == (AnswerStatus.DECLINED, ReasonCode.SETTLE_FAILED)
        assert offer.reference not in server.state.orders

    run(body)


def test_5xx_on_query_is_retried_with_fake_backoff() -> None:
    """Queries failing with 503 are retried (back-off on the fake clock) and then succeed."""
    server = shared_server()

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with server.faults("/order/query", Fault(status=503), Fault(status=503)):
            q = await c.query(QueryInput(reference="never-settled-ref", payer="directpay"))
        assert q.found is False
        assert clock.sleeps == [0.2, 0.4]

    run(body)


def test_bad_answer_signature_is_rejected_then_undone() -> None:
    """A confirm answer with a bad signature is rejected (logged) and the booked order is refunded by the resolver."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with (
            server.faults("/order/confirm", Fault(bad_signature=True)),
            capture_logs() as logs,
            pytest.raises(IntegrityViolation, match="signature"),
        ):
            await c.settle(SettleInput(offer=offer))
        assert any(e["event"] == "adapter.integrity_violation" for e in logs)
        resolver = Resolver({"directpay": c})
        with server.faults("/order/confirm", Fault(bad_signature=True)):
            other = sample_offer("directpay")
            answer = await resolver.settle_for_cashier(SettleInput(offer=other))
        assert (answer.status, answer.reason) == (AnswerStatus.UNKNOWN, "INTEGRITY_VIOLATION")
        await resolver.resolve_pending()
        assert server.state.paid_out[other.reference] == 0

    run(body)


def test_wrong_secret_is_refused_unseen_and_never_trusted() -> None:
    """A request signed with the wrong key is refused unseen (no order); its unverifiable answer is not trusted."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        with pytest.raises(IntegrityViolation, match="signature"):
            await c.settle(SettleInput(offer=offer))
        assert offer.reference not in server.state.orders

    run(body, app_secret=SecretStr("wrong"))


def test_stale_timestamp_is_refused() -> None:
    """A request stamped outside the one-minute window is refused (the clock is faked five minutes behind)."""

    async def main() -> None:
        adapter = DirectPayAdapter(shared_config(), clock=FakeClock(wall=time.time() - 300))
        try:
            with pytest.raises(PayerUnavailable) as info:
                await adapter.query(QueryInput(reference="r", payer="directpay"))
        finally:
            await adapter.aclose()
        assert info.value.raw_code == CODE.TIMESTAMP_OUT_OF_WINDOW

    asyncio.run(main())


def test_nonce_is_single_use() -> None:
    """The same signed request sent twice is refused the second time (single-use nonce)."""
    server = shared_server()
    body = envelope(server.app_id, {"hospitalPayNo": "nonce-ref"}, server.secret, now=time.time())
    with httpx.Client(base_url=server.url) as http:
        first = http.post("/order/query", json=body).json()
        second = http.post("/order/query", json=body).json()
    assert first["code"] == CODE.NOT_FOUND
    assert second["code"] == CODE.NONCE_REUSED


def test_duplicate_confirm_pays_once() -> None:
    """A second confirm of the same order returns the confirmed order (code 1002) and pays nothing more."""
    server = shared_server()
    offer = sample_offer("directpay")

    async def body(a: DirectPayAdapter, c: InsurerCaller, clock: FakeClock) -> None:
        first = await c.settle(SettleInput(offer=offer))
        paid = server.state.paid_out[offer.reference]
        code, data = await a._post("/order/confirm", {"hospitalPayNo": offer.reference}, flow="settle", write=True)
        assert code == CODE.ALREADY_CONFIRMED
        assert data["orderNo"] == first.payer_claim_id
        again = await c.settle(SettleInput(offer=offer))
        assert again.payer_claim_id == first.payer_claim_id
        assert server.state.paid_out[offer.reference] == paid == first.paid_fen
        assert server.state.confirms[offer.reference] == 2

    run(body)


def test_wire_amounts_are_integer_fen_by_category() -> None:
    """The request carries integer fen per category field, and the answer maps back to the same categories."""
    offer = sample_offer("directpay", kind="cidl")
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body["bizContent"])
        data = {"hospitalPayNo": offer.reference, "orderStatus": "0", "payDetail": {"cidlAmount": 96_000_00},
                "insuranceAmount": 96_000_00, "requestedAmount": 1_200_400_00}  # fmt: skip
        return httpx.Response(200, json=_signed(data))

    res = _against_server(handler, lambda a: a.pre_settle(_pre(offer)))
    biz = seen[0]
    assert biz["cidlAmount"] == 1_200_000_00
    assert biz["selfBAmount"] == 800
    assert all(type(biz[k]) is int for k in biz if k.endswith(("Amount", "Amnt")))
    assert res.totals == {Category.CIDL: 96_000_00}
    assert res.status is AnswerStatus.PARTIAL


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"orderStatus": "1", "payDetail": {"selfCAmount": 12.5}, "insuranceAmount": 12.5}, "integer fen"),
        ({"orderStatus": "1", "payDetail": {"selfCAmount": 100}, "insuranceAmount": 150}, "differs from its detail"),
    ],
    ids=["float-amount", "total-mismatch"],
)
def test_untrustworthy_amounts_are_integrity_violations(data: dict[str, Any], match: str) -> None:
    """A float amount or a total that does not add up is an integrity violation, never a payment."""
    full = {"hospitalPayNo": "ref-x", **data}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_signed(full))

    with pytest.raises(IntegrityViolation, match=match):
        _against_server(handler, lambda a: a.query(QueryInput(reference="ref-x", payer="directpay")))


def test_unlisted_order_status_is_pending() -> None:
    """An order status the mapping does not list is PENDING with nothing paid."""
    data = {"hospitalPayNo": "ref-y", "orderStatus": "7", "payDetail": {}, "insuranceAmount": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_signed(data))

    q = _against_server(handler, lambda a: a.query(QueryInput(reference="ref-y", payer="directpay")))
    assert (q.found, q.status, q.paid_fen, q.raw_code) == (True, AnswerStatus.PENDING, 0, "7")


def test_signature_covers_every_field_in_any_order() -> None:
    """The canonical string sorts keys; changing any signed field breaks verification."""
    fields = envelope("app", {"b": 2, "a": [1, "x"]}, "k", now=1_767_225_600)
    assert verify(dict(reversed(list(fields.items()))), "k")
    assert canonical(fields).startswith("appId=app&bizContent={")
    for key in ("appId", "timestamp", "nonce", "bizContent"):
        tampered = dict(fields, **{key: "changed"})
        assert not verify(tampered, "k")
    assert not verify(fields, "other-key")


# -- helpers ----------------------------------------------------------------------------------------


def _signed(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"code": CODE.OK, "msg": "成功", "timestamp": int(time.time()), "data": data}
    fields["sign"] = sign(fields, "fixture-secret")
    return fields


def _pre(offer: Offer) -> PreSettleInput:
    return PreSettleInput(offer=offer)


def _against_server(
    handler: Callable[[httpx.Request], httpx.Response], call: Callable[[DirectPayAdapter], Awaitable[T]]
) -> T:
    """Run ``call`` against a real HTTP server on 127.0.0.1 whose every answer ``handler`` writes."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = httpx.Request("POST", f"http://127.0.0.1{self.path}", content=body, headers=dict(self.headers))
            response = handler(request)
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(response.content)

        def log_message(self, *args: Any) -> None:  # the test output stays quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    async def main() -> T:
        cfg = DirectPayConfig(
            base_url=f"http://127.0.0.1:{server.server_address[1]}",
            app_id="fixture-hospital",
            app_secret=SecretStr("fixture-secret"),
        )
        adapter = DirectPayAdapter(cfg)
        try:
            return await call(adapter)
        finally:
            await adapter.aclose()

    try:
        return asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
