"""The runner's HTTP and WebSocket face (protocol version in protocol.messages; see docs/protocol.md).

  POST /v1/start    StartCommand  -> CommandReply    GET /v1/snapshot         -> SnapshotEvent
  POST /v1/stop     ModelCommand  -> CommandReply    GET /v1/logs/{uid}?limit -> LogsReply
  POST /v1/restart  ModelCommand  -> CommandReply    GET /v1/events           -> WebSocket feed
  POST /v1/forget   ModelCommand  -> CommandReply    GET /v1/server/build-log?limit -> BuildLogReply
  POST /v1/policy   PolicyCommand -> CommandReply    GET /v1/flags            -> FlagCatalog
  ANY  /v1/models/{uid}/proxy/{path} -> the model's own server (behind the token, like every route)

Every route needs the token (Authorization: Bearer T; the WebSocket may use ?token=T because
browsers cannot set headers on one). Replies: 200 accepted, 409 refused, 400 malformed, 401 token,
408 a body that did not arrive in time. A refused token also closes the connection; slow and silent
connections are dropped (runner/connections.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ValidationError

from protocol.messages import (
    MAX_FRAME_BYTES,
    BuildLogReply,
    CommandReply,
    LogsReply,
    ModelCommand,
    PolicyCommand,
    StartCommand,
)
from runner.binary import BinaryNotFound
from runner.connections import ConnectionGuard
from runner.events import Subscription
from runner.flag_catalog import CatalogError
from runner.model_proxy import add_proxy_route
from runner.supervisor import Supervisor

log = logging.getLogger(__name__)

SUPERVISOR = web.AppKey("supervisor", Supervisor)
TOKEN = web.AppKey("token", str)
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
GUARD = web.AppKey("guard", ConnectionGuard)
MAX_LOG_LIMIT = 2000
SEND_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 5.0  # a command is a few kB: one still arriving after this is a client to drop

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _token_ok(request: web.Request) -> bool:
    expected = request.app[TOKEN].encode()
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    if not given and request.path == "/v1/events":
        given = request.query.get("token", "")
    return hmac.compare_digest(given.encode(), expected)


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _token_ok(request):
        refused = web.json_response(CommandReply(accepted=False, reason="missing or wrong token").model_dump(),
                                    status=401, headers={"WWW-Authenticate": "Bearer"})
        refused.force_close()  # a stranger's connection is not kept open for its next try
        return refused
    request.app[GUARD].trust(request.protocol)
    return await handler(request)


def _reply(accepted: bool, reason: str | None, status: int | None = None) -> web.Response:
    body = CommandReply(accepted=accepted, reason=reason).model_dump()
    return web.json_response(body, status=status or (200 if accepted else 409))


async def _parse(request: web.Request, model: type[M]) -> M | web.Response:
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            body = await request.read()
    except TimeoutError:
        too_slow = _reply(False, f"the request body did not arrive within {BODY_TIMEOUT_S:.0f} s", 408)
        too_slow.force_close()
        return too_slow
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        log.info("refused a malformed %s: %s", model.__name__, problems)
        return _reply(False, f"malformed {model.__name__}: {problems}", 400)


async def _command(request: web.Request, model: type[M], act: Callable[[Supervisor, M], tuple[bool, str | None]]
                   ) -> web.Response:
    """Parse the body, then answer at once with the supervisor's accepted / refused and its reason."""
    command = await _parse(request, model)
    if isinstance(command, web.Response):
        return command
    return _reply(*act(request.app[SUPERVISOR], command))


async def start(request: web.Request) -> web.Response:
    """Refused at once (409, the flag named) when an argument or variable is not allowed."""
    command = await _parse(request, StartCommand)
    if isinstance(command, web.Response):
        return command
    supervisor = request.app[SUPERVISOR]
    problem = supervisor.launch_problem(command.config)
    if problem is not None:
        log.info("refused to start %s: %s", command.config.name, problem)
        return _reply(False, problem)
    return _reply(*supervisor.start(command.config))


async def stop(request: web.Request) -> web.Response:
    return await _command(request, ModelCommand, lambda supervisor, command: supervisor.stop(command.uid))


async def restart(request: web.Request) -> web.Response:
    return await _command(request, ModelCommand, lambda supervisor, command: supervisor.restart(command.uid))


async def forget(request: web.Request) -> web.Response:
    return await _command(request, ModelCommand, lambda supervisor, command: supervisor.forget(command.uid))


async def policy(request: web.Request) -> web.Response:
    return await _command(request, PolicyCommand, lambda supervisor, command: supervisor.policy(command))


async def flags(request: web.Request) -> web.Response:
    """The llama-server's flags with ModelDeck's decision on each, and the allowed environment variables."""
    try:
        catalog = await request.app[SUPERVISOR].flags()
    except (BinaryNotFound, CatalogError) as exc:
        return _reply(False, str(exc), 503)
    return web.Response(text=catalog.model_dump_json(), content_type="application/json")


