"""/api/docs and /api/openapi.json, behind the same sign-in or key as every other route.

The page is rendered here from the OpenAPI document, as plain HTML: FastAPI's Swagger UI loads its scripts
from a CDN, which a LAN without internet cannot reach, and which would run someone else's code on a page of
ModelDeck's origin.
"""

from collections.abc import Callable
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse

from api.callers import Caller, Callers

STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.4}"
         "code{background:#8882;padding:0 .2em;border-radius:.2em}h2{margin-top:2rem}"
         ".route{border-top:1px solid #8884;padding:.5rem 0}.method{font-weight:bold;min-width:4.5rem;"
         "display:inline-block}@media (prefers-color-scheme: dark){body{background:#121212;color:#ddd}}")
INTRODUCTION = (
    "<p>Authenticate with <code>Authorization: Bearer &lt;key&gt;</code> (an API key from the Keys page; the "
    "<code>manage</code> scope may change things, an <code>inference</code> key may only read) or from a "
    "signed-in browser. Errors are JSON: <code>{\"detail\": \"...\"}</code>, and for invalid values "
    "<code>\"fields\": {\"ctx_size\": \"...\"}</code> with each field's problem. A PUT sends the "
    "<code>updated_at</code> it read; a configuration changed since gets 409.</p>"
    "<p>The machine-readable description: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>")


def _parameters(operation: dict[str, Any]) -> str:
    listed = [f"<code>{escape(p['name'])}</code> ({escape(p.get('in', ''))})" for p in operation.get("parameters", [])]
    return f"<div>Parameters: {', '.join(listed)}</div>" if listed else ""


def render(schema: dict[str, Any]) -> str:
    routes = []
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            routes.append(f"<div class=route><span class=method>{escape(method.upper())}</span> "
                          f"<code>{escape(path)}</code><div>{escape(operation.get('summary', ''))}</div>"
                          f"{_parameters(operation)}</div>")
    title = escape(schema.get("info", {}).get("title", "API"))
    return (f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>{title}</title><style>{STYLE}</style><h1>{title}</h1>{INTRODUCTION}"
            f"<h2>Routes</h2>{''.join(routes)}</html>")


def reference_routes(callers: Callers, openapi: Callable[[], dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/api", include_in_schema=False)
    Who = Annotated[Caller, Depends(callers)]

    @router.get("/openapi.json")
    def openapi_document(_: Who) -> JSONResponse:
        return JSONResponse(openapi())

    @router.get("/docs")
    def docs_page(_: Who) -> HTMLResponse:
        return HTMLResponse(render(openapi()))

    return router
