"""The runtime's Prometheus metrics on prometheus-client: declared in one place, right across workers.

With `ivrc serve --workers N`, uvicorn runs N processes and a scrape reaches one of them. So that
/metrics shows the server's figures and not one worker's, prometheus-client's multiprocess mode
is on whenever PROMETHEUS_MULTIPROC_DIR is set (`ivrc serve` sets it for N > 1): every worker
writes its values to files there, and a scrape adds them up. The standard process_* metrics
are those of the process, or with several workers of each worker (a `pid` label per worker).
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import prometheus_client
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest, multiprocess
from prometheus_client.core import Metric

# prometheus-client's `_created` series double the output and no ivrc dashboard reads them.
prometheus_client.disable_created_metrics()

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# generate_latest writes text format 0.0.4, whatever prometheus-client's newest format is.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

STEP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


# The classic names every Prometheus version and query reads (prometheus-client also takes UTF-8).
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _check_names(name: str, labelnames: tuple[str, ...]) -> None:
    if not _METRIC_NAME.fullmatch(name):
        raise ValueError(f"metric name {name!r} should match {_METRIC_NAME.pattern}")
    for label in labelnames:
        if not _LABEL_NAME.fullmatch(label) or label.startswith("__") or label == "le":
            raise ValueError(f"label name {label!r} is not allowed on {name}")


class _Metric:
    """A prometheus-client metric behind ivrc's call style: inc(**labels), observe(value, **labels)."""

    def __init__(self, metric, name: str, labelnames: tuple[str, ...]) -> None:
        self._metric = metric
        self.name = name
        self.labelnames = labelnames
        self._nameset = frozenset(labelnames)
        # Each label combination's child, found once: prometheus-client's labels() checks, converts
        # and locks on every call, several times per callback.
        self._children: dict[tuple, Any] = {}

    def _child(self, labels: dict[str, str]):
        key = tuple(labels.items())
        child = self._children.get(key)
        if child is None:
            # Label values should come from bounded sets (flow, state, event, our reason codes):
            # every distinct combination is a series kept forever (here as in prometheus-client).
            if labels.keys() != self._nameset:
                raise ValueError(f"{self.name} takes labels {sorted(self.labelnames)}, got {sorted(labels)}")
            child = self._metric.labels(**{k: str(v) for k, v in labels.items()}) if self.labelnames else self._metric
            self._children[key] = child
        return child


class Counter(_Metric):
    """A monotonically increasing count per label combination."""

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self.name} is a counter; it cannot go down")
        self._child(labels).inc(amount)

    def value(self, **labels: str) -> float:
        """This process's count (a test's view; /metrics adds up every worker)."""
        return self._child(labels)._value.get()


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    def observe(self, value: float, **labels: str) -> None:
        self._child(labels).observe(value)


class Registry:
    """The metrics one app exports, in declaration order, plus the standard process metrics."""

    def __init__(self, process_metrics: bool = True) -> None:
        self._registry = CollectorRegistry()
        self._names: set[str] = set()
        self._process_metrics = process_metrics

    def counter(self, name: str, help: str, labelnames: Iterable[str] = ()) -> Counter:
        labels = self._declare(name, labelnames)
        return Counter(prometheus_client.Counter(name, help, labels, registry=self._registry), name, labels)

    def histogram(self, name: str, help: str, labelnames: Iterable[str] = (),
                  buckets: tuple[float, ...] = STEP_BUCKETS) -> Histogram:
        labels = self._declare(name, labelnames)
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ValueError(f"{name} buckets must be strictly increasing")
        metric = prometheus_client.Histogram(name, help, labels, registry=self._registry, buckets=buckets)
        return Histogram(metric, name, labels)

    def _declare(self, name: str, labelnames: Iterable[str]) -> tuple[str, ...]:
        labels = tuple(labelnames)
        if name in self._names:
            raise ValueError(f"metric {name} is already declared")
        _check_names(name, labels)
        self._names.add(name)
        return labels

    def render(self) -> str:
        """Every metric in Prometheus text format 0.0.4: this process's, or all workers' added up."""
        folder = os.environ.get(MULTIPROCESS_ENV)
        if not folder:
            text = generate_latest(self._registry).decode("utf-8")
            if self._process_metrics:
                text += generate_latest(_ProcessRegistry.one()).decode("utf-8")
            return text
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, folder)
        if self._process_metrics:
            combined.register(_WorkerProcesses(folder))
        return generate_latest(combined).decode("utf-8")


