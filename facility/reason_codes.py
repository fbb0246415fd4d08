"""The reason codes of the core itself: the status engine's and the collector runner's.

Collectors declare the codes they emit in their own modules (`REASON_CODES`);
`collectors.reason_codes.all_reason_codes` gathers those and these. The runner's
two codes live here rather than in `collectors/runner.py` because the layers
above the collectors (status service, incidents, runbooks) read them, and they
import `facility`, never `collectors`.

Where each is set:

- `facility.engine`: `no_data`, `stale`, `capacity_below_threshold`, `dependency`,
  `maintenance`, `maintenance_overrun` (`facility.intervals` also uses `no_data`);
- `collectors.runner`: `collector_error`, `collector_timeout`;
- `slas.incident_alerts`: `alert_firing` (an alert received from Alertmanager about a
  resource, turned into an observation).
"""

from __future__ import annotations

NO_DATA = "no_data"
STALE = "stale"
CAPACITY_BELOW_THRESHOLD = "capacity_below_threshold"
DEPENDENCY = "dependency"
MAINTENANCE = "maintenance"
MAINTENANCE_OVERRUN = "maintenance_overrun"
COLLECTOR_ERROR = "collector_error"
COLLECTOR_TIMEOUT = "collector_timeout"
ALERT_FIRING = "alert_firing"

REASON_CODES: dict[str, str] = {
    NO_DATA: "no observation has been received for the resource yet (or none recorded for that time)",
    STALE: "the resource's collector has been silent for longer than stale_after: the state is unknown",
    CAPACITY_BELOW_THRESHOLD: "the capacity reported is below the resource's degraded_below or down_below threshold",
    DEPENDENCY: "a resource this one depends on is not up; the message names the root cause",
    MAINTENANCE: "a planned maintenance window covers the resource now",
    MAINTENANCE_OVERRUN: "the resource is still down or degraded after its maintenance window ended",
    COLLECTOR_ERROR: "the collector's cycle raised an error: every resource it watches is unknown",
    COLLECTOR_TIMEOUT: "the collector's cycle did not finish within its timeout: every resource it watches is unknown",
    ALERT_FIRING: "an alert from Prometheus/Alertmanager about the resource is firing",
}
