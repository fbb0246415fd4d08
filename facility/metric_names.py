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
STORE_CONFLICTS = "facstat_store_version_conflicts_total"
STREAM_CLIENTS = "facstat_stream_clients"
HTTP_REQUESTS = "facstat_http_requests_total"
HTTP_REQUEST_DURATION = "facstat_http_request_duration_seconds"
SLA_AVAILABILITY = "facstat_sla_availability_ratio"
SLA_OBJECTIVE = "facstat_sla_objective_ratio"
SLA_BUDGET_REMAINING = "facstat_sla_error_budget_remaining_ratio"
SLA_BURN_RATE = "facstat_sla_burn_rate"
MAINTENANCE_ACTIVE = "facstat_maintenance_active"
MAINTENANCE_NEXT_START = "facstat_maintenance_next_start_timestamp_seconds"
BEAMTIME_CONFLICTS = "facstat_beamtime_conflicts"
