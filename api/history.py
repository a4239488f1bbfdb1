"""/api/models/{uid}/history and its restore, and /api/models/bulk: actions on many models at once, a result for
each (one refused stops no other)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api.callers import Caller, Callers
from api.models import visible
from api.schemas import BulkAnswer, BulkRequest, BulkResultView, ModelView, VersionView
from store import ModelDeck


def history_and_bulk_routes(deck: ModelDeck, callers: Callers) -> APIRouter:
    router = APIRouter(prefix="/api/models", tags=["history and bulk actions"])
    Who = Annotated[Caller, Depends(callers)]

    @router.get("/{uid}/history", response_model=list[VersionView],
                summary="Every version of the configuration, newest first, with what changed")
    async def history(caller: Who, uid: str) -> list[VersionView]:
        return [VersionView.of(version) for version in await deck.history(visible(deck, caller, uid).uid)]

    @router.post("/{uid}/history/{number}/restore", response_model=ModelView,
                 summary="Give the configuration a version's settings, as a new version; 409 while it runs if "
                         "that changes how it starts, unless restart=true")
    async def restore(caller: Who, uid: str, number: int, restart: bool = False) -> ModelView:
        caller.must_change("restore versions")
        state = await deck.restore(visible(deck, caller, uid).uid, number, actor=caller.actor, restart=restart)
        return ModelView.of(state)

    @router.post("/bulk", response_model=BulkAnswer,
                 summary="Start, stop or delete many models: a result for each (one refused stops no other)")
    async def bulk(caller: Who, request: BulkRequest) -> BulkAnswer:
        caller.must_change(f"{request.action} models")
        visible = [uid for uid in request.uids if caller.may_see(uid)]
        if request.action == "start":
            results = await deck.start_many(visible, actor=caller.actor, anyway=request.anyway)
        elif request.action == "stop":
            results = await deck.stop_many(visible, actor=caller.actor)
        else:
            results = await deck.delete_many(visible, actor=caller.actor)
        hidden = [BulkResultView(uid=uid, name=uid, done=False, message="no model has that uid")
                  for uid in dict.fromkeys(request.uids) if not caller.may_see(uid)]
        return BulkAnswer(results=[*map(BulkResultView.of, results), *hidden])

    return router
