"""Every error of the management API is JSON with a message for a person: `{"detail": "..."}`, and for invalid
values `{"detail": "...", "fields": {"ctx_size": "..."}}` with each field's problem."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from store.errors import Conflict, Invalid, NotAllowed, NotFound, NotReady, NotSaved, StoreError

log = logging.getLogger(__name__)

# The store's refusals, by kind; any other StoreError is the state of things standing in the way (409).
STATUS_OF: tuple[tuple[type[StoreError], int], ...] = (
    (NotFound, 404), (NotAllowed, 403), (Invalid, 422), (Conflict, 409), (NotSaved, 503), (NotReady, 503))
RETRY_AFTER_S = 2


class ApiError(Exception):
    def __init__(self, status: int, detail: str, *, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.fields = fields
        self.headers = headers
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.detail, **self.extra}
        if self.fields is not None:
            body["fields"] = self.fields
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def store_refusal(exc: StoreError) -> ApiError:
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 409)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, NotReady) else None
    return ApiError(status, str(exc), fields=exc.fields if isinstance(exc, Invalid) else None, headers=headers)


def _field_of(location: tuple[Any, ...]) -> str:
    """('body', 'ctx_size') -> 'ctx_size'; ('query', 'anyway') -> 'anyway'."""
    parts = [str(part) for part in location if part not in {"body", "query", "path"}]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def store_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreError)
        return store_refusal(exc).response()

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields: dict[str, str] = {}
        for error in exc.errors():
            fields.setdefault(_field_of(tuple(error.get("loc", ()))), str(error.get("msg", "invalid")))
        return ApiError(422, "the request is not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
                        fields=fields).response()

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = {404: "no such route: the routes are listed at /api/docs",
                  405: "this route does not take that method: see /api/docs"}.get(exc.status_code, str(exc.detail))
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    async def failure(_: Request, exc: Exception) -> JSONResponse:
        log.exception("the management API failed", exc_info=exc)
        return JSONResponse({"detail": "the management API failed: ModelDeck's log says why"}, status_code=500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, failure)
