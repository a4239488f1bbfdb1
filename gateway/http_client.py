"""The gateway's HTTP/1.1 client for the models' servers: the one hop whose cost is paid per token.

A stream's events cost the app CPU each, on a machine where the server generating them wants every cycle.
aiohttp's client hands a streamed body over through its StreamReader (per event: a feed, a waiter, a read,
an iterator step, all in Python). Here the socket's bytes go through httptools' C parser (uvicorn's own)
into a list that the relay takes whole, whatever has come since it last looked: an event costs a read, the
parser's call back, one wake-up and the write to the client (53-62 -> 46-49 us of the app's CPU per event in
the experiment docs/gateway.md describes; most of what is left is the two system calls).

A connection carries one request at a time. One whose answer ended cleanly, that the server lets live and
that the caller did not mark for closing, waits in a pool for the next request to the same server, at most
`keepalive_s`: llama-server closes an idle one after 5 s, and a POST sent on a connection it is closing
would fail (it is not retried).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast
from urllib.parse import quote, urlsplit

import httptools

KEEPALIVE_S = 4.0
CONNECT_TIMEOUT_S = 5.0
HIGH_WATER = 1024 * 1024  # past this much unread answer the server is asked to wait (a slow client)
TARGET_SAFE = "/?&=%+:@!$'()*,;~"  # what stays as it is in a request target; anything else is percent-encoded
Origin = tuple[str, str, int]  # scheme, host, port


class UpstreamError(Exception):
    """The server could not be reached, or failed before its answer was whole (closed, reset, malformed)."""


class _Connection(asyncio.Protocol):
    """One connection to a server and the answer it is receiving; httptools calls the `on_*` methods."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self._answering = False
        self._expect(head_only=False)

    def _expect(self, *, head_only: bool) -> None:
        """Ready for the answer to a request about to be sent."""
        self.parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.head_only = head_only  # HEAD: no body follows, whatever the headers say
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.parts: list[bytes] = []
        self.unread = 0
        self.paused = False
        self.complete = False
        self.until_close = False  # neither a length nor chunks: the body ends when the connection does
        self.keep_alive = False  # the server lets the connection live after this answer (read with its head)
        self.error: UpstreamError | None = None
        self.waiter: asyncio.Future[None] | None = None
        self._answering = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's is one without being a subclass)

    def data_received(self, data: bytes) -> None:
        if not self._answering:  # nothing may come on an idle connection: it is not to be trusted again
            self._close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the server's answer is not valid HTTP ({exc})"))
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._answering and not self.complete:
            if self.until_close and exc is None:
                self.on_message_complete()
            else:
                self._fail(UpstreamError("the server closed the connection" + (f" ({exc})" if exc else "")))

    # httptools
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        # asked here, not at the end: once the message is complete the parser has reset and says False
        self.keep_alive = self.parser.should_keep_alive()
        names = {name for name, _ in self.headers}
        self.until_close = b"content-length" not in names and b"transfer-encoding" not in names and not (
            self.status in (204, 304) or self.status < 200)
        if not self.head.done():
            self.head.set_result(None)
        if self.head_only:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)
        self.unread += len(body)
        if self.unread > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    # the answer's reader
    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        self.error = self.error or error
        if not self.head.done():
            self.head.set_exception(error)
        self._wake()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def read_some(self) -> bytes:
        """All of the body that has come since the last call (waiting for some if none has); b"" at its end."""
        while True:
            parts = self.parts
            if parts:
                self.parts = []
                self.unread = 0
                if self.paused and self.transport is not None:
                    self.paused = False
                    self.transport.resume_reading()
                return parts[0] if len(parts) == 1 else b"".join(parts)
            if self.error is not None:
                raise self.error
            if self.complete:
                return b""
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def reusable(self) -> bool:
        return self.complete and not self.lost and not self.head_only and self.keep_alive


class Answer:
    """A server's answer: its status and headers at once, its body as it comes."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self.status = connection.status
        self.headers = connection.headers
        self.keep_connection = True  # False: close it after this answer, whatever the server said

    def header(self, name: bytes) -> bytes | None:
        """The first header of that (lower-case) name."""
        for found, value in self.headers:
            if found == name:
                return value
        return None

    @property
    def content_length(self) -> int | None:
        value = self.header(b"content-length")
        return int(value) if value is not None and value.isdigit() else None

    async def read_some(self) -> bytes:
        return await self._connection.read_some()

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.read_some():
            parts.append(chunk)
        return b"".join(parts)


class HttpClient:
    """Requests to the models' servers (or a standalone runner), over pooled keep-alive connections."""

    def __init__(self, keepalive_s: float = KEEPALIVE_S) -> None:
        self.keepalive_s = keepalive_s
        self._idle: dict[Origin, list[_Connection]] = {}

    @asynccontextmanager
    async def request(self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes, *,
                      close: bool = False) -> AsyncIterator[Answer]:
        """Send a request and yield its answer once its head has come. `close`: a connection of its own, closed
        after. Raises UpstreamError when the server cannot be reached or fails before its answer is whole."""
        where = urlsplit(url)
        scheme, host = where.scheme or "http", where.hostname or ""
        origin = (scheme, host, where.port or (443 if scheme == "https" else 80))
        target = quote(where.path or "/", safe=TARGET_SAFE) + (f"?{quote(where.query, safe=TARGET_SAFE)}"
                                                               if where.query else "")
        host_header = where.netloc.rpartition("@")[2]
        head = [f"{method} {target} HTTP/1.1\r\nHost: {host_header}\r\n".encode("latin-1")]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        head.append(b"content-length: %d\r\n" % len(body))
        if close:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        connection = (None if close else self._pooled(origin)) or await self._connect(origin)
        connection._expect(head_only=method == "HEAD")
        answer: Answer | None = None
        try:
            assert connection.transport is not None
            connection.transport.write(b"".join(head) + body)
            await connection.head
            answer = Answer(connection)
            yield answer
        finally:
            connection.head.cancel()  # (a no-op once it came) a failure nobody waits for any more is no error
            if answer is not None and answer.keep_connection and not close and connection.reusable():
                self._pool(origin, connection)
            else:
                connection._close()

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection._close()
        self._idle.clear()

    def _pooled(self, origin: Origin) -> _Connection | None:
        """The connection that has waited least, if it still may be used; older ones are closed."""
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.lost and time.monotonic() - connection.idle_since < self.keepalive_s:
                return connection
            connection._close()
            for stale in idle:  # the rest waited even longer
                stale._close()
            idle.clear()
        return None

    def _pool(self, origin: Origin, connection: _Connection) -> None:
        connection._answering = False
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, []).append(connection)

    @staticmethod
    async def _connect(origin: Origin) -> _Connection:
        scheme, host, port = origin
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, host, port, ssl=ssl.create_default_context() if scheme == "https" else None)
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"could not connect to {host}:{port} ({exc.__class__.__name__})") from exc
        return connection
