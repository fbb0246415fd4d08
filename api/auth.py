"""Who is asking: the `Principal` behind a request, and what it may do.

Scopes (issue: security): `status:read-internal` (see internal details),
`observations:write` (report observations; optionally bound to resources),
`maintenance:write`, `incidents:write`, and `admin` (everything, plus tokens and
the audit log). A request without credentials is anonymous: public reads only.

A bearer token is resolved in `api.deps.resolve`: one of the static tokens of the
settings, else a stored API token `fst_<id>_<secret>` (`api.tokens`), else, with
OIDC configured, a JWT from the centre's identity provider (`api.oidc`). The staff
pages sign in with the operator token and keep a session cookie of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = (
    "status:read-internal",
    "observations:write",
    "maintenance:write",
    "incidents:write",
    "admin",
)
READ_INTERNAL, OBSERVATIONS_WRITE, MAINTENANCE_WRITE, INCIDENTS_WRITE, ADMIN = SCOPES
# The static tokens of the settings, for sites that have not issued API tokens yet.
COLLECTOR_SCOPES = frozenset({OBSERVATIONS_WRITE})
OPERATOR_SCOPES = frozenset({READ_INTERNAL, MAINTENANCE_WRITE, INCIDENTS_WRITE})
ADMIN_SCOPES = frozenset({ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    id: str  # e.g. "token:tok_1a2b", "static:operator", "oidc:alice", "session:Cat Chen"
    name: str
    kind: str  # token | static | oidc | session
    scopes: frozenset[str]
    resources: frozenset[str] | None = None  # observations:write bound to these; None: any
    token_id: str | None = None

    def can(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes

    def may_report(self, resource_id: str) -> bool:
        return self.resources is None or resource_id in self.resources

    @property
    def internal(self) -> bool:
        return self.can(READ_INTERNAL)


def can(principal: Principal | None, scope: str) -> bool:
    return principal is not None and principal.can(scope)
