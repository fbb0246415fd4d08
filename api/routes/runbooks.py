"""Runbooks: the shipped checklists on-call staff follow (`/api/v1/runbooks`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.caching import conditional_body
from api.deps import RuntimeDep
from api.ops_schemas import RunbookOut, RunbookPage
from api.views import dumps
from facility.errors import NotFoundError
from runbooks.model import Runbook

router = APIRouter(prefix="/api/v1", tags=["runbooks"])


def runbook_out(b: Runbook, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id,
        "title": b.title,
        "severity": b.severity,
        "summary": b.summary,
        "applies_to": {
            "resource_types": list(b.applies_to.resource_types),
            "resources": list(b.applies_to.resources),
            "reason_codes": list(b.applies_to.reason_codes),
            "alerts": list(b.applies_to.alerts),
            "collector_kinds": list(b.applies_to.collector_kinds),
        },
        "steps": [{"id": s.id, "number": s.number, "text": s.text} for s in b.steps],
    }
    if full:
        out["body_markdown"] = b.body_markdown
    return out


@router.get("/runbooks", response_model=RunbookPage, summary="Every runbook")
def list_runbooks(request: Request, rt: RuntimeDep) -> Response:
    items = [runbook_out(b, False) for _, b in sorted(rt.runbook_library.items())]
    return conditional_body(request, dumps({"items": items}), None)


@router.get("/runbooks/{runbook_id}", response_model=RunbookOut, summary="One runbook")
def get_runbook(runbook_id: str, request: Request, rt: RuntimeDep) -> Response:
    book = rt.runbook_library.get(runbook_id)
    if book is None:
        raise NotFoundError("runbook", runbook_id)
    return conditional_body(request, dumps(runbook_out(book, True)), None)
