"""Forwarding one request to a model's server and its answer back, chunk by chunk.

One HTTP client (gateway/http_client.py) keeps a pool of keep-alive connections to the servers (or to a
standalone runner's proxy route). A body is relayed as it arrives, never gathered: each send carries all that
has come since the last one, so a stream reaches the client token by token and a burst that arrived at once
goes in one write, never held back for more; only a stream's last few chunks are kept, to read its usage once
it has ended.
Status codes and content types pass through as the server sent them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from time import perf_counter
from typing import Protocol

from starlette.types import Send

from gateway.errors import GatewayError, error_body, sse_error_event
from gateway.http_client import Answer, HttpClient
from gateway.usage import NOTHING, Usage, usage_of_body, usage_of_stream_tail
from protocol.proxy import FORWARDED_REQUEST_HEADERS, PROXY_ROUTE
from store import ModelState

BODY_KEPT_MAX = 1024 * 1024  # a whole (non-stream) answer is read for its usage up to this size
STREAM_TAIL_CHUNKS = 4  # a stream's usage and timings are in its last event or two
FORWARDED = frozenset(name.encode() for name in FORWARDED_REQUEST_HEADERS)
SSE = b"text/event-stream"


class Upstream(Protocol):
    """Where a model's server is reached: the URL for a path on it, and the credentials to send."""

    def target(self, state: ModelState, path: str) -> tuple[str, str]: ...


class LocalServers:
    """The embedded runner's servers, on this host's loopback, each answering to its own per-start key."""

    def target(self, state: ModelState, path: str) -> tuple[str, str]:
        return f"http://127.0.0.1:{state.port}{path}", f"Bearer {state.server_key}"


@dataclass(frozen=True)
class ThroughRunner:
    """A standalone runner's servers, reached through its proxy route behind its token."""

    url: str
    token: str

    def target(self, state: ModelState, path: str) -> tuple[str, str]:
        route = PROXY_ROUTE.format(uid=state.uid, path=path.lstrip("/"))
        return f"{self.url.rstrip('/')}{route}", f"Bearer {self.token}"


@dataclass
class Reply:
    """The answer going back to the client: whether it has begun, and what it turned out to be."""

    send: Send
    status: int = 0
    streaming: bool = False  # a server-sent event stream has begun (errors now go as events)
    finished: bool = False
    first_chunk_at: float | None = None
    expected: int | None = None  # the answer's length, when the server said
    relayed: int = 0
    usage: Usage = NOTHING
    error: str | None = None
    tail: deque[bytes] = field(default_factory=lambda: deque(maxlen=STREAM_TAIL_CHUNKS))

    @property
    def started(self) -> bool:
        return self.status != 0

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.streaming = any(name == b"content-type" and value.startswith(SSE) for name, value in headers)
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def chunk(self, body: bytes) -> None:
        self.relayed += len(body)
        await self.send({"type": "http.response.body", "body": body, "more_body": True})

    async def end(self, body: bytes = b"") -> None:
        self.finished = True  # before the last send: the disconnect watcher must not take its echo for a client gone
        await self.send({"type": "http.response.body", "body": body, "more_body": False})

    def gone(self, why: str) -> None:
        """The client disconnected. A client may close as soon as it has its whole answer (the `openai` package
        does at a stream's last event), before the answer's end is sent: that one counts as served."""
        if self.streaming:
            self.usage = usage_of_stream_tail(self.tail)
        whole = self.usage != NOTHING or (self.expected is not None and self.relayed >= self.expected)
        if not (self.started and whole):
            self.status, self.error = 499, why  # nginx's "client closed request"

    async def fail(self, error: GatewayError) -> None:
        """Say what went wrong in the form the client can still take: a JSON answer, an event, or nothing."""
        self.error = error.message
        if not self.started:
            body = error.body()
            await self.start(error.status, [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode()), *error.headers])
            self.status = error.status
            await self.end(body)
        elif not self.finished:
            self.status = error.status  # what the activity log records; the client saw 200 and then this
            await self.end(sse_error_event(error.status, error.message, error.code) if self.streaming else b"")


class Proxy:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._client: HttpClient | None = None

    async def open(self) -> None:
        self._client = HttpClient()

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def forward(self, state: ModelState, method: str, path: str, *, headers: list[tuple[bytes, bytes]],
                      body: bytes, reply: Reply, stream: bool = False) -> None:
        """Relay one request; raises UpstreamError when the server fails before or during its answer.

        llama-server closes its side of a connection after a stream, though it says keep-alive, so a request
        sent next on that connection would fail: a stream asks for a connection of its own (`Connection: close`)."""
        assert self._client is not None, "the gateway is not open"
        url, authorization = self.upstream.target(state, path)
        sent = [(name, value) for name, value in headers if name in FORWARDED]
        sent.append((b"authorization", authorization.encode("latin-1")))
        async with self._client.request(method, url, sent, body, close=stream) as answer:
            kind = answer.header(b"content-type") or b"application/octet-stream"
            if kind.startswith(SSE):
                answer.keep_connection = False  # an /upstream/ stream the body did not announce
            if reply.started:  # a stream that told the client "loading" while the model started
                await self._into_stream(answer, kind, reply)
                return
            out = [(b"content-type", kind)]
            length = answer.content_length
            if length is not None:
                reply.expected = length
                out.append((b"content-length", str(length).encode()))
            await reply.start(answer.status, out)
            kept: list[bytes] = []
            kept_size = 0
            while chunk := await answer.read_some():
                if reply.first_chunk_at is None:
                    reply.first_chunk_at = perf_counter()
                if reply.streaming:
                    reply.tail.append(chunk)
                elif kept_size < BODY_KEPT_MAX:
                    kept.append(chunk)
                    kept_size += len(chunk)
                await reply.chunk(chunk)
            await reply.end()
        reply.usage = usage_of_stream_tail(reply.tail) if reply.streaming else usage_of_body(b"".join(kept))

    @staticmethod
    async def _into_stream(answer: Answer, kind: bytes, reply: Reply) -> None:
        """Carry on a stream already begun: the server's own events, or its error as one event."""
        if answer.status != 200 or not kind.startswith(SSE):
            body = await answer.read()
            reply.status = answer.status
            reply.error = body[:500].decode("utf-8", "replace")
            await reply.end(b"data: " + (body if body.startswith(b"{") else error_body(
                answer.status, reply.error, "upstream_error")) + b"\n\n")
            return
        while chunk := await answer.read_some():
            if reply.first_chunk_at is None:
                reply.first_chunk_at = perf_counter()
            reply.tail.append(chunk)
            await reply.chunk(chunk)
        await reply.end()
        reply.usage = usage_of_stream_tail(reply.tail)
