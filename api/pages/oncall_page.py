"""The on-call pages, staff only (sign-in: `api.pages.signin_page`).

`/oncall`: who is on call per team and the open incidents by priority, each with its
priority's factors and points; `/oncall/board` is that content as a fragment, which
the page re-fetches every 10 s with htmx. `/oncall/incidents/{id}`: one incident,
its timeline (internal notes included), pages sent, runbook checklists and actions.

Every POST needs a session (else: to sign-in) and its CSRF token (else: 403, nothing
done), then calls the incident service. Without JavaScript the answer is a 303 back to
the incident (`?done=` picks a fixed notice); with htmx it is the `#incident`
fragment. A refused action (409 acknowledging twice, 404 an unknown step, 422 an
empty note) is a message on the page: the page with that status without JavaScript,
the fragment with 200 under htmx (htmx swaps 2xx answers only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import IdPath, RuntimeDep
from api.pages import oncall_views as views
from api.pages import session, signin_page
from api.pages.forms import (
    FormError,
    error_page,
    forbidden,
    is_htmx,
    layout,
    read_form,
    redirect,
    render,
    to_signin,
)
from api.pages.session import Session
from api.runtime import Runtime
from facility.errors import ConflictError, NotFoundError

router = APIRouter(include_in_schema=False)
router.include_router(signin_page.router)

NOTICES = {
    "acknowledge": "Acknowledged.",
    "mitigate": "Marked mitigated.",
    "resolve": "Resolved.",
    "note": "Note added.",
    "step": "Runbook step recorded.",
}
REFUSED = {ConflictError: 409, NotFoundError: 404, FormError: 422}
Act = Callable[[Session, dict[str, str]], str]  # does it; returns its NOTICES key


@router.get("/oncall")
def oncall(request: Request, rt: RuntimeDep) -> Response:
    return _board(request, rt, "oncall.html")


@router.get("/oncall/board")
def oncall_board(request: Request, rt: RuntimeDep) -> Response:
    return _board(request, rt, "oncall_board.html")


@router.get("/oncall/incidents/{incident_id}")
def incident_page(
    incident_id: IdPath, request: Request, rt: RuntimeDep, done: str = ""
) -> Response:
    who = session.read(rt, request)
    if who is None:
        return to_signin(request, f"/oncall/incidents/{incident_id}")
    return _incident(request, rt, who, incident_id, notice=NOTICES.get(done))


@router.post("/oncall/incidents/{incident_id}/status")
async def change_status(incident_id: IdPath, request: Request, rt: RuntimeDep) -> Response:
    def act(who: Session, form: dict[str, str]) -> str:
        action = form.get("action", "")
        if action not in ("acknowledge", "mitigate", "resolve"):
            raise FormError("action", "Choose acknowledge, mitigate or resolve.")
        getattr(rt.incidents, action)(incident_id, who.actor, _text(form, "note", 4000))
        return action

    return await _post(request, rt, incident_id, act)


@router.post("/oncall/incidents/{incident_id}/notes")
async def add_note(incident_id: IdPath, request: Request, rt: RuntimeDep) -> Response:
    def act(who: Session, form: dict[str, str]) -> str:
        text = _text(form, "text", 8000)
        if not text:
            raise FormError("text", "The note is empty: nothing was added.")
        rt.incidents.note(incident_id, who.actor, text, form.get("public") == "true")
        return "note"

    return await _post(request, rt, incident_id, act)


@router.post("/oncall/incidents/{incident_id}/runbooks/{runbook}/steps/{step}")
async def tick_step(
    incident_id: IdPath, runbook: str, step: str, request: Request, rt: RuntimeDep
) -> Response:
    def act(who: Session, form: dict[str, str]) -> str:
        steps = rt.runbook_steps(runbook)
        done = form.get("done", "true") != "false"
        rt.incidents.runbook_step(incident_id, runbook, step, who.actor, done, steps)
        return "step"

    return await _post(request, rt, incident_id, act)


def _board(request: Request, rt: Runtime, template: str) -> Response:
    who = session.read(rt, request)
    if who is None:
        return to_signin(request, "/oncall")
    return render(request, template, _context(rt, who, board=views.board(rt, rt.clock())))


async def _post(request: Request, rt: Runtime, incident_id: int, act: Act) -> Response:
    here = f"/oncall/incidents/{incident_id}"
    who = session.read(rt, request)
    if who is None:
        return to_signin(request, here)
    form = await read_form(request)
    if not session.csrf_ok(rt, who, request, form):
        return forbidden(request, rt)
    htmx = is_htmx(request)
    try:
        done = await run_in_threadpool(act, who, form)
    except (ConflictError, NotFoundError, FormError) as exc:
        status = 200 if htmx else next(c for t, c in REFUSED.items() if isinstance(exc, t))
        args = (request, rt, who, incident_id, None, str(exc), status, htmx)
        return await run_in_threadpool(_incident, *args)
    if not htmx:
        return redirect(f"{here}?done={done}")
    notice = NOTICES[done]
    return await run_in_threadpool(_incident, request, rt, who, incident_id, notice, fragment=True)


def _incident(
    request: Request,
    rt: Runtime,
    who: Session,
    incident_id: int,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    fragment: bool = False,
) -> Response:
    try:
        inc = rt.incidents.get(incident_id)
    except NotFoundError:
        return error_page(
            request, rt, 404, "No such incident", f"There is no incident {incident_id}."
        )
    context = _context(rt, who, inc=views.detail(rt, inc), notice=notice, error=error)
    return render(
        request, "_incident.html" if fragment else "oncall_incident.html", context, status
    )


def _context(rt: Runtime, who: Session, **extra: Any) -> dict[str, Any]:
    return layout(rt, staff=who.actor, csrf=session.csrf_token(rt, who), **extra)


def _text(form: dict[str, str], name: str, limit: int) -> str:
    text = form.get(name, "").strip()
    if len(text) > limit:
        raise FormError(name, f"The {name} is longer than {limit} characters: nothing was changed.")
    return text