class _ProcessRegistry:
    """process_* for this process, registered once (a collector reads /proc on each scrape)."""

    _registry: CollectorRegistry | None = None

    @classmethod
    def one(cls) -> CollectorRegistry:
        if cls._registry is None:
            cls._registry = CollectorRegistry()
            ProcessCollector(registry=cls._registry)
        return cls._registry


_WORKER_FILE = re.compile(r"_(\d+)\.db$")


class _WorkerProcesses:
    """process_* for every live worker, each with a `pid` label: the workers are the processes
    whose value files are in the multiprocess folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _pids(self) -> list[int]:
        pids = {int(m[1]) for name in os.listdir(self.folder) if (m := _WORKER_FILE.search(name))}
        return sorted(pid for pid in pids if os.path.exists(f"/proc/{pid}"))

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in self._pids():
            # cast: mypy cannot infer the type of a lambda with a default argument (prometheus wants a Callable)
            for family in ProcessCollector(pid=cast("Callable[[], int]", lambda pid=pid: pid), registry=None).collect():
                merged = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    merged.add_sample(sample.name, dict(sample.labels, pid=str(pid)), sample.value)
        yield from families.values()


class RuntimeMetrics:
    """The metrics the ivrc runtime exports, declared once on their own registry."""

    def __init__(self) -> None:
        self.registry = Registry()
        r = self.registry
        self.callbacks = r.counter(
            "ivrc_callbacks_total", "Callbacks answered, by event, flow and state.",
            ("event", "flow", "state"),
        )
        self.step_seconds = r.histogram(
            "ivrc_step_seconds", "Time to compute one callback's answer, in seconds."
        )
        self.errors = r.counter(
            "ivrc_errors_total", "Steps that took the flow's error path, by flow and kind.",
            ("flow", "kind"),
        )
        self.menu_results = r.counter(
            "ivrc_menu_results_total",
            "Menus that ended without a valid choice (timeout, invalid), by flow and state.",
            ("flow", "state", "result"),
        )
        self.calls_ended = r.counter(
            "ivrc_calls_ended_total", "Calls ended (DiCE), by Sinch's reason.", ("reason",)
        )
        self.rejected_requests = r.counter(
            "ivrc_rejected_requests_total",
            "Requests refused before any flow ran (signature, timestamp, body).",
            ("reason",),
        )
        self.requests = r.counter(
            "ivrc_backend_requests_total",
            "Requests from request states to the business's systems, by flow, state and outcome (ok, status, failure).",
            ("flow", "state", "outcome"),
        )
        self.request_seconds = r.histogram(
            "ivrc_backend_request_seconds", "Time a request state waited for the business's system, in seconds."
        )
        # Call events out (runtime/server/events_out.py); type is the event's type, a fixed set.
        self.events_sent = r.counter(
            "ivrc_events_sent_total", "Call events the business's URL accepted, by type.", ("type",)
        )
        self.events_retried = r.counter(
            "ivrc_events_retried_total", "Call event attempts after the first, by type.", ("type",)
        )
        self.events_dropped = r.counter(
            "ivrc_events_dropped_total",
            "Call events never delivered, by type and reason (queue-full, rejected, gave-up, shutdown, not-running, error).",
            ("type", "reason"),
        )
        self.duplicate_requests = r.counter(
            "ivrc_duplicate_requests_total",
            "Signed requests delivered again inside the window, answered with their first answer.",
        )

    def render(self) -> str:
        return self.registry.render()