async def snapshot(request: web.Request) -> web.Response:
    return web.Response(text=request.app[SUPERVISOR].snapshot().model_dump_json(), content_type="application/json")


def _limit(request: web.Request) -> int | web.Response:
    try:
        return min(int(request.query.get("limit", "200")), MAX_LOG_LIMIT)
    except ValueError:
        return _reply(False, "limit must be an integer", 400)


async def logs(request: web.Request) -> web.Response:
    uid = request.match_info["uid"]
    server = request.app[SUPERVISOR].servers.get(uid)
    if server is None:
        return _reply(False, "no such model on this runner", 404)
    limit = _limit(request)
    if isinstance(limit, web.Response):
        return limit
    reply = LogsReply(uid=uid, lines=server.logs.tail(limit))
    return web.Response(text=reply.model_dump_json(), content_type="application/json")


async def build_log(request: web.Request) -> web.Response:
    """The last lines of the llama-server build in progress (or of the last one)."""
    limit = _limit(request)
    if isinstance(limit, web.Response):
        return limit
    lines = list(request.app[SUPERVISOR].binary.build_lines)
    reply = BuildLogReply(lines=lines[-limit:] if limit > 0 else [])
    return web.Response(text=reply.model_dump_json(), content_type="application/json")


async def events(request: web.Request) -> web.WebSocketResponse:
    """A snapshot first, then every event in order; a client that falls behind is disconnected."""
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=20.0)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    supervisor = request.app[SUPERVISOR]
    sender: asyncio.Task[None] | None = None

    def overflowed() -> None:
        if sender is not None:
            sender.cancel()  # it may be stuck writing to a stalled socket

    # Snapshot and subscription in one step (no await between): no event can fall in between.
    sub = supervisor.hub.subscribe(supervisor.snapshot().model_dump_json(), on_overflow=overflowed)
    sender = asyncio.create_task(_send_loop(ws, sub))
    reader = asyncio.create_task(_read_loop(ws))
    try:
        await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        request.app[SOCKETS].discard(ws)
        supervisor.hub.unsubscribe(sub)
        for task in (sender, reader):
            task.cancel()
        await asyncio.gather(sender, reader, return_exceptions=True)
        if sub.overflowed:
            await _close(ws, WSCloseCode.TRY_AGAIN_LATER, b"too slow: reconnect for a fresh snapshot")
        else:
            await _close(ws, WSCloseCode.GOING_AWAY, b"")
    return ws


async def _send_loop(ws: web.WebSocketResponse, sub: Subscription) -> None:
    while (frame := await sub.next()) is not None:
        async with asyncio.timeout(SEND_TIMEOUT_S):  # not wait_for: on 3.11 it can swallow our cancel (gh-86296)
            await ws.send_str(frame)


async def _read_loop(ws: web.WebSocketResponse) -> None:
    """Clients send nothing but pings and close frames; reading is what notices them."""
    async for msg in ws:
        if msg.type is WSMsgType.ERROR:
            return


async def _close(ws: web.WebSocketResponse, code: int, message: bytes) -> None:
    if ws.closed:
        return
    try:
        await asyncio.wait_for(ws.close(code=code, message=message), 1.0)
    except (TimeoutError, ConnectionError, RuntimeError):
        pass


async def _close_sockets(app: web.Application) -> None:
    """On shutdown, end the feeds (clients reconnect elsewhere) instead of waiting for them."""
    sockets = app[SOCKETS]
    await asyncio.gather(*(_close(ws, WSCloseCode.GOING_AWAY, b"runner shutting down") for ws in list(sockets)))


def create_app(supervisor: Supervisor, token: str) -> web.Application:
    """The aiohttp application; the caller opens and closes the supervisor."""
    if not token:
        raise ValueError("the runner needs a token")
    app = web.Application(middlewares=[require_token], client_max_size=MAX_FRAME_BYTES)
    app[SUPERVISOR] = supervisor
    app[TOKEN] = token
    sockets: set[web.WebSocketResponse] = set()
    app[SOCKETS] = sockets
    app[GUARD] = ConnectionGuard()
    app.on_shutdown.append(_close_sockets)
    app.router.add_post("/v1/start", start)
    app.router.add_post("/v1/stop", stop)
    app.router.add_post("/v1/restart", restart)
    app.router.add_post("/v1/forget", forget)
    app.router.add_post("/v1/policy", policy)
    app.router.add_get("/v1/flags", flags)
    app.router.add_get("/v1/snapshot", snapshot)
    app.router.add_get("/v1/logs/{uid}", logs)
    app.router.add_get("/v1/server/build-log", build_log)
    app.router.add_get("/v1/events", events)
    add_proxy_route(app, supervisor)
    return app
