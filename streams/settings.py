"""One settings object, fed by environment variables (flags may mirror them).

Every name, default and meaning is listed in README.md, "Configuration".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from antifraud.core.authority import parse_issuers, parse_key_issuers
from antifraud.core.bank_directory import BankDirectory
from antifraud.core.business_days import (
    DEFAULT_COUNTRY,
    DEFAULT_LIFETIME_BUSINESS_DAYS,
    DEFAULT_TIME_ZONE,
    BusinessCalendar,
)
from antifraud.core.policy import DEFAULT_CARVE_OUTS, Policy
from antifraud.core.signatures import load_key_file, parse_report_keys


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value if value else default


# Variables an earlier version read, and what replaced them: the worker warns when one is set,
# so an operator does not believe a setting applies that no longer does.
RETIRED_VARIABLES = {
    "ANTIFRAUD_COMMAND_LIFETIME_HOURS": "ANTIFRAUD_HOLD_BUSINESS_DAYS (business days of "
    "ANTIFRAUD_CALENDAR_COUNTRY in ANTIFRAUD_TIME_ZONE)",
}


def retired_variables_set(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The retired variables set in `env` (default: the process's), with their replacements."""
    e = os.environ if env is None else env
    return {name: instead for name, instead in RETIRED_VARIABLES.items() if e.get(name, "").strip()}


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Topics:
    transfers: str = "antifraud.transfers"
    reports: str = "antifraud.reports"
    bank_acks: str = "antifraud.bank-acks"
    bank_commands: str = "antifraud.bank-commands"
    dead_letter: str = "antifraud.dead-letter"
    audit: str = "antifraud.audit"
    # compacted, created apart from the others for their cleanup policy (`compacted`): one
    # entry per watched account (contract, "Watchlist"), the latest status per report id
    # (contract, "Cases")
    watchlist: str = "antifraud.watchlist"
    case_status: str = "antifraud.case-status"
    # internal: the identifier-keyed stream, the report registry, the command ledger, the
    # money of each hold and freeze (by command id) and the cases (by report id)
    identifier_events: str = "antifraud.internal.identifier-events"
    report_events: str = "antifraud.internal.report-events"
    ledger_events: str = "antifraud.internal.ledger-events"
    audit_entries: str = "antifraud.internal.audit-entries"
    money_events: str = "antifraud.internal.money-events"
    case_events: str = "antifraud.internal.case-events"

    def internal(self) -> tuple[str, ...]:
        return (
            self.identifier_events,
            self.report_events,
            self.ledger_events,
            self.audit_entries,
            self.money_events,
            self.case_events,
        )

    def compacted(self) -> tuple[str, ...]:
        """Contract topics where only the latest record per key matters."""
        return (self.watchlist, self.case_status)

    def external(self) -> tuple[str, ...]:
        return (
            self.transfers,
            self.reports,
            self.bank_acks,
            self.bank_commands,
            self.dead_letter,
            self.audit,
        )


