"""Everything one API process holds: settings, facility, store, service, caches.

`Runtime.start()` starts the background work (engine ticks, in-process
collectors, observation retention); `stop()` ends it. Tests build a Runtime
with their own clock and store URL.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from api.caching import RenderCache
from api.views import ResourceRenderer
from collectors.runner import CollectorRunner, collectors_for
from facility.config import FacilityConfig, load_facility
from facility.errors import StoreUnavailable
from facility.metrics import StatusCollector
from facility.service import Clock, StatusService, utcnow
from facility.settings import Settings
from facility.store import Store
from facility.telemetry import make_provider

log = logging.getLogger("facstat.runtime")


@dataclass
class Runtime:
    settings: Settings
    config: FacilityConfig
    store: Store
    service: StatusService
    registry: CollectorRegistry
    tracer_provider: TracerProvider | None
    clock: Clock = utcnow
    cache: RenderCache = field(default_factory=RenderCache)
    renderer: ResourceRenderer | None = None
    runner: CollectorRunner | None = None
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
        maintenance = None
        if settings.demo:
            from collectors.demo import DemoMaintenance

            maintenance = DemoMaintenance(clock())
        service = StatusService(
            config, store, maintenance, clock=clock, registry=registry, tracer_provider=provider
        )
        registry.register(StatusCollector(service, clock))
        rt = cls(settings, config, store, service, registry, provider, clock)
        rt.renderer = ResourceRenderer(config)
        return rt

    def start(self) -> None:
        self._spawn("engine-tick", self._tick_loop)
        if self.settings.run_collectors:
            found = collectors_for(self.config, demo=self.settings.demo, clock=self.clock)
            self.runner = CollectorRunner(
                found,
                self.service.ingest,
                self.clock,
                self.registry,
                tracer_provider=self.tracer_provider,
            )
            self.runner.start()

    def stop(self) -> None:
        self._stop.set()
        if self.runner is not None:
            self.runner.stop()
        for t in self._threads:
            t.join(timeout=5)
        self.store.close()

    def _spawn(self, name: str, target: object) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def _tick_loop(self) -> None:
        last_purge: datetime | None = None
        while not self._stop.wait(self.settings.tick_interval):
            try:
                now = self.clock()
                self.service.tick(now)
                if last_purge is None or (now - last_purge).total_seconds() > 3600:
                    self.store.purge_observations(now - self.settings.observation_retention)
                    last_purge = now
            except StoreUnavailable as exc:  # keep going: the store may come back
                log.warning("engine tick postponed: %s", exc)
            except Exception:
                log.exception("engine tick failed")
