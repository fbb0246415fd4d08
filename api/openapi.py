"""The OpenAPI document, with error responses as they really are: RFC 9457 problems,
400 for bad query/path values and 422 for bad bodies (FastAPI documents 422 for all)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.schemas import ProblemOut

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemOut"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["ProblemOut"] = problem
    for path in doc.get("paths", {}).values():
        for method, op in path.items():
            _fix_errors(method, op.get("responses", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _fix_errors(method: str, responses: dict[str, Any]) -> None:
    if "422" in responses:
        default = responses.pop("422")
        has_body = method in ("post", "put", "patch")
        responses["422" if has_body else "400"] = {
            "description": default.get("description")
            if has_body
            else "Invalid query or path parameter",
            "content": PROBLEM_CONTENT,
        }
        if has_body:
            responses.setdefault(
                "400",
                {"description": "Invalid query or path parameter", "content": PROBLEM_CONTENT},
            )
    for code, resp in responses.items():
        if code[0] in "45" and "content" in resp:
            resp["content"] = {"application/problem+json": next(iter(resp["content"].values()))}


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI parameters for a query validated in the route itself (`deps.parse_query`)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    out = []
    for name, prop in schema["properties"].items():
        desc = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
        if desc:
            param["description"] = desc
        out.append(param)
    return out
