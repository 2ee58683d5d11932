"""What the fake GitHub and fake GitLab servers share: serving on 127.0.0.1, the request log,
injected faults and gates.

A fake is a :class:`FakeServer` subclass that holds its own state and answers requests in
:meth:`FakeServer._answer`; everything a test uses to make the network misbehave (error answers,
raw bytes where JSON was expected, a server that drips or never answers, concurrent requests made
to race) is defined once here, so both fakes misbehave the same way.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
"""The fakes' clock starts here and moves one second per timestamp taken."""


@dataclass(frozen=True)
class RequestRecord:
    """One request a fake answered."""

    method: str
    """HTTP method."""
    path: str
    """Path without the query string."""
    query: Mapping[str, str]
    """Query parameters (last value of each)."""
    body: Any
    """The decoded JSON body, or None."""
    token: str | None
    """The token from the request's authentication header, if any."""
    status: int
    """The status the fake answered with."""

    @property
    def is_write(self) -> bool:
        """Whether the request asked to change something (GraphQL queries count as writes)."""
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


FaultKind = Literal["answer", "raw", "drip", "silence"]
"""How an injected fault answers: a status and JSON body (``answer``), a status and raw bytes
(``raw``), headers then the body one byte at a time (``drip``), or nothing at all (``silence``)."""


@dataclass
class Fault:
    """An answer injected for the next ``times`` matching requests."""

    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any
    kind: FaultKind = "answer"
    raw: bytes = b""
    interval: float = 0.0


@dataclass
class _Gate:
    method: str
    path: re.Pattern[str]
    barrier: threading.Barrier
    remaining: int


