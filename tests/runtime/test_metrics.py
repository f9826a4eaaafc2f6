"""Metrics: the runtime's series render as Prometheus text format 0.0.4 that parses back."""
from __future__ import annotations

import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivrc.runtime.server.metrics import CONTENT_TYPE, STEP_BUCKETS, Registry, RuntimeMetrics


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, dict, float]]]:
    """With prometheus-client's text-format parser: {name: (type, help)} and the samples in order."""
    assert text.endswith("\n")
    meta: dict[str, tuple[str, str]] = {}
    samples: list[tuple[str, dict, float]] = []
    for family in text_string_to_metric_families(text):
        meta[family.name + ("_total" if family.type == "counter" else "")] = (family.type, family.documentation)
        samples.extend((sample.name, dict(sample.labels), sample.value) for sample in family.samples)
    return meta, samples


PROCESS_METRICS = {"process_virtual_memory_bytes", "process_resident_memory_bytes", "process_start_time_seconds",
                   "process_cpu_seconds_total", "process_open_fds", "process_max_fds"}


def value_of(samples: list, name: str, **labels: str) -> float:
    matches = [v for n, lab, v in samples if n == name and lab == labels]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_runtime_metrics_are_declared_with_help_and_type() -> None:
    meta, samples = parse(RuntimeMetrics().render())
    assert PROCESS_METRICS <= set(meta)  # the standard process metrics come too
    meta = {name: value for name, value in meta.items() if name.startswith("ivrc_")}
    samples = [sample for sample in samples if sample[0].startswith("ivrc_")]
    assert meta == {
        "ivrc_callbacks_total": ("counter", meta["ivrc_callbacks_total"][1]),
        "ivrc_step_seconds": ("histogram", meta["ivrc_step_seconds"][1]),
        "ivrc_errors_total": ("counter", meta["ivrc_errors_total"][1]),
        "ivrc_menu_results_total": ("counter", meta["ivrc_menu_results_total"][1]),
        "ivrc_calls_ended_total": ("counter", meta["ivrc_calls_ended_total"][1]),
        "ivrc_rejected_requests_total": ("counter", meta["ivrc_rejected_requests_total"][1]),
        "ivrc_backend_requests_total": ("counter", meta["ivrc_backend_requests_total"][1]),
        "ivrc_backend_request_seconds": ("histogram", meta["ivrc_backend_request_seconds"][1]),
        "ivrc_events_sent_total": ("counter", meta["ivrc_events_sent_total"][1]),
        "ivrc_events_retried_total": ("counter", meta["ivrc_events_retried_total"][1]),
        "ivrc_events_dropped_total": ("counter", meta["ivrc_events_dropped_total"][1]),
        "ivrc_duplicate_requests_total": ("counter", meta["ivrc_duplicate_requests_total"][1]),
    }
    assert all(help_text for _, help_text in meta.values())
    # Before any traffic only the unlabelled histograms and counter have samples, all zero.
    assert {name for name, _, _ in samples} == {
        "ivrc_step_seconds_bucket", "ivrc_step_seconds_sum", "ivrc_step_seconds_count",
        "ivrc_backend_request_seconds_bucket", "ivrc_backend_request_seconds_sum",
        "ivrc_backend_request_seconds_count", "ivrc_duplicate_requests_total",
    }
    assert all(value == 0 for _, _, value in samples)


def test_counters_count_per_label_set() -> None:
    m = RuntimeMetrics()
    m.callbacks.inc(event="ice", flow="support", state="start")
    m.callbacks.inc(event="pie", flow="support", state="main_menu")
    m.callbacks.inc(event="pie", flow="support", state="main_menu")
    m.errors.inc(flow="support", kind="template")
    m.menu_results.inc(flow="support", state="main_menu", result="timeout")
    m.calls_ended.inc(reason="callerhangup")
    m.rejected_requests.inc(3, reason="bad-signature")
    _, samples = parse(m.render())
    assert value_of(samples, "ivrc_callbacks_total", event="pie", flow="support",
                    state="main_menu") == 2
    assert value_of(samples, "ivrc_callbacks_total", event="ice", flow="support",
                    state="start") == 1
    assert value_of(samples, "ivrc_errors_total", flow="support", kind="template") == 1
    assert value_of(samples, "ivrc_menu_results_total", flow="support", state="main_menu",
                    result="timeout") == 1
    assert value_of(samples, "ivrc_calls_ended_total", reason="callerhangup") == 1
    assert value_of(samples, "ivrc_rejected_requests_total", reason="bad-signature") == 3
    assert m.rejected_requests.value(reason="bad-signature") == 3


