"""Staff sign-in and sign-out (`/signin`, `/signout`); see `api.pages.session`.

Until tokens with scopes arrive, the staff token is the operator token. The name given
at sign-in is the actor recorded with every action taken on the pages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import RuntimeDep
from api.pages import session
from api.pages.forms import forbidden, layout, read_form, redirect, render
from api.runtime import Runtime

router = APIRouter(include_in_schema=False)
WRONG_TOKEN = "That is not the staff token; you are not signed in."
NO_TOKEN = "Staff sign-in is off on this server: FACSTAT_OPERATOR_TOKEN is not set."
BAD_NAME = "Enter your name (1 to 64 characters): it is recorded with every action you take."


@router.get("/signin")
def signin_form(
    request: Request, rt: RuntimeDep, next: str = "", signed_out: bool = False
) -> Response:
    target = session.safe_next(next)
    if session.read(rt, request) is not None:
        return redirect(target)
    notice = "You are signed out." if signed_out else None
    return _form(request, rt, target, notice=notice)


@router.post("/signin")
async def signin(request: Request, rt: RuntimeDep) -> Response:
    form = await read_form(request)
    target, name = session.safe_next(form.get("next")), form.get("name", "")
    if rt.settings.operator_token is None:
        return _form(request, rt, target, name, NO_TOKEN, 503)
    if not session.token_ok(rt, form.get("token", "")):
        return _form(request, rt, target, name, WRONG_TOKEN, 401)
    actor = session.clean_actor(name)
    if actor is None:
        return _form(request, rt, target, name, BAD_NAME, 422)
    _, cookie = session.issue(rt, actor)
    response = redirect(target)
    session.set_cookie(response, rt, cookie)
    return response


@router.post("/signout")
async def signout(request: Request, rt: RuntimeDep) -> Response:
    who = session.read(rt, request)
    if who is None:
        return redirect("/signin")
    if not session.csrf_ok(rt, who, request, await read_form(request)):
        return forbidden(request, rt)
    response = redirect("/signin?signed_out=true")
    session.clear_cookie(response, rt)
    return response


def _form(
    request: Request,
    rt: Runtime,
    target: str,
    name: str = "",
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    context = layout(rt, next=target, name=name, error=error, notice=notice)
    response = render(request, "signin.html", context, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'FormBased realm="facstat staff"'
    return response
