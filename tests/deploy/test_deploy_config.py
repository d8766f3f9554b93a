"""Checks of the operations deploy files (no Docker engine needed).

Runs the same checks as scripts/check-deploy: promtool on the Prometheus config,
alert rules and alert unit tests, `docker-compose config`, and the Grafana
dashboard JSON. promtool and docker-compose must be on PATH: these tests fail
(they do not skip) when they are missing; run scripts/check-deploy or
`make setup` to install them.

Long on purpose: it is the one place that holds the deploy files (Prometheus, alerts,
Grafana, compose, Dockerfile) to the metrics the code defines.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
PROMETHEUS_YML = PROMETHEUS_DIR / "prometheus.yml"
ALERTS_YML = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST_YML = PROMETHEUS_DIR / "alerts_test.yml"
COMPOSE_YML = REPO / "docker-compose.yml"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD_JSON = GRAFANA_DIR / "dashboards" / "antifraud.json"
DATASOURCES_YML = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARDS_YML = GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yml"

# The metrics the worker exports (the project's metrics interface), by type.
COUNTERS = {
    "antifraud_records_total",
    "antifraud_dead_letters_total",
    "antifraud_commands_total",
    "antifraud_held_amount_tenge_total",
    "antifraud_escaped_amount_tenge_total",
    "antifraud_acks_total",
    "antifraud_overdue_commands_total",
    "antifraud_transfers_forgotten_total",
    "antifraud_commands_forgotten_total",
    "antifraud_watch_records_forgotten_total",
    "antifraud_write_failures_total",
    "antifraud_returned_amount_tenge_total",
    "antifraud_returns_failed_total",
    "antifraud_returns_overdue_total",
    "antifraud_returns_refused_total",
    "antifraud_case_holds_left_out_total",
    "antifraud_watchlist_writes_total",
}
GAUGES = {
    "antifraud_up",
    "antifraud_watched_identifiers",
    "antifraud_inflight_transfers",
    "antifraud_unacknowledged_commands",
    "antifraud_consumer_lag",
    "antifraud_last_transfer_timestamp_seconds",
    "antifraud_stalled_partitions",
    "antifraud_writes_failing_seconds",
    "antifraud_cases",
    "antifraud_watchlist_entries",
}
HISTOGRAMS = {
    "antifraud_report_to_command_seconds",
    "antifraud_transfer_to_command_seconds",
    "antifraud_ack_latency_seconds",
    "antifraud_report_to_return_seconds",
}
# Series that Prometheus itself attaches to every scrape target.
PROMETHEUS_SERIES = {"up"}

KNOWN_METRICS = (
    COUNTERS
    | GAUGES
    | {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    | PROMETHEUS_SERIES
)
# Metric labels as exported (never an account number), plus `le` of histogram
# buckets and the target labels Prometheus adds.
KNOWN_LABELS = {
    "topic",
    "outcome",
    "code",
    "type",
    "reason",
    "fraud_type",
    "bank_id",
    "status",
    "kind",
    "marker",
    "le",
    "job",
    "instance",
}

ALERT_NAMES = {
    "AntifraudDeadLettersRising",
    "AntifraudConsumerLagGrowing",
    "AntifraudReportToCommandLatencyHigh",
    "AntifraudOverdueAcks",
    "AntifraudBankSilent",
    "AntifraudWorkerDown",
    "AntifraudTransfersForgotten",
    "AntifraudCommandsForgotten",
    "AntifraudWatchRecordsForgotten",
    "AntifraudWorkerStalled",
    "AntifraudReturnsFailedOrOverdue",
}
CONTRACT_TOPICS = (
    "antifraud.transfers",
    "antifraud.reports",
    "antifraud.bank-acks",
    "antifraud.bank-commands",
    "antifraud.dead-letter",
    "antifraud.audit",
)
COMPOSE_SERVICES = {"kafka", "topics", "worker-1", "worker-2", "prometheus", "grafana"}

SETUP_HINT = "run scripts/check-deploy (or `make setup`) to install it"


# --- helpers -------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: {SETUP_HINT}", pytrace=False)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(args), cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )
    return proc


def _load_yaml(path: Path):
    """Parse a YAML file: PyYAML when this interpreter has it, else the Python
    that runs docker-compose (Compose v1 is a Python program built on PyYAML)."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)

    compose = _tool("docker-compose")
    with open(compose, "rb") as fh:
        first = fh.readline()
    interpreter = (
        first[2:].decode(errors="replace").strip().split() if first.startswith(b"#!") else []
    )
    if not interpreter or "python" not in " ".join(interpreter):
        pytest.fail(
            f"no YAML parser: install PyYAML in {sys.executable} or {SETUP_HINT}", pytrace=False
        )
    proc = subprocess.run(
        [
            *interpreter,
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout)",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"could not parse {path}: {proc.stderr}"
    return json.loads(proc.stdout)


def _alert_rules() -> list[dict]:
    doc = _load_yaml(ALERTS_YML)
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


def _dashboard() -> dict:
    with DASHBOARD_JSON.open(encoding="utf-8") as fh:
        return json.load(fh)


def _dashboard_panels(dash: dict) -> list[dict]:
    panels = []
    for panel in dash.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
    return panels


def _dashboard_exprs(dash: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL expression) for every query in the dashboard."""
    return [
        (panel.get("title", "?"), target["expr"])
        for panel in _dashboard_panels(dash)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


_GRAFANA_VARS = re.compile(
    r"\$(?:__rate_interval|__interval|__range|\{__rate_interval\}|\{__interval\}|\{__range\})"
)


def _without_grafana_vars(expr: str) -> str:
    return _GRAFANA_VARS.sub("5m", expr)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_MATCHERS = re.compile(r"\{([^}]*)\}")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2", "start", "end"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (a light tokenizer, enough for
    the expressions kept in this repository)."""
    e = _without_grafana_vars(expr)
    e = _STRING.sub('""', e)
    e = _MATCHERS.sub(" ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)  # range and subquery selectors
    e = _GROUPING.sub(" ", e)
    names = set()
    for m in _IDENT.finditer(e):
        token = m.group(0)
        before = e[m.start() - 1] if m.start() else " "
        if before.isdigit() or before == ".":  # 1e3, 5m, 0.99
            continue
        if e[m.end() :].lstrip().startswith("("):  # function or aggregation
            continue
        if token.lower() in _KEYWORDS:
            continue
        names.add(token)
    return names


def promql_label_names(expr: str) -> set[str]:
    """Label names used in grouping clauses and label matchers."""
    e = _STRING.sub('""', _without_grafana_vars(expr))
    labels = set()
    for group in _GROUPING.findall(e):
        labels.update(x.strip() for x in group.split(",") if x.strip())
    for matchers in _MATCHERS.findall(e):
        labels.update(
            m.group(1) for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers)
        )
    return labels


# --- the checks scripts/check-deploy runs --------------------------------------


@pytest.mark.system_deps
def test_promtool_check_config():
    _run(_tool("promtool"), "check", "config", str(PROMETHEUS_YML.relative_to(REPO)))


@pytest.mark.system_deps
def test_promtool_check_rules():
    _run(_tool("promtool"), "check", "rules", str(ALERTS_YML.relative_to(REPO)))


@pytest.mark.system_deps
def test_promtool_test_rules():
    proc = _run(_tool("promtool"), "test", "rules", str(ALERTS_TEST_YML.relative_to(REPO)))
    assert "SUCCESS" in proc.stdout + proc.stderr


@pytest.mark.system_deps
def test_docker_compose_config():
    _run(_tool("docker-compose"), "-f", str(COMPOSE_YML.relative_to(REPO)), "config", "-q")


def test_dashboard_is_valid_json():
    dash = _dashboard()
    assert isinstance(dash, dict)
    assert dash.get("uid") and dash.get("title")
    assert _dashboard_panels(dash), "dashboard has no panels"


# --- metric names ----------------------------------------------------------------


def test_promql_tokenizer_finds_metric_names():
    expr = (
        "histogram_quantile(0.99, sum by (type, le) "
        '(rate(antifraud_report_to_command_seconds_bucket{job="antifraud"}[$__rate_interval]))) > 60 '
        "and on (type) time() - max by (bank_id) (antifraud_last_transfer_timestamp_seconds offset 1h) "
        "> 9e2 or up == 0"
    )
    assert promql_metric_names(expr) == {
        "antifraud_report_to_command_seconds_bucket",
        "antifraud_last_transfer_timestamp_seconds",
        "up",
    }
    assert promql_label_names(expr) == {"type", "le", "job", "bank_id"}
    assert promql_metric_names("sum(rate(antifraud_typo_total[5m]))") == {"antifraud_typo_total"}


def test_the_known_metrics_are_the_ones_the_worker_exports():
    """What alerts and panels may name is exported by the worker (streams/metrics.py)."""
    from antifraud.streams.metrics import REGISTRY

    exported = {
        (metric.name, metric.type)
        for metric in REGISTRY.collect()
        if metric.name.startswith("antifraud_")
    }
    kinds = {"counter": COUNTERS, "gauge": GAUGES, "histogram": HISTOGRAMS}
    for kind, names in kinds.items():
        for name in names:
            # prometheus_client names a counter without its _total suffix
            assert (name.removesuffix("_total"), kind) in exported, f"{kind} {name}"


def test_alerts_reference_only_known_metrics():
    rules = _alert_rules()
    assert {rule["alert"] for rule in rules} == ALERT_NAMES
    for rule in rules:
        names = promql_metric_names(rule["expr"])
        assert names, f"{rule['alert']}: no metric found in {rule['expr']!r}"
        unknown = names - KNOWN_METRICS
        assert not unknown, f"{rule['alert']} references unknown metrics {sorted(unknown)}"
        bad_labels = promql_label_names(rule["expr"]) - KNOWN_LABELS
        assert not bad_labels, f"{rule['alert']} uses unknown labels {sorted(bad_labels)}"


def test_dashboard_references_only_known_metrics():
    exprs = _dashboard_exprs(_dashboard())
    assert exprs, "dashboard has no queries"
    seen = set()
    for title, expr in exprs:
        names = promql_metric_names(expr)
        assert names, f"panel {title!r}: no metric found in {expr!r}"
        unknown = names - KNOWN_METRICS
        assert not unknown, f"panel {title!r} references unknown metrics {sorted(unknown)}"
        bad_labels = promql_label_names(expr) - KNOWN_LABELS
        assert not bad_labels, f"panel {title!r} uses unknown labels {sorted(bad_labels)}"
        seen |= names
    # The business metrics the dashboard is meant to show.
    for required in (
        "antifraud_commands_total",
        "antifraud_held_amount_tenge_total",
        "antifraud_escaped_amount_tenge_total",
        "antifraud_report_to_command_seconds_bucket",
        "antifraud_dead_letters_total",
        "antifraud_consumer_lag",
        "antifraud_unacknowledged_commands",
        "antifraud_overdue_commands_total",
        "antifraud_watched_identifiers",
        "antifraud_inflight_transfers",
        "antifraud_transfers_forgotten_total",
        "antifraud_commands_forgotten_total",
        "antifraud_watch_records_forgotten_total",
        "antifraud_stalled_partitions",
        "antifraud_writes_failing_seconds",
        "antifraud_write_failures_total",
        "antifraud_returned_amount_tenge_total",
        "antifraud_cases",
        "antifraud_report_to_return_seconds_bucket",
        "antifraud_returns_failed_total",
        "antifraud_watchlist_entries",
        "antifraud_watchlist_writes_total",
    ):
        assert required in seen, f"dashboard shows no panel for {required}"


# --- more structure ----------------------------------------------------------------


def test_alert_annotations():
    for rule in _alert_rules():
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            assert str(annotations.get(key, "")).strip(), f"{rule['alert']}: no {key} annotation"
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, rule["alert"]


def test_every_alert_has_firing_and_quiet_unit_tests():
    doc = _load_yaml(ALERTS_TEST_YML)
    assert doc["rule_files"] == ["alerts.yml"]
    fired, quiet = set(), set()
    for test in doc["tests"]:
        for case in test.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert fired == ALERT_NAMES, f"alerts never fired in a test: {sorted(ALERT_NAMES - fired)}"
    assert quiet == ALERT_NAMES, f"alerts never tested quiet: {sorted(ALERT_NAMES - quiet)}"


@pytest.mark.system_deps
def test_dashboard_expressions_parse(tmp_path):
    """Every dashboard query is valid PromQL (checked by promtool as recording rules)."""
    exprs = _dashboard_exprs(_dashboard())
    rules = [
        {"record": f"dashboard:query_{i}", "expr": _without_grafana_vars(expr)}
        for i, (_, expr) in enumerate(exprs)
    ]
    rule_file = tmp_path / "dashboard_queries.yml"
    rule_file.write_text(
        json.dumps({"groups": [{"name": "dashboard", "rules": rules}]})
    )  # JSON is YAML
    _run(_tool("promtool"), "check", "rules", str(rule_file))


def test_dashboard_uses_the_provisioned_datasource():
    datasources = _load_yaml(DATASOURCES_YML)["datasources"]
    prometheus = [d for d in datasources if d["type"] == "prometheus"]
    assert len(prometheus) == 1 and prometheus[0]["url"] == "http://prometheus:9090"
    uid = prometheus[0]["uid"]
    dash = _dashboard()
    panels = _dashboard_panels(dash)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in panels:
        if panel.get("type") == "row":
            continue
        assert panel["datasource"]["uid"] == uid, panel.get("title")
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == uid, panel.get("title")


def test_prometheus_scrapes_both_workers_and_loads_alerts():
    config = _load_yaml(PROMETHEUS_YML)
    assert config["rule_files"] == ["alerts.yml"]
    targets = {
        target
        for job in config["scrape_configs"]
        if job["job_name"] == "antifraud"
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert targets == {"worker-1:6066", "worker-2:6066"}


def test_compose_stack():
    compose = _load_yaml(COMPOSE_YML)
    services = compose["services"]
    assert set(services) == COMPOSE_SERVICES

    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"

    kafka = services["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.0"
    assert "kafka-topics.sh" in " ".join(kafka["healthcheck"]["test"])
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"

    topics = services["topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    script = " ".join(topics["command"])
    for topic in CONTRACT_TOPICS:
        assert topic in script, f"topics service does not create {topic}"
    assert "--partitions 8" in script

    data_volumes = set()
    for name in ("worker-1", "worker-2"):
        worker = services[name]
        assert worker["build"]["dockerfile"] == "deploy/Dockerfile"
        assert worker["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        env = worker["environment"]
        assert env["ANTIFRAUD_BROKER"] == "kafka://kafka:9092"
        assert str(env["ANTIFRAUD_WEB_PORT"]) == "6066"
        data_dir = env["ANTIFRAUD_DATA_DIR"]
        mounts = [v for v in worker["volumes"] if v.split(":")[1] == data_dir]
        assert len(mounts) == 1, f"{name}: ANTIFRAUD_DATA_DIR {data_dir} is not a volume"
        data_volumes.add(mounts[0].split(":")[0])
        assert "/health" in " ".join(worker["healthcheck"]["test"])
    assert len(data_volumes) == 2, "the workers share a data volume"

    prometheus_mounts = {v.split(":")[1] for v in services["prometheus"]["volumes"]}
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"} <= prometheus_mounts

    grafana_mounts = {v.split(":")[0]: v.split(":")[1] for v in services["grafana"]["volumes"]}
    assert grafana_mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = _load_yaml(DASHBOARDS_YML)["providers"]
    assert providers[0]["options"]["path"] == grafana_mounts["./deploy/grafana/dashboards"]


def test_dockerfile():
    text = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"pip install \.(\s|$)", text)
    assert 'ENTRYPOINT ["antifraud"]' in text
    assert 'CMD ["worker"]' in text


def test_check_deploy_script_is_executable():
    script = REPO / "scripts" / "check-deploy"
    assert script.stat().st_mode & 0o111, "scripts/check-deploy is not executable"
    assert "set -euo pipefail" in script.read_text(encoding="utf-8")
