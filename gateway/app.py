"""The gateway: one OpenAI-compatible endpoint for every configured model, a plain ASGI app.

A request flows: who calls (a key, or anyone on an open loopback) -> which route -> the body, bounded ->
which model (by name or alias) -> may this caller use it -> admitted (started on demand, counted in flight)
-> forwarded, its answer relayed chunk by chunk -> recorded in the activity log. A client that goes away
cancels the request at once, and with it the request to the model's server. Every error is OpenAI-shaped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, Protocol
from urllib.parse import unquote_plus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.api_keys import ApiKeys
from gateway.admission import Admission, Tick
from gateway.auth import Caller, KeyCheck
from gateway.errors import GatewayError
from gateway.http_client import UpstreamError
from gateway.proxy import Proxy, Reply, Upstream
from gateway.routing import MODEL_ROUTES, MODELS_LIST, UPSTREAM_PREFIX, ModelDirectory, split_upstream
from gateway.starts import OnDemandStarts
from protocol.proxy import safe_path
from settings import DEFAULT
from store import ModelDeck, ModelState
from store.activity import Activity, ActivityEntry

log = logging.getLogger(__name__)

QUEUE_LIMIT = DEFAULT.queue_limit
BODY_MAX = 32 * 1024 * 1024  # a long conversation is far smaller; anything larger is refused before it is read
CRASH_REASON_WAIT_S = 2.0  # how long a broken answer waits for the runner to say why the server died
NAME_SHOWN = 64
LOADING_EVERY_S = 2.0  # a stream waiting on a cold start hears ": loading" this often
GATEWAY_PREFIXES = ("/v1/", UPSTREAM_PREFIX)
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


class ClientGone(Exception):
    """The client disconnected before its request was whole."""


@dataclass
class Call:
    """One request as it goes through the gateway, for its answer and its line in the activity log."""

    began: float
    at: datetime
    reply: Reply
    caller: Caller | None = None
    asked_for: str = ""
    state: ModelState | None = None
    watcher: asyncio.Task[bool] | None = None  # cancels the request when the client disconnects

    def client_left(self) -> bool:
        """The request was cancelled because its client disconnected (not because the server stops)."""
        watcher = self.watcher
        return watcher is not None and watcher.done() and not watcher.cancelled() and watcher.result()


class Gateway:
    def __init__(self, deck: ModelDeck, keys: ApiKeys, activity: Activity, *, open_: bool, upstream: Upstream,
                 start_timeout_s: float, queue_limit: int = QUEUE_LIMIT, body_max: int = BODY_MAX,
                 loading_every_s: float = LOADING_EVERY_S) -> None:
        self.directory = ModelDirectory(deck)
        self.auth = KeyCheck(keys, open_=open_)
        self.starts = OnDemandStarts(deck)
        self.admission = Admission(self.starts, start_timeout_s, loading_every_s, queue_limit)
        self.proxy = Proxy(upstream)
        self.activity = activity
        self.body_max = body_max

    def claims(self, scope: Scope) -> bool:
        return bool(scope["path"].startswith(GATEWAY_PREFIXES))

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Gateway]:
        await self.proxy.open()
        try:
            yield self
        finally:
            await self.proxy.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = Call(perf_counter(), datetime.now(UTC), Reply(send))
        task = asyncio.current_task()
        assert task is not None
        try:
            client = scope.get("client")
            call.caller = self.auth.caller(scope["headers"], client[0] if client else "")
            if scope["path"] == MODELS_LIST:
                _only(scope["method"], "GET")
                await self._models(call.caller, call.reply)
            else:
                await self._forward(scope, receive, call, task)
        except GatewayError as exc:
            await call.reply.fail(exc)
            if exc.status == 429 and call.caller is None:
                return  # a flood of wrong keys is not recorded row by row
        except ClientGone:
            call.reply.gone("the client went away before its request was whole")
        except asyncio.CancelledError:
            if not call.client_left():
                raise  # not the client: the server is shutting down
            task.uncancel()
            call.reply.gone("the client went away")
        except Exception:
            log.exception("the gateway failed on %s", scope.get("path"))
            await call.reply.fail(GatewayError(500, "the gateway failed: ModelDeck's log says why", "internal_error"))
        finally:
            if call.watcher is not None:
                call.watcher.cancel()
        self._record(scope, call)

    async def _forward(self, scope: Scope, receive: Receive, call: Call, task: asyncio.Task[Any]) -> None:
        assert call.caller is not None
        call.asked_for, upstream_path, model_in_body = self._route(scope)
        body = await self._body(scope, receive)
        request = _json(body) if model_in_body else None
        if request is not None:
            call.asked_for = _model_named(request, call.asked_for)
        state = call.state = self.directory.find(call.asked_for)
        if state is None:
            raise GatewayError(404, f"no model is called {call.asked_for[:NAME_SHOWN]!r}; the models are: "
                                    f"{', '.join(self.directory.names()) or 'none yet'}", "model_not_found")
        call.caller.check(state)
        reply = call.reply
        call.watcher = asyncio.create_task(_watch(receive, task, reply))
        stream = request is not None and request.get("stream") is True
        async with self.admission.admitted(state, call.caller.actor, self._loading(reply) if stream else None):
            try:
                await self.proxy.forward(state, scope["method"], upstream_path, headers=scope["headers"], body=body,
                                         reply=reply, stream=stream)
            except UpstreamError as exc:
                raise await self._broken(state, exc) from exc

    @staticmethod
    def _route(scope: Scope) -> tuple[str, str, bool]:
        """(model asked for, path on the model's server, whether the body names the model)."""
        path: str = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        if path.startswith(UPSTREAM_PREFIX):
            named = split_upstream(path)
            if named is None:
                raise GatewayError(404, "name a model: /upstream/<model>/<path>", "model_not_found")
            model, rest = named
            if not safe_path(rest):
                raise GatewayError(400, "that path is not allowed (no '.', '..', '%' or empty segments)",
                                   "invalid_path")
            return model, f"/{rest}" + (f"?{query}" if query else ""), False
        if path not in MODEL_ROUTES:
            served = ", ".join(sorted(MODEL_ROUTES))
            raise GatewayError(404, f"the gateway has no route {path[:100]}: it serves {served}, {MODELS_LIST} and "
                                    f"{UPSTREAM_PREFIX}<model>/<path>", "unknown_route")
        _only(scope["method"], "POST")
        _require_json(scope["headers"])
        return _query_model(query), path + (f"?{query}" if query else ""), True

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.body_max:
                raise _too_large(self.body_max)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_max:
                raise _too_large(self.body_max)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    @staticmethod
    def _loading(reply: Reply) -> Tick:
        async def tick() -> None:
            """A stream waiting on a cold start hears `: loading` (an SSE comment), so no proxy times out."""
            if not reply.started:
                await reply.start(200, SSE_HEADERS)
            await reply.chunk(b": loading\n\n")

        return tick

    async def _broken(self, state: ModelState, exc: UpstreamError) -> GatewayError:
        """The server failed mid-request: wait a moment for the runner's word on why, then say it."""
        await self.starts.ended(state, CRASH_REASON_WAIT_S)
        reason = state.problem or str(exc)
        return GatewayError(502, f"{state.name} stopped answering: {reason}", "model_crashed")

    async def _models(self, caller: Caller, reply: Reply) -> None:
        """OpenAI's model list (what Open WebUI asks first), with each model's status; a key sees its own models."""
        listed = [{"id": state.name, "object": "model", "owned_by": "modeldeck",
                   "created": int((state.config.created_at or datetime.now(UTC)).timestamp()),
                   "status": state.status.value, "aliases": state.config.aliases, "in_flight": state.in_flight,
                   "waiting": state.waiting}
                  for state in self.directory.deck.in_order() if caller.may_use(state)]
        body = orjson.dumps({"object": "list", "data": listed})
        await reply.start(200, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])
        await reply.end(body)

    def _record(self, scope: Scope, call: Call) -> None:
        reply, began = call.reply, call.began
        usage = reply.usage
        ttft = (reply.first_chunk_at - began) * 1000 if reply.streaming and reply.first_chunk_at else None
        self.activity.record(ActivityEntry(
            at=call.at, key_name=call.caller.name if call.caller else "(no key)", model=call.asked_for[:NAME_SHOWN],
            uid=call.state.uid if call.state else None, route=str(scope.get("path", ""))[:128], status=reply.status,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens, ttft_ms=ttft, duration_ms=(perf_counter() - began) * 1000,
            tokens_per_second=usage.tokens_per_second, error=reply.error))


