"""Everything one API process holds: settings, facility, store, service, caches.

`Runtime.start()` starts the background work (engine ticks, in-process
collectors, observation retention); `stop()` ends it. Tests build a Runtime
with their own clock and store URL.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Gauge

from api.caching import RenderCache
from api.hub import ChangeHub
from api.views import ResourceRenderer
from collectors.runner import CollectorRunner, collectors_for
from facility import changes
from facility import metric_names as names
from facility.config import FacilityConfig, load_facility
from facility.errors import NotFoundError, StoreUnavailable
from facility.metrics import StatusCollector
from facility.model import ReservationFact
from facility.service import Clock, StatusService, utcnow
from facility.settings import Settings
from facility.store import Store
from facility.telemetry import make_provider
from runbooks.library import shipped
from runbooks.model import Runbook
from slas import demo_history, incident_alerts, sources
from slas.calendars import period_at
from slas.incident_service import IncidentService
from slas.incident_wiring import build_incidents
from slas.maintenance import MaintenanceWindow
from slas.metrics import SlaCollector
from slas.operations import Operations
from slas.repository import Repository
from slas.service import SlaService
from slas.subscriptions import SmtpRelay, SubscriptionDispatcher, SubscriptionStore

log = logging.getLogger("facstat.runtime")
SUBSCRIPTION_POLL_SECONDS = 30.0  # a deliverer that died is taken over within this
ALERT_SYNC_SECONDS = 60  # how often SLA burn and beamtime conflicts are re-checked
DEMO_HISTORY = timedelta(days=100)  # the demo's made-up past, for SLAs and uptime bars
DEMO_PLANNED_CYCLES = 10  # the demo stores this many upcoming testbed windows at a time


@dataclass
class Runtime:
    settings: Settings
    config: FacilityConfig
    store: Store
    service: StatusService
    registry: CollectorRegistry
    tracer_provider: TracerProvider | None
    clock: Clock = utcnow
    ops: Operations = field(kw_only=True)
    sla_service: SlaService = field(kw_only=True)
    incidents: IncidentService = field(kw_only=True)
    runbook_library: dict[str, Runbook] = field(default_factory=dict, kw_only=True)
    subscriptions: SubscriptionDispatcher = field(kw_only=True)
    demo_start: datetime | None = None
    cache: RenderCache = field(default_factory=RenderCache)
    renderer: ResourceRenderer | None = None
    runner: CollectorRunner | None = None
    hub: ChangeHub | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock = utcnow,
        tracer_provider: TracerProvider | None = None,
    ) -> Runtime:
        config = load_facility(settings.facility_path())
        settings.ensure_sqlite_dir()
        store = Store.from_url(settings.database_url)
        registry = CollectorRegistry()
        provider = tracer_provider or make_provider(settings)
        ops = Operations(config, Repository(store.engine))
        base = settings.facility_path().parent
        slas = SlaService(sources.slas_of(config, base), store.history)
        sources.import_all(ops, base, settings.fetch_timeout)
        if settings.demo and not store.has_history():  # a restarted demo keeps its past
            now = clock()
            store.insert_history(
                demo_history.history(config, ops.windows(), now - DEMO_HISTORY, now)
            )
        service = StatusService(
            config, store, ops.overlay, clock=clock, registry=registry, tracer_provider=provider
        )
        ops.subscribe(lambda: service.tick(clock(), force=True))
        registry.register(StatusCollector(service, clock))
        books = shipped()
        incidents = build_incidents(settings, config, base, store, service, ops, slas, clock, books)
        service.subscribe(incidents.on_status)
        relay = (
            SmtpRelay(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
            if settings.smtp_host
            else None
        )
        subscriptions = SubscriptionDispatcher(SubscriptionStore(store.engine), clock, relay)
        store.on_close.append(subscriptions.stop)
        rt = cls(
            settings,
            config,
            store,
            service,
            registry,
            provider,
            clock,
            ops=ops,
            sla_service=slas,
            incidents=incidents,
            runbook_library={b.id: b for b in books},
            subscriptions=subscriptions,
        )
        registry.register(SlaCollector(slas, ops, clock, lambda now: service.snapshot(now).version))
        rt.renderer = ResourceRenderer(config)
        rt.hub = ChangeHub(store.engine, service, ops, settings.change_poll_interval)
        rt.hub.on_changes.append(lambda _new: subscriptions.wake())  # written elsewhere too
        hub = rt.hub
        store.on_close.append(hub.stop)
        Gauge(
            names.STREAM_CLIENTS,
            "SSE streams (/api/v1/stream) connected to this process.",
            registry=registry,
        ).set_function(lambda: hub.subscribers)
        if settings.demo:
            rt.plan_demo_maintenance()
        return rt

    def plan_demo_maintenance(self) -> None:
        """The demo's testbed upgrade, stored as real windows for the next hours."""
        from collectors.demo import DemoMaintenance

        now = self.clock()
        if self.demo_start is None:
            self.demo_start = now
        demo = DemoMaintenance(self.demo_start)
        windows = [
            MaintenanceWindow(
                id=f"demo-tern-upgrade-{start:%Y%m%dT%H%M%S}",
                title="testbed software stack upgrade",
                description="The testbed's software stack is upgraded; jobs on tern wait.",
                resources=tuple(sorted(demo.RESOURCES)),
                start=start,
                end=end,
                notice_given_at=start - timedelta(days=10),
                source="demo",
                created_at=now,
                updated_at=now,
            )
            for start, end in demo.occurrences(now, DEMO_PLANNED_CYCLES)
        ]
        self.ops.replace_source("demo", windows)

    def start(self) -> None:
        if self.hub is not None:
            self.hub.start()
        self.subscriptions.poll = SUBSCRIPTION_POLL_SECONDS
        self.subscriptions.wake()  # what a previous process left undelivered
        self._spawn("engine-tick", self._tick_loop)
        self._spawn("incident-pager", self._page_loop)
        if self.settings.run_collectors:
            found = collectors_for(self.config, demo=self.settings.demo, clock=self.clock)
            self.runner = CollectorRunner(
                found,
                self.service.ingest,
                self.clock,
                self.registry,
                tracer_provider=self.tracer_provider,
                on_reservations=self._reservations,
            )
            self.runner.start()

    def stop(self) -> None:
        self._stop.set()
        if self.hub is not None:
            self.hub.stop()
        self.subscriptions.stop()
        if self.runner is not None:
            self.runner.stop()
        for t in self._threads:
            t.join(timeout=5)
        self.store.close()

    def runbook_steps(self, runbook_id: str) -> list[str]:
        """The step ids of a shipped runbook; `NotFoundError` for an unknown one."""
        book = self.runbook_library.get(runbook_id)
        if book is None:
            raise NotFoundError("runbook", runbook_id)
        return [s.id for s in book.steps]

    def budget_remaining(self, resource_id: str, now: datetime) -> float | None:
        """The smallest error-budget fraction left among the SLAs covering a resource."""
        version = self.service.snapshot(now).version
        return self.sla_service.budget_remaining(resource_id, now, version)

    def _reservations(self, collector: str, facts: list[ReservationFact]) -> None:
        self.ops.sync_reservations(collector, facts, self.clock())

    def _spawn(self, name: str, target: object) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def sync_alert_incidents(self, now: datetime) -> None:
        """SLA burn and beamtime conflicts, as incidents that follow them; and the
        priority of open incidents re-weighed (a beamtime may have started)."""
        version = self.service.snapshot(now).version
        reports = [
            (s, self.sla_service.report(s, period_at(s, now), now, version))
            for s in self.sla_service.slas.values()
        ]
        self.incidents.sync_alerts("burn", incident_alerts.burn(reports, now), now)
        found = incident_alerts.conflicts(self.ops.upcoming_conflicts(now), now)
        self.incidents.sync_alerts("conflict", found, now)
        self.incidents.reprioritize(now)

    def _page_loop(self) -> None:
        last_sync: datetime | None = None
        while not self._stop.wait(self.settings.page_interval):
            try:
                now = self.clock()
                if last_sync is None or (now - last_sync).total_seconds() >= ALERT_SYNC_SECONDS:
                    self.sync_alert_incidents(now)
                    last_sync = now
                self.incidents.tick(self.clock())
            except StoreUnavailable as exc:
                log.warning("paging postponed: %s", exc)
            except Exception:
                log.exception("paging failed")

    def _tick_loop(self) -> None:
        last_purge: datetime | None = None
        while not self._stop.wait(self.settings.tick_interval):
            try:
                now = self.clock()
                self.service.tick(now)
                if last_purge is None or (now - last_purge).total_seconds() > 3600:
                    self.store.purge_observations(now - self.settings.observation_retention)
                    changes.purge(self.store.engine, now - self.settings.observation_retention)
                    if self.settings.demo:
                        self.plan_demo_maintenance()
                    last_purge = now
            except StoreUnavailable as exc:  # keep going: the store may come back
                log.warning("engine tick postponed: %s", exc)
            except Exception:
                log.exception("engine tick failed")
