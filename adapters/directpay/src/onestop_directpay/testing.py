"""A fake direct-pay insurer HTTP server on 127.0.0.1, for this adapter's tests and the host's.

It checks signatures, the timestamp window and single-use nonces like the modelled API, keeps
orders by ``hospitalPayNo``, and can be told to answer slowly, fail with 5xx, or sign its answer
wrongly. Its payment rule is a fixture: it pays ``pay_ratio`` of the categories it covers, up to
``sum_insured_fen`` per order, and declines members listed in ``declined_members``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import SecretStr

from onestop.domain.offer import Category
from onestop.money import apply_ratio
from onestop_directpay._signing import TIMESTAMP_WINDOW_S, sign, verify
from onestop_directpay._wire import CODE, FIELD_OF
from onestop_directpay.adapter import DirectPayConfig

__all__ = [
    "DECLINED_MEMBER",
    "FakeDirectPayServer",
    "Fault",
    "config_for",
    "shared_config",
    "shared_server",
    "stop_shared_server",
]

_COVERED = (Category.FULAMT_OWNPAY, Category.CIDL, Category.DEDUCTIBLE, Category.COPAY)


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to the next request on one path.

    Attributes:
        status: Answer this HTTP status (e.g. 503) instead of a normal answer.
        delay_s: Wait this long before answering (bounded; the server stops waiting on shutdown).
        after: Apply the fault after processing (the effect stands, the answer is lost or late).
        bad_signature: Sign the answer wrongly.
    """

    status: int = 0
    delay_s: float = 0.0
    after: bool = False
    bad_signature: bool = False


@dataclass
class _State:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    confirms: dict[str, int] = field(default_factory=dict)
    """Confirm requests per order (duplicates included)."""
    paid_out: dict[str, int] = field(default_factory=dict)
    """Net money paid per order (confirm adds, refund subtracts): never above one payment."""
    requests: list[str] = field(default_factory=list)
    seq: int = 0


class FakeDirectPayServer:
    """Serve the modelled direct-pay API on 127.0.0.1 (an ephemeral port) in a background thread.

    Args:
        app_id: The only app id accepted.
        secret: Shared signing secret.
        pay_ratio: Share of each covered category paid.
        sum_insured_fen: Cap per order (answers PARTIAL above it).
        declined_members: Member references with no cover (orders fail, status 4).
    """

    def __init__(
        self,
        *,
        app_id: str = "fixture-hospital",
        secret: str = "fixture-secret",  # noqa: S107 - a test server's fixture secret, not a credential
        pay_ratio: Decimal = Decimal("0.8"),
        sum_insured_fen: int | None = None,
        declined_members: tuple[str, ...] = (),
    ) -> None:
        """Configure; call :meth:`start` (or use as a context manager) to serve."""
        self.app_id = app_id
        self.secret = secret
        self.pay_ratio = pay_ratio
        self.sum_insured_fen = sum_insured_fen
        self.declined_members = declined_members
        self.state = _State()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeDirectPayServer:
        """Start serving on 127.0.0.1 (only the loopback interface)."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, answer = server._handle(self.path, raw)
                if status == 0:
                    return
                payload = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # The client may have given up (timed out): exactly what slow-answer tests provoke.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-directpay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeDirectPayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ------------------------------------------------------------------------------

    def fault(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests on ``path`` (one per request)."""
        with self._lock:
            self.state.faults.setdefault(path, []).extend(faults)

    @contextmanager
    def faults(self, path: str, *faults: Fault) -> Iterator[None]:
        """Faults for the duration of a ``with`` block (left-over ones are dropped at exit)."""
        self.fault(path, *faults)
        try:
            yield
        finally:
            with self._lock:
                self.state.faults.pop(path, None)

    # -- the API --------------------------------------------------------------------------------

    def _answer(
        self, code: str, msg: str, data: dict[str, Any] | None, *, bad_signature: bool = False
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"code": code, "msg": msg, "timestamp": int(time.time()), "data": data or {}}
        fields["sign"] = sign(fields, self.secret + ("x" if bad_signature else ""))
        return fields

    def _handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.state.requests.append(path)
            queue = self.state.faults.get(path)
            fault = queue.pop(0) if queue else Fault()
        if not fault.after:
            if fault.delay_s and self._stop.wait(min(fault.delay_s, 10.0)):
                return 0, {}
            if fault.status:
                return fault.status, {"error": "injected"}
        try:
            req = json.loads(raw)
        except ValueError:
            return 400, {"error": "not JSON"}
        with self._lock:
            answer = self._process(path, req)
        if fault.after:
            if fault.delay_s and self._stop.wait(min(fault.delay_s, 10.0)):
                return 0, {}
            if fault.status:
                return fault.status, {"error": "injected"}
        if fault.bad_signature:
            answer = self._answer(answer["code"], answer["msg"], answer["data"], bad_signature=True)
        return 200, answer

    def _process(self, path: str, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("appId") != self.app_id or not verify(req, self.secret):
            return self._answer(CODE.BAD_SIGNATURE, "签名验证失败", None)
        ts = req.get("timestamp")
        if not isinstance(ts, int) or abs(time.time() - ts) > TIMESTAMP_WINDOW_S:
            return self._answer(CODE.TIMESTAMP_OUT_OF_WINDOW, "时间戳超出有效期", None)
        nonce = str(req.get("nonce", ""))
        if not nonce or nonce in self.state.nonces:
            return self._answer(CODE.NONCE_REUSED, "签名已使用", None)
        self.state.nonces.add(nonce)
        biz = req.get("bizContent") or {}
        ref = str(biz.get("hospitalPayNo", ""))
        handler = {
            "/order/trial": self._trial,
            "/order/confirm": self._confirm,
            "/order/query": self._query,
            "/order/cancel": self._cancel,
            "/order/refund": self._refund,
        }.get(path)
        if handler is None:
            return self._answer("9999", "unknown path", None)
        return handler(ref, biz)

    def _decide(self, biz: dict[str, Any]) -> tuple[str, dict[str, int], int]:
        requested = sum(int(biz.get(f, 0)) for f in FIELD_OF.values())
        if biz.get("memberRef") in self.declined_members:
            return "4", {}, requested
        left = self.sum_insured_fen
        detail: dict[str, int] = {}
        for cat in _COVERED:
            f = FIELD_OF[cat]
            want = int(apply_ratio(int(biz.get(f, 0)), self.pay_ratio))
            if left is not None:
                want = min(want, left)
                left -= want
            if want:
                detail[f] = want
        return ("0" if detail else "4"), detail, requested

    def _trial(self, ref: str, biz: dict[str, Any]) -> dict[str, Any]:
        order = self.state.orders.get(ref)
        if order is None:
            status, detail, requested = self._decide(biz)
            order = {
                "hospitalPayNo": ref,
                "orderStatus": status,
                "payDetail": detail,
                "insuranceAmount": sum(detail.values()),
                "requestedAmount": requested,
                "orderNo": "",
                "statusMsg": "待理赔" if status == "0" else "不在保障范围",
            }
            self.state.orders[ref] = order
        return self._answer(CODE.OK, "成功", dict(order))

    def _confirm(self, ref: str, _biz: dict[str, Any]) -> dict[str, Any]:
        self.state.confirms[ref] = self.state.confirms.get(ref, 0) + 1
        order = self.state.orders.get(ref)
        if order is None:
            return self._answer(CODE.NOT_FOUND, "订单不存在", None)
        if order["orderStatus"] == "1":
            return self._answer(CODE.ALREADY_CONFIRMED, "订单已确认", dict(order))
        if order["orderStatus"] != "0":
            return self._answer(CODE.WRONG_STATE, "订单状态不允许确认", dict(order))
        self.state.seq += 1
        order.update(orderStatus="1", orderNo=f"DP{self.state.seq:08d}", statusMsg="已理赔")
        self.state.paid_out[ref] = self.state.paid_out.get(ref, 0) + int(order["insuranceAmount"])
        return self._answer(CODE.OK, "成功", dict(order))

    def _query(self, ref: str, _biz: dict[str, Any]) -> dict[str, Any]:
        order = self.state.orders.get(ref)
        if order is None:
            return self._answer(CODE.NOT_FOUND, "订单不存在", None)
        return self._answer(CODE.OK, "成功", dict(order))

    def _cancel(self, ref: str, _biz: dict[str, Any]) -> dict[str, Any]:
        order = self.state.orders.get(ref)
        if order is None:
            return self._answer(CODE.NOT_FOUND, "订单不存在", None)
        if order["orderStatus"] != "0":
            return self._answer(CODE.WRONG_STATE, "仅待理赔订单可取消", dict(order))
        order.update(orderStatus="3", statusMsg="已取消")
        return self._answer(CODE.OK, "成功", dict(order))

    def _refund(self, ref: str, _biz: dict[str, Any]) -> dict[str, Any]:
        order = self.state.orders.get(ref)
        if order is None:
            return self._answer(CODE.NOT_FOUND, "订单不存在", None)
        if order["orderStatus"] != "1":
            return self._answer(CODE.WRONG_STATE, "仅已理赔订单可退款", dict(order))
        order.update(orderStatus="2", statusMsg="已退款")
        self.state.paid_out[ref] -= int(order["insuranceAmount"])
        return self._answer(CODE.OK, "成功", dict(order))


#: A member reference the shared server declines (no cover).
DECLINED_MEMBER = "fixture-member-no-cover"
_shared: FakeDirectPayServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> FakeDirectPayServer:
    """One fake server per process, started on first use (pays 80 %, declines :data:`DECLINED_MEMBER`).

    Stop it with :func:`stop_shared_server` (e.g. from a session-scoped fixture).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeDirectPayServer(declined_members=(DECLINED_MEMBER,)).start()
        return _shared


def stop_shared_server() -> None:
    """Stop the shared server if it runs."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


def config_for(server: FakeDirectPayServer, **over: Any) -> DirectPayConfig:
    """An adapter config pointing at ``server`` (read timeout 0.5 s: slow answers are provoked on purpose)."""
    values: dict[str, Any] = {
        "base_url": server.url,
        "app_id": server.app_id,
        "app_secret": SecretStr(server.secret),
        "timeout_s": 0.5,
    }
    return DirectPayConfig(**(values | over))


def shared_config(**over: Any) -> DirectPayConfig:
    """:func:`config_for` the :func:`shared_server`."""
    return config_for(shared_server(), **over)
