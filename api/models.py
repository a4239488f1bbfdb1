"""/api/models: list, read, create, update, delete, duplicate, start, stop and restart configurations, their
history and its restore, and actions on many at once. Every change is the deck's own action, the one the
pages call: the same checks, the same audit lines, and every open browser shows it at once."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response
from pydantic import TypeAdapter, ValidationError

from api.callers import Caller, Callers
from api.errors import ApiError
from api.schemas import ModelView, StatusView
from protocol import ModelConfig
from store import ModelDeck, ModelState
from store.errors import Invalid
from store.form_validation import validate_config

# What a GET answers besides the configuration: a PUT of it back leaves these out.
READ_ONLY = frozenset({"status", "problem", "blocked", "pid", "listening_port", "created_at", "updated_at"})
CONFIG_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/ModelView"}}}}}
_WHEN = TypeAdapter(datetime)


def checked(deck: ModelDeck, values: dict[str, Any], uid: str | None = None) -> ModelConfig:
    """The configuration of model `uid` (None: a new one), checked as the form checks it (Invalid, naming each
    field's problem, if it is not)."""
    config, errors = validate_config(values, allowed_dirs=deck.catalog.allowed_dirs, name_taken=False,
                                     flags=deck.flags, port_problem=lambda port: deck.port_problem(port, uid))
    if config is None:
        raise Invalid("the configuration is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                      errors)
    return config


def _settings_in(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in READ_ONLY}


def _version_read(body: dict[str, Any]) -> datetime:
    if "updated_at" not in body:
        raise Invalid("send the updated_at you read", {"updated_at": (
            "send the updated_at you read (GET gives it): it keeps you from overwriting a change made since")})
    try:
        return _WHEN.validate_python(body["updated_at"])
    except ValidationError:
        raise Invalid("updated_at is not a time", {"updated_at": "not a time as GET gives it"}) from None


def visible(deck: ModelDeck, caller: Caller, uid: str) -> ModelState:
    """The model with this uid, if this caller may see it (404 otherwise: a limited key learns of no others)."""
    state = deck.models.get(uid)
    if state is None or not caller.may_see(uid):
        raise ApiError(404, "no model has that uid")
    return state


def model_routes(deck: ModelDeck, callers: Callers) -> APIRouter:
    router = APIRouter(prefix="/api/models", tags=["models"])
    Who = Annotated[Caller, Depends(callers)]

    def seen(caller: Caller, uid: str) -> ModelState:
        return visible(deck, caller, uid)

    @router.get("", response_model=list[ModelView], summary="Every configuration, with its live status")
    def list_models(caller: Who) -> list[ModelView]:
        return [ModelView.of(state) for state in deck.in_order() if caller.may_see(state.uid)]

    @router.post("", status_code=201, response_model=ModelView, openapi_extra=CONFIG_BODY,
                 summary="Add a configuration (name and model_path at least; a new uid is chosen)")
    async def create_model(caller: Who, response: Response,
                           body: Annotated[dict[str, Any], Body()]) -> ModelView:
        caller.must_change("add models")
        caller.must_have_whole_deck("add models")
        if "uid" in body:
            raise Invalid("ModelDeck chooses a new model's uid", {"uid": "leave it out: ModelDeck chooses one"})
        config = await deck.with_family(checked(deck, _settings_in(body)))
        state = await deck.save(config, actor=caller.actor)
        response.headers["Location"] = f"/api/models/{state.uid}"
        return ModelView.of(state)

    @router.get("/{uid}", response_model=ModelView, summary="One configuration, with its live status")
    def get_model(caller: Who, uid: str) -> ModelView:
        return ModelView.of(seen(caller, uid))

    @router.put("/{uid}", response_model=ModelView, openapi_extra=CONFIG_BODY,
                summary="Change a configuration: the fields sent replace those it has; send the updated_at you "
                        "read (409 if it has changed since)")
    async def update_model(caller: Who, uid: str, body: Annotated[dict[str, Any], Body()]) -> ModelView:
        caller.must_change("edit models")
        state = seen(caller, uid)
        expected = _version_read(body)
        if body.get("uid", uid) != uid:
            raise Invalid("the uid cannot change", {"uid": "the uid cannot change (it is the model's identity)"})
        values = {**state.config.settings(), **_settings_in(body), "uid": uid,
                  "created_at": state.config.created_at}
        config = await deck.with_family(checked(deck, values, uid))
        return ModelView.of(await deck.save(config, actor=caller.actor, expected=expected))

    @router.delete("/{uid}", status_code=204,
                   summary="Delete a configuration (409 while its model runs, unless stop=true: then it is stopped "
                           "first)")
    async def delete_model(caller: Who, uid: str, stop: bool = False) -> Response:
        caller.must_change("delete models")
        await deck.delete(seen(caller, uid).uid, actor=caller.actor, stop=stop)
        return Response(status_code=204)

    async def command(caller: Caller, uid: str, what: str, action: Callable[[str], Awaitable[None]]) -> StatusView:
        caller.must_change(what)
        state = seen(caller, uid)
        await action(uid)
        return StatusView.of(state)

    @router.post("/{uid}/start", status_code=202, response_model=StatusView,
                 summary="Start the model; 409 if it may not fit in the memory free now, unless anyway=true")
    async def start_model(caller: Who, uid: str, anyway: bool = False) -> StatusView:
        return await command(caller, uid, "start models",
                             lambda one: deck.start(one, actor=caller.actor, anyway=anyway))

    @router.post("/{uid}/stop", status_code=202, response_model=StatusView, summary="Stop the model")
    async def stop_model(caller: Who, uid: str) -> StatusView:
        return await command(caller, uid, "stop models", lambda one: deck.stop(one, actor=caller.actor))

    @router.post("/{uid}/restart", status_code=202, response_model=StatusView,
                 summary="Stop the model if it runs, then start it with its configuration as it is now")
    async def restart_model(caller: Who, uid: str) -> StatusView:
        return await command(caller, uid, "restart models", lambda one: deck.restart(one, actor=caller.actor))

    @router.post("/{uid}/duplicate", status_code=201, response_model=ModelView,
                 summary='A stopped copy named "X copy", with an automatic port and no aliases')
    async def duplicate_model(caller: Who, uid: str, response: Response) -> ModelView:
        caller.must_change("add models")
        caller.must_have_whole_deck("add models")
        copy = await deck.duplicate(seen(caller, uid).uid, actor=caller.actor)
        response.headers["Location"] = f"/api/models/{copy.uid}"
        return ModelView.of(copy)

    return router