class Door(Protocol):
    """An ASGI app that takes some requests ahead of NiceGUI (the gateway's paths, keyed management calls)."""

    def claims(self, scope: Scope) -> bool: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class FrontDoor:
    """The outermost ASGI app: a request a door claims goes straight to it, so NiceGUI's session and sign-in
    middlewares never see it (a cookie opens nothing there, and a request costs no session lookup)."""

    def __init__(self, doors: tuple[Door, ...], app: ASGIApp) -> None:
        self.doors = doors
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for door in self.doors:
                if door.claims(scope):
                    await door(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def serve_first(app: Any, *doors: Door) -> None:
    """Put the doors in front of the app's whole middleware stack (built at the first request, after NiceGUI
    has added its own). Calling it again replaces the doors instead of stacking more."""
    app.build_middleware_stack = lambda: FrontDoor(doors, type(app).build_middleware_stack(app))


async def _watch(receive: Receive, request: asyncio.Task[Any], reply: Reply) -> bool:
    """Cancel the request the moment its client disconnects; True when it did (the answer was not finished:
    the server also says "disconnect" once an answer is complete)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    if reply.finished:
        return False
    request.cancel()
    return True


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise GatewayError(405, f"use {allowed} here", "method_not_allowed", headers=((b"allow", allowed.encode()),))


def _too_large(limit: int) -> GatewayError:
    return GatewayError(413, f"the request body is larger than {limit // (1024 * 1024)} MiB", "body_too_large")


def _json(body: bytes) -> dict[str, Any]:
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise GatewayError(400, f"the body is not valid JSON: {exc}", "invalid_json") from None
    if not isinstance(request, dict):
        raise GatewayError(400, "the body must be a JSON object", "invalid_json")
    return request


def _model_named(request: dict[str, Any], from_query: str) -> str:
    model = request.get("model", from_query or None)
    if model is None:
        raise GatewayError(400, 'name the model: "model": "<name or alias>"', "model_missing")
    if not isinstance(model, str) or not model:
        raise GatewayError(400, '"model" must be a model\'s name or alias (a non-empty string)', "invalid_model")
    return model


def _query_model(query: str) -> str:
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "model":
            return unquote_plus(value)
    return ""


def _require_json(headers: list[tuple[bytes, bytes]]) -> None:
    """Only JSON: a web page can send text/plain to a loopback port without asking (no CORS preflight), so a
    JSON content type is what tells an app's request from a page's forged one."""
    for name, value in headers:
        if name == b"content-type" and value.split(b";")[0].strip().lower() == b"application/json":
            return
    raise GatewayError(415, 'send the body as JSON, with "Content-Type: application/json"', "unsupported_media_type")
