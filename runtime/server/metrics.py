"""A tiny thread-safe Prometheus registry: labelled counters, a histogram, text format 0.0.4."""
from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

STEP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels_text(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{_escape_label(value)}"' for name, value in pairs)
    return f"{{{inner}}}" if inner else ""


class _Metric:
    """Name, help and label names shared by counters and histograms."""

    kind = ""

    def __init__(
        self, name: str, help: str, labelnames: tuple[str, ...], lock: threading.Lock
    ) -> None:
        if not _METRIC_NAME.fullmatch(name):
            raise ValueError(f"metric name {name!r} should match {_METRIC_NAME.pattern}")
        for label in labelnames:
            if not _LABEL_NAME.fullmatch(label) or label.startswith("__") or label == "le":
                raise ValueError(f"label name {label!r} is not allowed on {name}")
        self.name = name
        self.help = help
        self.labelnames = labelnames
        self._nameset = frozenset(labelnames)
        self._lock = lock

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        # Label values should come from bounded sets (flow, state, event, our reason codes):
        # every distinct combination is a series kept forever.
        if labels.keys() != self._nameset:
            raise ValueError(
                f"{self.name} takes labels {sorted(self.labelnames)}, got {sorted(labels)}"
            )
        return tuple(str(labels[name]) for name in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> Iterator[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count per label combination."""

    kind = "counter"

    def __init__(
        self, name: str, help: str, labelnames: tuple[str, ...], lock: threading.Lock
    ) -> None:
        super().__init__(name, help, labelnames, lock)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self.name} is a counter; it cannot go down")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        key = self._key(labels)
        with self._lock:
            return self._values.get(key, 0.0)

    def samples(self) -> Iterator[str]:
        with self._lock:
            values = sorted(self._values.items())
        # An unlabelled counter is shown at 0 so dashboards see it before the first event.
        if not values and not self.labelnames:
            values = [((), 0.0)]
        for key, value in values:
            pairs = zip(self.labelnames, key)
            yield f"{self.name}{_labels_text(pairs)} {_format_value(value)}"


class _Series:
    """One histogram series: per-bucket counts (not cumulative; last is +Inf) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self, slots: int) -> None:
        self.counts = [0] * slots
        self.total = 0.0


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: tuple[str, ...],
        lock: threading.Lock,
        buckets: tuple[float, ...],
    ) -> None:
        super().__init__(name, help, labelnames, lock)
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ValueError(f"{name} buckets must be strictly increasing")
        self.buckets = tuple(float(b) for b in buckets if not math.isinf(b))
        self._series: dict[tuple[str, ...], _Series] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        # Upper bounds are inclusive (le = "less than or equal"); past the last one is +Inf.
        slot = bisect.bisect_left(self.buckets, value)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(len(self.buckets) + 1)
            series.counts[slot] += 1
            series.total += value

    def samples(self) -> Iterator[str]:
        with self._lock:
            snapshot = sorted((key, s.counts[:], s.total) for key, s in self._series.items())
        if not snapshot and not self.labelnames:
            snapshot = [((), [0] * (len(self.buckets) + 1), 0.0)]
        bounds = [*map(_format_value, self.buckets), "+Inf"]
        for key, counts, total in snapshot:
            pairs = list(zip(self.labelnames, key))
            cumulative = 0
            for bound, count in zip(bounds, counts):
                cumulative += count
                labels = _labels_text([*pairs, ("le", bound)])
                yield f"{self.name}_bucket{labels} {cumulative}"
            yield f"{self.name}_sum{_labels_text(pairs)} {_format_value(total)}"
            yield f"{self.name}_count{_labels_text(pairs)} {cumulative}"


_M = TypeVar("_M", bound=_Metric)


class Registry:
    """Metrics in declaration order; one lock guards all updates and reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metrics: dict[str, _Metric] = {}

    def counter(self, name: str, help: str, labelnames: Iterable[str] = ()) -> Counter:
        return self._add(Counter(name, help, tuple(labelnames), self._lock))

    def histogram(
        self,
        name: str,
        help: str,
        labelnames: Iterable[str] = (),
        buckets: tuple[float, ...] = STEP_BUCKETS,
    ) -> Histogram:
        return self._add(Histogram(name, help, tuple(labelnames), self._lock, buckets))

    def _add(self, metric: _Metric) -> _M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already declared")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        """The whole registry in Prometheus text exposition format 0.0.4."""
        lines: list[str] = []
        for metric in list(self._metrics.values()):
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"


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
        self.duplicate_requests = r.counter(
            "ivrc_duplicate_requests_total",
            "Signed requests delivered again inside the window, answered with their first answer.",
        )

    def render(self) -> str:
        return self.registry.render()