@dataclass(frozen=True)
class Security:
    """Kafka client security; empty means PLAINTEXT."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""


@dataclass(frozen=True)
class Settings:
    broker: str = "kafka://localhost:9092"
    web_host: str = "0.0.0.0"
    web_port: int = 6066
    data_dir: str = "./antifraud-data"
    store: str = "rocksdb://"
    app_id: str = "antifraud"
    partitions: int = 8
    replication_factor: int = 1
    report_keys_spec: str = field(default="", repr=False)
    report_key_file: str = ""
    report_key_issuers_spec: str = ""
    supervisory_issuers_spec: str = ""
    bank_directory_file: str = ""
    max_record_bytes: int = 1024 * 1024
    session_timeout: float = 10.0
    heartbeat_interval: float = 1.0
    per_bank_topics: bool = False
    fetch_max_wait_ms: int = 100
    batch_size: int = 500
    batch_window_ms: int = 10
    preload_tables: bool = True
    watchlist_gauge: bool = True
    log_level: str = "info"
    # /health answers 503 once a partition with records waiting has not moved for this long,
    # or writes have been failing this long (streams/progress.py).
    health_stall_seconds: float = 30.0
    health_write_failure_seconds: float = 30.0
    # The case console (`antifraud console`, tools/console/): where it listens and the bearer
    # tokens it accepts; the reveal token may also see full account numbers (each reveal is
    # written to the audit trail).
    console_host: str = "127.0.0.1"
    console_port: int = 6070
    console_token: str = field(default="", repr=False)
    console_reveal_token: str = field(default="", repr=False)
    topics: Topics = field(default_factory=Topics)
    policy: Policy = field(default_factory=Policy)
    security: Security = field(default_factory=Security)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        carve_outs = _env(e, "ANTIFRAUD_CARVE_OUT_PURPOSES", ",".join(sorted(DEFAULT_CARVE_OUTS)))
        app_id = _env(e, "ANTIFRAUD_APP_ID", "antifraud")
        # Internal topics carry the app id, like Faust's changelogs: two apps never share them.
        internal = f"{app_id}.internal"
        return cls(
            broker=_env(e, "ANTIFRAUD_BROKER", "kafka://localhost:9092"),
            web_host=_env(e, "ANTIFRAUD_WEB_HOST", "0.0.0.0"),
            web_port=int(_env(e, "ANTIFRAUD_WEB_PORT", "6066")),
            data_dir=_env(e, "ANTIFRAUD_DATA_DIR", "./antifraud-data"),
            store=_env(e, "ANTIFRAUD_STORE", "rocksdb://"),
            app_id=app_id,
            partitions=int(_env(e, "ANTIFRAUD_PARTITIONS", "8")),
            replication_factor=int(_env(e, "ANTIFRAUD_REPLICATION_FACTOR", "1")),
            report_keys_spec=_env(e, "ANTIFRAUD_REPORT_KEYS", ""),
            report_key_file=_env(e, "ANTIFRAUD_REPORT_KEY_FILE", ""),
            report_key_issuers_spec=_env(e, "ANTIFRAUD_REPORT_KEY_ISSUERS", ""),
            supervisory_issuers_spec=_env(e, "ANTIFRAUD_SUPERVISORY_ISSUERS", ""),
            bank_directory_file=_env(e, "ANTIFRAUD_BANK_DIRECTORY", ""),
            max_record_bytes=int(_env(e, "ANTIFRAUD_MAX_RECORD_BYTES", str(1024 * 1024))),
            session_timeout=float(_env(e, "ANTIFRAUD_SESSION_TIMEOUT", "10")),
            heartbeat_interval=float(_env(e, "ANTIFRAUD_HEARTBEAT_INTERVAL", "1")),
            per_bank_topics=_bool(_env(e, "ANTIFRAUD_PER_BANK_TOPICS", "false")),
            fetch_max_wait_ms=int(_env(e, "ANTIFRAUD_FETCH_MAX_WAIT_MS", "100")),
            batch_size=int(_env(e, "ANTIFRAUD_BATCH_SIZE", "500")),
            batch_window_ms=int(_env(e, "ANTIFRAUD_BATCH_WINDOW_MS", "10")),
            preload_tables=_bool(_env(e, "ANTIFRAUD_PRELOAD_TABLES", "true")),
            watchlist_gauge=_bool(_env(e, "ANTIFRAUD_WATCHLIST_GAUGE", "true")),
            log_level=_env(e, "ANTIFRAUD_LOG_LEVEL", "info"),
            health_stall_seconds=float(_env(e, "ANTIFRAUD_HEALTH_STALL_SECONDS", "30")),
            health_write_failure_seconds=float(
                _env(e, "ANTIFRAUD_HEALTH_WRITE_FAILURE_SECONDS", "30")
            ),
            console_host=_env(e, "ANTIFRAUD_CONSOLE_HOST", "127.0.0.1"),
            console_port=int(_env(e, "ANTIFRAUD_CONSOLE_PORT", "6070")),
            console_token=_env(e, "ANTIFRAUD_CONSOLE_TOKEN", ""),
            console_reveal_token=_env(e, "ANTIFRAUD_CONSOLE_REVEAL_TOKEN", ""),
            topics=Topics(
                transfers=_env(e, "ANTIFRAUD_TOPIC_TRANSFERS", Topics.transfers),
                reports=_env(e, "ANTIFRAUD_TOPIC_REPORTS", Topics.reports),
                bank_acks=_env(e, "ANTIFRAUD_TOPIC_BANK_ACKS", Topics.bank_acks),
                bank_commands=_env(e, "ANTIFRAUD_TOPIC_BANK_COMMANDS", Topics.bank_commands),
                dead_letter=_env(e, "ANTIFRAUD_TOPIC_DEAD_LETTER", Topics.dead_letter),
                audit=_env(e, "ANTIFRAUD_TOPIC_AUDIT", Topics.audit),
                watchlist=_env(e, "ANTIFRAUD_TOPIC_WATCHLIST", Topics.watchlist),
                case_status=_env(e, "ANTIFRAUD_TOPIC_CASE_STATUS", Topics.case_status),
                identifier_events=f"{internal}.identifier-events",
                report_events=f"{internal}.report-events",
                ledger_events=f"{internal}.ledger-events",
                audit_entries=f"{internal}.audit-entries",
                money_events=f"{internal}.money-events",
                case_events=f"{internal}.case-events",
            ),
            policy=Policy(
                lookback_seconds=float(_env(e, "ANTIFRAUD_LOOKBACK_HOURS", "72")) * 3600,
                hop_limit=int(_env(e, "ANTIFRAUD_HOP_LIMIT", "3")),
                min_follow_amount=int(_env(e, "ANTIFRAUD_MIN_FOLLOW_AMOUNT", "1")),
                calendar=BusinessCalendar(
                    country=_env(e, "ANTIFRAUD_CALENDAR_COUNTRY", DEFAULT_COUNTRY),
                    time_zone=_env(e, "ANTIFRAUD_TIME_ZONE", DEFAULT_TIME_ZONE),
                ),
                lifetime_business_days=int(
                    _env(e, "ANTIFRAUD_HOLD_BUSINESS_DAYS", str(DEFAULT_LIFETIME_BUSINESS_DAYS))
                ),
                carve_out_purposes=frozenset(p.strip() for p in carve_outs.split(",") if p.strip()),
                ack_sla_seconds=float(_env(e, "ANTIFRAUD_ACK_SLA_SECONDS", "60")),
                max_transfers_per_identifier=int(
                    _env(e, "ANTIFRAUD_MAX_TRANSFERS_PER_IDENTIFIER", "1000")
                ),
            ),
            security=Security(
                protocol=_env(e, "ANTIFRAUD_SECURITY_PROTOCOL", "PLAINTEXT").upper(),
                sasl_mechanism=_env(e, "ANTIFRAUD_SASL_MECHANISM", "SCRAM-SHA-512"),
                sasl_username=_env(e, "ANTIFRAUD_SASL_USERNAME", ""),
                sasl_password=_env(e, "ANTIFRAUD_SASL_PASSWORD", ""),
                ssl_cafile=_env(e, "ANTIFRAUD_SSL_CAFILE", ""),
                ssl_certfile=_env(e, "ANTIFRAUD_SSL_CERTFILE", ""),
                ssl_keyfile=_env(e, "ANTIFRAUD_SSL_KEYFILE", ""),
            ),
        )

    @cached_property
    def report_keys(self) -> dict[str, bytes]:
        keys = parse_report_keys(self.report_keys_spec)
        if self.report_key_file:
            from_file = load_key_file(self.report_key_file)
            clash = sorted(set(keys) & set(from_file))
            if clash:
                # Two secrets for one key id: refuse rather than silently pick one.
                raise ValueError(f"report key ids set twice (env and key file): {clash}")
            keys.update(from_file)
        return keys

    @cached_property
    def report_key_issuers(self) -> dict[str, str]:
        """The issuer each bound report key signs for (CONTRACT.md, "Who may act")."""
        return parse_key_issuers(self.report_key_issuers_spec)

    @cached_property
    def supervisory_issuers(self) -> frozenset[str]:
        """Issuers that may revoke, extend or return any unit's report."""
        return parse_issuers(self.supervisory_issuers_spec)

    @cached_property
    def bank_directory(self) -> BankDirectory:
        return BankDirectory.load(self.bank_directory_file or None)

    @property
    def bootstrap_servers(self) -> str:
        return bootstrap_servers(self.broker)


def bootstrap_servers(broker_url: str) -> str:
    """`kafka://h1:9092;h2:9092` (Faust's form) -> `h1:9092,h2:9092` for plain Kafka clients."""
    hosts = broker_url.replace("kafka://", "").replace(";", ",")
    return ",".join(h.strip() for h in hosts.split(",") if h.strip())


def broker_url(bootstrap: str) -> str:
    """`h1:9092,h2:9092` -> `kafka://h1:9092;h2:9092`, the form Faust and ANTIFRAUD_BROKER take."""
    return "kafka://" + ";".join(h.strip() for h in bootstrap.split(",") if h.strip())
