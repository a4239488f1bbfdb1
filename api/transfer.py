"""/api/export, /api/import and /api/backup: configurations out and in as files, and the whole database out.

An import's body is the file itself, sent as it is (`curl --data-binary @config.yaml`): ModelDeck's own export
(JSON), a llama-swap config.yaml or a llama-server models preset (INI), told apart by the content type or the
content. `?dry_run=true` answers the preview without changing anything; otherwise what the preview says is
done in one transaction. `?on_conflict=` says what to do with names that exist: skip (the default), replace,
or copy (import as "X copy").
"""

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.callers import Caller, Callers
from api.errors import ApiError
from api.schemas import ImportAnswer
from exchange import FILE_MAX
from store import ModelDeck
from store.backup import database_snapshot
from store.exporting import export_json
from store.importing import OnConflict, plan_summary, read_file

IMPORT_BODY = {"requestBody": {"required": True, "description": "the file: JSON, YAML or INI", "content": {
    kind: {"schema": {"type": "string"}} for kind in ("application/json", "application/yaml", "text/plain")}}}


async def _body(request: Request) -> bytes:
    """The request's body, refused (413) past FILE_MAX before it is all read."""
    too_large = ApiError(413, f"the file is larger than {FILE_MAX // 1024 // 1024} MiB: at most that can be imported")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > FILE_MAX:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > FILE_MAX:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def transfer_routes(deck: ModelDeck, callers: Callers, db_path: Path) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["files"])
    Who = Annotated[Caller, Depends(callers)]

    @router.get("/export", summary="ModelDeck's JSON document of every configuration, or of those named by ?uid=",
                response_class=Response, responses={200: {"content": {"application/json": {}}}})
    def export(caller: Who, uid: Annotated[list[str] | None, Query()] = None) -> Response:
        if uid:
            unknown = [one for one in uid if one not in deck.models or not caller.may_see(one)]
            if unknown:
                raise ApiError(404, f"no model has the uid {unknown[0][:40]}")
            chosen = set(uid)
            states = [state for state in deck.in_order() if state.uid in chosen]
        else:
            states = [state for state in deck.in_order() if caller.may_see(state.uid)]
        name, document = export_json(states)
        return Response(document, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/import", response_model=ImportAnswer, openapi_extra=IMPORT_BODY,
                 summary="Import a file of configurations (a preview with dry_run=true); all or nothing")
    async def import_file(caller: Who, request: Request, dry_run: bool = False,
                          on_conflict: OnConflict = OnConflict.SKIP) -> Any:
        caller.must_change("import models")
        caller.must_have_whole_deck("import models")
        file = read_file(await _body(request), request.headers.get("content-type"), deck.flags)
        plan = await deck.import_file(file, on_conflict, actor=caller.actor, apply=not dry_run)
        summary = plan_summary(plan)
        if not dry_run and not plan.applied and plan.counts()["refused"]:
            raise ApiError(422, "nothing was imported: every model in the file was refused (the reasons are listed)",
                           extra=summary)
        return summary

    @router.get("/backup", summary="A consistent snapshot of the whole SQLite database (admins)",
                response_class=FileResponse, responses={200: {"content": {"application/vnd.sqlite3": {}}}})
    async def backup(caller: Who) -> FileResponse:
        caller.must_change("download the database")
        caller.must_have_whole_deck("download the database")
        folder = Path(tempfile.mkdtemp(prefix="modeldeck-backup-"))
        target = folder / f"modeldeck-{datetime.now(UTC):%Y%m%d-%H%M%S}.sqlite3"
        try:
            await database_snapshot(db_path, target, actor=caller.actor)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(target, media_type="application/vnd.sqlite3", filename=target.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    return router
