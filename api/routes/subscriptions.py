"""Subscriptions to status changes of chosen resources: a webhook (JSON, signed with
the subscription's secret, shown once) or an e-mail address. Deliveries are listed;
the failed ones are the dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import IdPath, InternalAuth, RuntimeDep
from api.problems import ProblemException
from api.schemas import ID_MAX
from api.views import json_response, ts
from facility.errors import NotFoundError, UnknownResourceError
from slas.notify_http import check_http_url
from slas.subscriptions import DeliveryRow, Subscription

router = APIRouter(prefix="/api/v1", tags=["subscriptions"], dependencies=[InternalAuth])


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, Field(pattern="^(webhook|email)$")]
    target: str = Field(min_length=3, max_length=512, description="a URL, or an e-mail address")
    resources: list[str] = Field(default_factory=list, max_length=1000, description="none: all")
    actor: str = Field("operator", min_length=1, max_length=128)


def _out(s: Subscription, secret: bool = False) -> dict[str, Any]:
    out = {"id": s.id, "kind": s.kind, "target": s.target, "resources": s.resources,
           "created_at": ts(s.created_at), "created_by": s.created_by}  # fmt: skip
    return out | {"secret": s.secret} if secret else out


def _delivery(d: DeliveryRow) -> dict[str, Any]:
    return {"id": d.id, "subscription_id": d.subscription_id, "change": d.event_uuid,
            "at": ts(d.at), "ok": d.ok, "attempts": d.attempts, "detail": d.detail}  # fmt: skip


@router.post("/subscriptions", status_code=201, summary="Subscribe to status changes")
async def create_subscription(body: SubscriptionIn, rt: RuntimeDep) -> Response:
    """A webhook subscription's `secret` is in this answer only: it signs every delivery
    (`X-Facstat-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`)."""
    for rid in body.resources:
        if rid not in rt.config.resources_by_id():
            raise UnknownResourceError(rid)
    if body.kind == "webhook":
        check_http_url(body.target, "target")
    elif "@" not in body.target:
        raise ProblemException(
            422,
            "not an e-mail address",
            [{"field": "body.target", "message": "not an e-mail address"}],
        )
    store = rt.subscriptions.store
    s = await run_in_threadpool(
        store.create, body.kind, body.target, body.resources, body.actor, rt.clock()
    )
    return json_response(_out(s, secret=True), 201)


@router.get("/subscriptions", summary="Every subscription (secrets never shown again)")
def list_subscriptions(rt: RuntimeDep) -> Response:
    items = [_out(s) for s in rt.subscriptions.store.all()]
    return json_response({"items": items})


@router.delete("/subscriptions/{sub_id}", status_code=204, summary="Unsubscribe")
def delete_subscription(sub_id: IdPath, rt: RuntimeDep) -> Response:
    if not rt.subscriptions.store.delete(sub_id):
        raise NotFoundError("subscription", str(sub_id))
    return Response(status_code=204)


@router.get("/subscriptions/deliveries", summary="Deliveries; failed=true: the dead letters")
def list_deliveries(
    rt: RuntimeDep,
    subscription: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    failed: Annotated[bool, Query(description="only failed deliveries")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    rows = rt.subscriptions.store.deliveries(subscription, failed, limit)
    return json_response({"items": [_delivery(d) for d in rows]})
