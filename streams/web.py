"""`GET /health` and `GET /metrics` on ANTIFRAUD_WEB_PORT, and the figures computed on a timer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faust.sensors.prometheus import setup_prometheus_sensors
from faust.web import Request, Response, View

from antifraud.streams import metrics, progress
from antifraud.streams.app import app
from antifraud.streams.faust_internals import sensor
from antifraud.streams.faust_internals.probes import last_read_offset, tables_recovered

# Faust's own sensor (messages, commits, rebalances...) on the same registry as ours, with
# its labelled series looked up once (streams/faust_internals/sensor.py).
setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.REGISTRY, name_prefix="faust")
sensor.install(app)
metrics.UP.set(1)


def processing_state() -> tuple[bool, str]:
    """Processing means: partitions assigned, not rebalancing, tables recovered."""
    if app.rebalancing:
        return False, "rebalancing"
    if not tables_recovered(app):
        return False, "recovering tables"
    if not app.consumer.assignment():
        return False, "no partitions assigned yet"
    return True, "processing"


@app.page("/health")
async def health(self: View, request: Request) -> Response:
    """503 until the worker processes, and while it cannot make progress (streams/progress.py)."""
    ok, state = processing_state()
    if not ok:
        return self.json({"status": "starting", "state": state}, status=503)
    problems = progress.judge().problems()
    if problems:
        return self.json({"status": "stalled", "state": "; ".join(problems)}, status=503)
    return self.json({"status": "ok", "state": state}, status=200)


@app.timer(interval=5.0)
async def measure_consumer_lag() -> None:
    """Lag per input topic on this worker's partitions: highwater minus the next offset to read."""
    lag: dict[str, int] = defaultdict(int)
    consumer: Any = app.consumer
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        position = last_read_offset(consumer, tp)
        if highwater is None:
            continue
        next_offset = (position + 1) if position is not None else 0
        lag[tp.topic] += max(0, highwater - next_offset)
    for topic, value in lag.items():
        metrics.CONSUMER_LAG.labels(topic).set(value)
