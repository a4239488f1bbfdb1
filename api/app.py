"""The management API's ASGI app, and the two ways requests reach it (api/callers.py says why two).

`ManagementApi` is a door of the front door (gateway.serve_first): it claims /api requests that carry an
`Authorization` header, ahead of NiceGUI's middleware. `SessionApi` is a middleware inside NiceGUI's session
middleware (and outside the sign-in gate, since the API answers for itself with JSON): it takes the /api
requests without one, with the browser's session readable.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api.callers import Callers
from api.errors import install_error_handlers
from api.history import history_and_bulk_routes
from api.models import model_routes
from api.reference import reference_routes
from api.transfer import transfer_routes
from auth.gate import Gate
from store import ModelDeck

PREFIX = "/api"
TITLE = "ModelDeck management API"


def is_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class ManagementApi:
    def __init__(self, deck: ModelDeck, gate: Gate, db_path: Path) -> None:
        self.callers = Callers(gate)
        app = FastAPI(title=TITLE, version="1", docs_url=None, redoc_url=None, openapi_url=None)
        install_error_handlers(app)
        app.include_router(history_and_bulk_routes(deck, self.callers))  # /bulk before /{uid}
        app.include_router(model_routes(deck, self.callers))
        app.include_router(transfer_routes(deck, self.callers, db_path))
        app.include_router(reference_routes(self.callers, app.openapi))
        self.app = app

    def claims(self, scope: Scope) -> bool:
        """Keyed requests: straight from the front door, never near a session or a page."""
        return is_api(scope["path"]) and any(name == b"authorization" for name, _ in scope["headers"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class SessionApi:
    """/api requests without a key, inside NiceGUI's session middleware: the browser's session says who."""

    def __init__(self, app: ASGIApp, api: ManagementApi) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_api(scope["path"]):
            await self.api(scope, receive, send)
        else:
            await self.app(scope, receive, send)
