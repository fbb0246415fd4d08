"""Prometheus metric names, defined once for the exporters, rules and dashboards.

Convention: `facstat_<thing>_<unit>`, base units, counters end in `_total`.
"""

from __future__ import annotations

RESOURCE_STATE = "facstat_resource_state"
RESOURCE_CAPACITY = "facstat_resource_capacity_ratio"
RESOURCE_OBSERVATION_AGE = "facstat_resource_observation_age_seconds"
RESOURCE_STATE_SINCE = "facstat_resource_state_since_timestamp_seconds"
STORE_VERSION = "facstat_store_version"
OBSERVATIONS_INGESTED = "facstat_observations_ingested_total"
STATUS_TRANSITIONS = "facstat_status_transitions_total"
ENGINE_CYCLE_DURATION = "facstat_engine_cycle_duration_seconds"
HTTP_REQUESTS = "facstat_http_requests_total"
HTTP_REQUEST_DURATION = "facstat_http_request_duration_seconds"