def test_histogram_buckets_are_cumulative() -> None:
    m = RuntimeMetrics()
    for seconds in (0.0001, 0.0005, 0.003, 0.2, 5.0):
        m.step_seconds.observe(seconds)
    _, samples = parse(m.render())
    buckets = [(lab["le"], v) for n, lab, v in samples if n == "ivrc_step_seconds_bucket"]
    assert [le for le, _ in buckets] == [repr(b) for b in STEP_BUCKETS] + ["+Inf"]
    counts = dict(buckets)
    assert counts["0.0005"] == 2  # upper bounds are inclusive
    assert counts["0.005"] == 3
    assert counts["0.25"] == 4
    assert counts["1.0"] == 4
    assert counts["+Inf"] == 5
    values = [v for _, v in buckets]
    assert values == sorted(values)
    assert value_of(samples, "ivrc_step_seconds_count") == 5
    assert value_of(samples, "ivrc_step_seconds_sum") == pytest.approx(5.2036)


def test_label_values_are_escaped() -> None:
    registry = Registry(process_metrics=False)
    counter = registry.counter("odd_total", "Odd labels.\nSecond line \\ here.", ("flow",))
    nasty = 'a"b\\c\nd'
    counter.inc(flow=nasty)
    text = registry.render()
    assert '{flow="a\\"b\\\\c\\nd"}' in text
    assert "# HELP odd_total Odd labels.\\nSecond line \\\\ here." in text
    meta, samples = parse(text)
    assert meta["odd_total"] == ("counter", "Odd labels.\nSecond line \\ here.")
    assert samples == [("odd_total", {"flow": nasty}, 1.0)]


def test_labelled_histogram_puts_le_last() -> None:
    registry = Registry(process_metrics=False)
    registry.histogram("h_seconds", "H.", ("flow",), buckets=(0.1, 1.0)).observe(0.5, flow="x")
    lines = registry.render().splitlines()
    assert 'h_seconds_bucket{flow="x",le="0.1"} 0.0' in lines
    assert 'h_seconds_bucket{flow="x",le="+Inf"} 1.0' in lines
    assert 'h_seconds_sum{flow="x"} 0.5' in lines


def test_series_render_in_a_stable_order() -> None:
    """First seen, first shown, on every scrape."""
    registry = Registry(process_metrics=False)
    counter = registry.counter("c_total", "C.", ("k",))
    for k in ("b", "c", "a"):
        counter.inc(k=k)
    lines = [line for line in registry.render().splitlines() if not line.startswith("#")]
    assert lines == ['c_total{k="b"} 1.0', 'c_total{k="c"} 1.0', 'c_total{k="a"} 1.0']
    assert registry.render() == registry.render()


def test_unlabelled_counter_shows_zero() -> None:
    registry = Registry(process_metrics=False)
    registry.counter("up_total", "Up.")
    assert registry.render() == "# HELP up_total Up.\n# TYPE up_total counter\nup_total 0.0\n"


@pytest.mark.parametrize(
    "labels",
    [{}, {"event": "ice"}, {"event": "ice", "flow": "f", "state": "s", "extra": "x"}],
)
def test_wrong_labels_are_a_programming_error(labels: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="takes labels"):
        RuntimeMetrics().callbacks.inc(**labels)


def test_counters_cannot_go_down() -> None:
    with pytest.raises(ValueError):
        RuntimeMetrics().calls_ended.inc(-1, reason="x")


@pytest.mark.parametrize(
    ("name", "labels"), [("bad-name", ()), ("ok_total", ("le",)), ("ok_total", ("__x",))]
)
def test_invalid_names_are_refused(name: str, labels: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        Registry().counter(name, "x", labels)


def test_a_metric_is_declared_once() -> None:
    registry = Registry()
    registry.counter("a_total", "A.")
    with pytest.raises(ValueError, match="already declared"):
        registry.counter("a_total", "A again.")


def test_updates_from_many_threads_are_not_lost() -> None:
    m = RuntimeMetrics()

    def work() -> None:
        for _ in range(2000):
            m.callbacks.inc(event="pie", flow="f", state="s")
            m.step_seconds.observe(0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, samples = parse(m.render())
    assert value_of(samples, "ivrc_callbacks_total", event="pie", flow="f", state="s") == 16000
    assert value_of(samples, "ivrc_step_seconds_count") == 16000


def test_content_type_names_the_format_version() -> None:
    assert "version=0.0.4" in CONTENT_TYPE