class HttpError(Exception):
    """Raised by a fake's handlers to answer with an error status."""

    def __init__(self, status: int, message: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


Answer = tuple[int, Any, Mapping[str, str]]
"""A status, a JSON payload (None for no body, or a :class:`Fault` to misbehave) and headers."""

_Self = TypeVar("_Self", bound="FakeServer")


class FakeServer:
    """State shared by every fake, and its control surface; :meth:`start` serves it."""

    name = "fake"
    """The serving thread's name and the ``Server`` header."""
    content_type = "application/json"
    """The Content-Type of JSON answers."""
    answer_headers: Mapping[str, str] = MappingProxyType({})
    """Headers sent with every JSON answer."""

    def __init__(self, first_id: int) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(first_id)
        self._tick = itertools.count(1)
        self._faults: list[Fault] = []
        self._gates: list[_Gate] = []
        self._requests: list[RequestRecord] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.url = ""

    # --- what a fake defines ---------------------------------------------------------------

    def _token(self, headers: Mapping[str, str]) -> str | None:
        """The token a request authenticates with."""
        raise NotImplementedError

    def _answer(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any,
        token: str | None,
        bad_json: bool,
    ) -> Answer:
        """The answer to one request (``body`` is None and ``bad_json`` set when the body was
        not JSON); call :meth:`_intercept` to honour gates and injected faults."""
        raise NotImplementedError

    def _fault_body(self, status: int) -> Any:
        """The JSON body of an injected ``status`` when the test gave none."""
        return {"message": f"{status} Error"}

    # --- lifecycle -------------------------------------------------------------------------

    def start(self: _Self) -> _Self:
        """Serve on 127.0.0.1 at a free port in a background thread; sets :attr:`url`."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (drips, silences and gates end at once)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            for gate in self._gates:
                gate.barrier.abort()

    def __enter__(self: _Self) -> _Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults and races ------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``path_regex`` (a full
        match of the path the fake routes on, without the query) with ``status``, ``headers``
        and ``body`` (a JSON value; by default the error body the real service sends).
        ``method`` ``*`` matches any."""
        if body is None:
            body = self._fault_body(status)
        self._add_fault(method, path_regex, status, times, dict(headers or {}), body)

    def inject_raw(
        self,
        method: str,
        path_regex: str,
        body: bytes,
        status: int = 200,
        times: int = 1,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and the bytes ``body``
        as they are (say, an HTML page from a proxy where JSON was expected)."""
        self._add_fault(
            method, path_regex, status, times, {"Content-Type": content_type}, None, "raw", body
        )

    def inject_drip(
        self,
        method: str,
        path_regex: str,
        interval: float,
        size: int = 1_000_000,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with a 200 and headers promising ``size``
        bytes, then send one byte every ``interval`` seconds until the client hangs up or the
        fake stops: a server that is alive but never finishes."""
        self._add_fault(method, path_regex, 200, times, {}, None, "drip", b" " * size, interval)

    def inject_silence(self, method: str, path_regex: str, times: int = 1) -> None:
        """Read the next ``times`` matching requests and never answer them (until the fake
        stops)."""
        self._add_fault(method, path_regex, 0, times, {}, None, "silence")

    def gate(self, method: str, path_regex: str, parties: int = 2, timeout: float = 10.0) -> None:
        """Hold the next ``parties`` matching requests until all of them have arrived, so
        concurrent clients are made to race at that point."""
        with self._lock:
            self._gates.append(
                _Gate(
                    method.upper(),
                    re.compile(path_regex),
                    threading.Barrier(parties, timeout=timeout),
                    parties,
                )
            )

    # --- the request log -------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the request log (state stays)."""
        with self._lock:
            self._requests.clear()

    # --- for the fakes ---------------------------------------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    def _now(self) -> datetime:
        return EPOCH + timedelta(seconds=next(self._tick))

    def _intercept(self, method: str, path: str, authenticated: bool) -> Fault | None:
        """Wait at a gate set for this request, if any; then, for an authenticated request,
        the fault injected for it, if any."""
        gate = self._take_gate(method, path)
        if gate is not None:
            try:
                gate.barrier.wait()
            except threading.BrokenBarrierError:
                pass
        if not authenticated:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method in ("*", method) and fault.path.fullmatch(path):
                    fault.times -= 1
                    return fault
        return None

    def _add_fault(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int,
        headers: dict[str, str],
        body: Any,
        kind: FaultKind = "answer",
        raw: bytes = b"",
        interval: float = 0.0,
    ) -> None:
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            status,
            times,
            headers,
            body,
            kind,
            raw,
            interval,
        )
        with self._lock:
            self._faults.append(fault)

    def _take_gate(self, method: str, path: str) -> _Gate | None:
        with self._lock:
            for gate in self._gates:
                if (
                    gate.remaining > 0
                    and gate.method in ("*", method)
                    and gate.path.fullmatch(path)
                ):
                    gate.remaining -= 1
                    return gate
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)


def stamp(moment: datetime, fraction: str = "") -> str:
    """``moment`` as ``2024-01-01T00:00:01Z`` (``fraction`` such as ``.000`` before the Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _make_handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"{fake.name}/1"
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = -1  # one write per response (flushed after each request)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/") or "/"
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            bad_json = False
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    bad_json = True
            token = fake._token(self.headers)  # type: ignore[arg-type]
            status, payload, headers = fake._answer(method, path, query, body, token, bad_json)
            fake._record(RequestRecord(method, path, query, body, token, status))
            if isinstance(payload, Fault):
                self._misbehave(payload)
            else:
                self._send(status, payload, headers)

        def _misbehave(self, fault: Fault) -> None:
            """Serve a ``raw``, ``drip`` or ``silence`` fault."""
            if fault.kind == "silence":
                fake._stopping.wait()
                self.close_connection = True
                return
            self.send_response(fault.status)
            self.send_header("Content-Length", str(len(fault.raw)))
            for name, value in fault.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault.kind == "raw":
                self.wfile.write(fault.raw)
                return
            self.wfile.flush()
            self.close_connection = True
            try:
                for i in range(len(fault.raw)):
                    if fake._stopping.wait(fault.interval):
                        return
                    self.wfile.write(fault.raw[i : i + 1])
                    self.wfile.flush()
            except OSError:  # the client hung up
                return

        def _send(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", fake.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in {**fake.answer_headers, **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            if data:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler
