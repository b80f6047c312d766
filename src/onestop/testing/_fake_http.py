"""A small threaded JSON-over-HTTP server on 127.0.0.1 with scriptable faults, shared by the fake centres.

A fake centre subclasses :class:`FakeJsonServer` and implements :meth:`FakeJsonServer.handle`. Faults
are queued per *key* (a path, or a transaction number such as ``2207``) and consumed one per request:
answer slowly, answer 5xx, or drop the answer — each either before the request is acted on or after
(the effect stands and the answer is lost or late).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["CentreFault", "FakeJsonServer"]

# A delayed answer never waits longer than this, so a stuck test cannot hang the run.
_MAX_DELAY_S = 10.0


@dataclass(frozen=True, slots=True)
class CentreFault:
    """What to do to the next request with one key.

    Attributes:
        status: Answer this HTTP status (e.g. 503) instead of the normal answer.
        delay_s: Wait this long before answering (bounded; the wait ends when the server stops).
        drop: Close the connection without any answer.
        after: Apply the fault after acting on the request (the effect stands, the answer is lost or late).
    """

    status: int = 0
    delay_s: float = 0.0
    drop: bool = False
    after: bool = False


class FakeJsonServer:
    """Serve JSON POSTs on 127.0.0.1 (an ephemeral port) in a background thread.

    Subclasses implement :meth:`handle` (called under the server's lock, one request at a time) and
    :meth:`fault_key` (which fault queue a request consumes).
    """

    thread_name = "fake-centre"

    def __init__(self) -> None:
        """Create the server (not yet listening); :meth:`start` or a ``with`` block serves."""
        self.lock = threading.RLock()
        self._faults: dict[str, list[CentreFault]] = {}
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to implement -----------------------------------------------------------------------------

    def fault_key(self, path: str, body: Mapping[str, Any]) -> str:
        """The fault queue a request consumes (default: its path)."""
        return path

    def handle(self, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """Act on one request and return (HTTP status, JSON answer)."""
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeJsonServer:
        """Start serving on the loopback interface only."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, answer = server._serve(self.path, dict(self.headers.items()), raw)
                if status == 0:
                    self.close_connection = True
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
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.thread_name, daemon=True)
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

    def __enter__(self) -> FakeJsonServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------------

    def fault(self, key: str, *faults: CentreFault) -> None:
        """Queue faults for the next requests with ``key`` (one per request)."""
        with self.lock:
            self._faults.setdefault(key, []).extend(faults)

    @contextmanager
    def faults(self, key: str, *faults: CentreFault) -> Iterator[None]:
        """Faults for the duration of a ``with`` block (left-over ones are dropped at exit)."""
        self.fault(key, *faults)
        try:
            yield
        finally:
            with self.lock:
                self._faults.pop(key, None)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self.lock:
            self._faults.clear()

    # -- serving ------------------------------------------------------------------------------------

    def _apply(self, fault: CentreFault) -> tuple[int, dict[str, Any]] | None:
        if fault.delay_s and self._stop.wait(min(fault.delay_s, _MAX_DELAY_S)):
            return 0, {}
        if fault.drop:
            return 0, {}
        if fault.status:
            return fault.status, {"error": "injected"}
        return None

    def _serve(self, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"error": "not JSON"}
        if not isinstance(body, dict):
            return 400, {"error": "not a JSON object"}
        with self.lock:
            queue = self._faults.get(self.fault_key(path, body))
            fault = queue.pop(0) if queue else CentreFault()
        if not fault.after and (early := self._apply(fault)) is not None:
            return early
        with self.lock:
            answer = self.handle(path, headers, raw)
        if fault.after and (late := self._apply(fault)) is not None:
            return late
        return answer
