"""The runner's door to its models' servers: a streaming pass-through behind the runner's token.

A dashboard whose runner is on another machine reaches a model through here
(`ANY /v1/models/{uid}/proxy/{path}`); the servers themselves listen on the runner's loopback and
answer only to their per-spawn key, which this route adds. Bodies stream through chunk by chunk; the
runner serves with handler cancellation on, so a client that goes away cancels the request to the
model at once and llama-server stops generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from yarl import URL

from protocol.proxy import FORWARDED_REQUEST_HEADERS, PROXY_ROUTE, safe_path
from protocol.status import ModelStatus
from runner.supervisor import Supervisor

SESSION = web.AppKey("proxy session", aiohttp.ClientSession)
UPSTREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5)


def _error(status: int, message: str, kind: str) -> web.Response:
    """OpenAI's error shape, so the gateway can hand it on as it is."""
    body = {"error": {"message": message, "type": kind, "code": status}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


async def _forward(request: web.Request, supervisor: Supervisor) -> web.StreamResponse:
    uid, path = request.match_info["uid"], request.match_info["path"]
    if not safe_path(path):
        return _error(400, "that path is not allowed", "invalid_request_error")
    server = supervisor.servers.get(uid)
    state = server.state if server is not None else None
    if state is None or state.status is not ModelStatus.RUNNING or state.port is None:
        return _error(503, "that model is not running on this runner", "model_not_running")
    url = URL.build(scheme="http", host="127.0.0.1", port=state.port, path=f"/{path}",
                    query_string=request.query_string)
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers["Authorization"] = f"Bearer {state.api_key}"
    if not request.keep_alive:  # the gateway asks for a stream's own connection: llama-server ends it afterwards
        headers["Connection"] = "close"
    body = await request.content.read()  # the gateway bounded its size already
    try:
        upstream = await request.app[SESSION].request(request.method, url, data=body, headers=headers,
                                                      timeout=UPSTREAM_TIMEOUT, allow_redirects=False)
    except aiohttp.ClientError as exc:
        return _error(502, f"the model's server did not answer ({exc.__class__.__name__})", "upstream_error")
    async with upstream:  # an error past this point cuts the answer off; the gateway says what happened
        response = web.StreamResponse(status=upstream.status)
        response.content_type = upstream.content_type
        if upstream.charset:
            response.charset = upstream.charset
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def _session_context(app: web.Application) -> AsyncIterator[None]:
    # Idle connections go before llama-server's own 5 s keep-alive ends them (a POST on one it closes would fail).
    app[SESSION] = aiohttp.ClientSession(auto_decompress=False, connector=aiohttp.TCPConnector(keepalive_timeout=4))
    yield
    await app[SESSION].close()


def add_proxy_route(app: web.Application, supervisor: Supervisor) -> None:
    async def forward(request: web.Request) -> web.StreamResponse:
        return await _forward(request, supervisor)

    app.cleanup_ctx.append(_session_context)
    app.router.add_route("*", PROXY_ROUTE.replace("{path}", "{path:.*}"), forward)
