"""The gate at the door: every HTTP request and socket needs a signed-in session, except the sign-in pages.

A plain ASGI middleware (not BaseHTTPMiddleware) so that WebSocket upgrades pass through it too.
It sits inside NiceGUI's session and request-tracking middlewares, so app.storage.user is there.
NiceGUI's socket (/_nicegui_ws/) is let through only for a page client that this same browser
session loaded, and, unless that page is a public one, only while the session is still signed in.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, quote

from nicegui import Client, __version__
from nicegui.storage import request_contextvar
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.gate import Gate

PUBLIC_PAGES = frozenset({"/login", "/setup"})
PUBLIC_PREFIXES = (f"/_nicegui/{__version__}/",)  # NiceGUI's own scripts, styles and fonts
PUBLIC_PATHS = frozenset({"/favicon.ico",  # and ui.pwa's manifest and icons, fetched without the cookie
                          "/manifest.webmanifest", "/pwa/icon-192.png", "/pwa/icon-512.png",
                          "/login/renew", "/login/finish"})  # the sign-in's last hops (auth/renewal.py)
SOCKET_PREFIX = "/_nicegui_ws/"


def is_public(path: str) -> bool:
    return path in PUBLIC_PAGES or path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def safe_next(path: str) -> str:
    """Only a path on this site may follow a sign-in (never //host, a full URL, or signing out again)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or path.startswith("/logout"):
        return "/"
    return path


class SignInRequired:
    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or self.gate.open or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        allowed = self._socket_allowed(scope) if path.startswith(SOCKET_PREFIX) else self._signed_in()
        if allowed:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "sign in first"})
        elif scope["method"] == "GET" and path in set(Client.page_routes.values()) | {"/"}:
            query = scope.get("query_string", b"").decode("latin-1")
            target = safe_next(path + (f"?{query}" if query else ""))
            await _respond(send, 303, b"", [(b"location", f"/login?next={quote(target)}".encode())])
        else:
            await _respond(send, 401, json.dumps({"detail": "sign in first"}).encode(),
                           [(b"content-type", b"application/json")])

    def _signed_in(self) -> bool:
        return self.gate.session_actor() is not None

    def _socket_allowed(self, scope: Scope) -> bool:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        client = Client.instances.get((query.get("client_id") or [""])[0])
        session: dict[str, Any] = scope.get("session") or {}
        try:
            page_request = client.request if client is not None else None
        except RuntimeError:  # a client without a page request
            page_request = None
        if client is None or page_request is None or page_request.session.get("id") != session.get("id"):
            return False  # a client id taken from another browser is of no use
        if client.page.path in PUBLIC_PAGES:
            return True
        if scope["type"] == "websocket":  # NiceGUI tracks HTTP requests only; this session's page request will do
            request_contextvar.set(page_request)
        return self._signed_in()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

