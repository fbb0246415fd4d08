"""What the staff pages share: the posted form (urlencoded, parsed with the standard
library), whether htmx sent it, where to send a visitor who is not signed in, the
layout's context, and the error page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.runtime import Runtime
from api.web import page

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 20
NO_STORE = {"Cache-Control": "no-store"}


class FormError(ValueError):
    """A posted field is missing or invalid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


async def read_form(request: Request) -> dict[str, str]:
    """The first value of each field of an urlencoded body; {} for any other body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM_TYPE:
        return {}
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def to_signin(request: Request, next_path: str) -> Response:
    """303 to the sign-in form (htmx: `HX-Redirect`, so a fragment never becomes a page)."""
    url = "/signin?" + urlencode({"next": next_path})
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": url, **NO_STORE})
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


def layout(rt: Runtime, **extra: Any) -> dict[str, Any]:
    """What base.html needs, plus `extra`."""
    return {"facility_name": rt.config.facility.name, "now": rt.clock(), "nav": "oncall", **extra}


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A staff page or fragment: never cached (it shows internal details)."""
    response = page(request, name, context, status)
    response.headers.update(NO_STORE)
    return response


def error_page(request: Request, rt: Runtime, status: int, title: str, message: str) -> Response:
    context = layout(rt, title=title, message=message)
    return render(request, "oncall_error.html", context, status)


def forbidden(request: Request, rt: Runtime) -> Response:
    """A POST without this session's CSRF token: 403, nothing done. htmx reloads the page
    (a stale page, e.g. after signing in again elsewhere, gets a fresh token)."""
    message = (
        "This form did not carry a valid security token for your session, so nothing "
        "was changed. Reload the page and try again."
    )
    response = error_page(request, rt, 403, "Request refused", message)
    if is_htmx(request):
        response.headers["HX-Refresh"] = "true"
    return response
