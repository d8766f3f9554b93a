"""The label-caching sensor exports exactly what Faust's own Prometheus sensor exports."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry, generate_latest

from antifraud.streams.faust_internals.sensor import LabelCachingMonitor


class Task:
    """Faust keys its per-task counts by a weak reference to the task."""


class Stream:
    def __init__(self, label: str) -> None:
        self.shortlabel = f"Stream: {label}"
        self.task_owner = Task()

    def __str__(self) -> str:
        return self.shortlabel


def drive(monitor: Any) -> None:
    """The calls a worker makes, with several topics, partitions, streams and tables."""
    tps = [TP("transfers", 0), TP("transfers", 1), TP("report-events", 3)]
    streams = [Stream("Topic: transfers"), Stream("Topic: report-events")]
    tables = [SimpleNamespace(name="identifier-state"), SimpleNamespace(name="ledger")]
    for i in range(60):
        tp = tps[i % 3]
        message = SimpleNamespace(time_in=None)
        monitor.track_tp_end_offset(tp, 1_000 + i)
        monitor.on_message_in(tp, 100 + i, message)
        monitor.on_stream_event_in(tp, 100 + i, streams[i % 2], SimpleNamespace())
        table = tables[i % 2]
        monitor.on_table_get(table, b"k")
        monitor.on_table_set(table, b"k", b"v")
        if i % 7 == 0:
            monitor.on_table_del(table, b"k")
        monitor.on_send_initiated(None, f"topic-{i % 4}", None, 1, 2)
        monitor.on_message_out(tp, 100 + i, message)


def exported(monitor_class: type[PrometheusMonitor]) -> list[str]:
    """Every sample line, but the `_created` ones (when each series was created)."""
    registry = CollectorRegistry()
    monitor = monitor_class(metrics=FaustMetrics.create(registry, "faust"))
    drive(monitor)
    lines = generate_latest(registry).decode().splitlines()
    return [line for line in lines if "_created" not in line]


def test_same_series_and_values_as_faust_s_own_sensor() -> None:
    ours = exported(LabelCachingMonitor)
    assert 'faust_messages_received_per_topic_total{topic="transfers"} 40.0' in ours
    assert (
        'faust_total_events_per_stream_total{stream="stream.topic_transfers.events"} 30.0' in ours
    )
    assert any('table="table.identifier-state"' in line for line in ours)
    assert any("end_offset" in line and "1059.0" in line for line in ours)
    assert ours == exported(PrometheusMonitor)


def test_base_monitor_bookkeeping_is_kept() -> None:
    monitor = LabelCachingMonitor(metrics=FaustMetrics.create(CollectorRegistry(), "faust"))
    drive(monitor)
    assert monitor.messages_received_total == 60
    assert monitor.events_total == 60
    assert monitor.messages_sent == 60
    assert monitor.tables["identifier-state"].keys_updated == 30
