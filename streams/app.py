"""The one Faust app. Agents register themselves through `autodiscover` of the `agents` package."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from antifraud.core.authority import bindings_without_key, unbound_keys
from antifraud.streams.faust_internals.app_hooks import TunedApp
from antifraud.streams.faust_internals.bulk_recovery import make_table_manager
from antifraud.streams.kafka_security import aiokafka_security_options, faust_credentials
from antifraud.streams.local_state import (
    discard_if_unclean,
    mark_running,
    mark_stopped,
    record_assignment,
    recorded_assignment,
)
from antifraud.streams.settings import Settings, retired_variables_set
from antifraud.streams.table_preload import preload_tables
from antifraud.streams.topic_admin import ensure_topics

settings = Settings.from_env()


log = logging.getLogger("antifraud")


class AntifraudApp(TunedApp):
    fetch_max_wait_ms = settings.fetch_max_wait_ms  # streams/faust_internals/transport.py

    async def on_first_start(self) -> None:
        # Before any table is opened: see streams/local_state.py.
        datadir, tabledir = Path(self.conf.datadir), Path(self.conf.tabledir)
        discard_if_unclean(datadir, tabledir)
        await super().on_first_start()
        mark_running(datadir)

    async def on_shutdown(self) -> None:
        await super().on_shutdown()
        # Consumer stopped (offsets committed) and producer flushed by now: clean.
        mark_stopped(Path(self.conf.datadir))

    async def on_start(self) -> None:
        await super().on_start()
        if not settings.report_keys:
            log.warning(
                "event=unsigned_reports_accepted !!! ANTIFRAUD_REPORT_KEYS is not set: police "
                "reports are NOT verified and anyone who can write to %s can freeze accounts. "
                "Configure report keys before production use. !!!",
                settings.topics.reports,
            )
        _warn_about_key_bindings()
        for name, instead in retired_variables_set().items():
            log.warning("event=setting_retired variable=%s ignored=true use=%r", name, instead)
        # Before any consumer subscribes: see streams/topic_admin.py for why.
        security = aiokafka_security_options(settings.security)
        await ensure_topics(
            settings.bootstrap_servers,
            # The internal ones too: a consumer that joins before they exist is assigned
            # none of their partitions, and a broker that auto-creates them on first mention
            # would give them its own partition count (Faust's PartitionsMismatch).
            settings.topics.external() + settings.topics.internal(),
            settings.partitions,
            settings.replication_factor,
            security,
        )
        # And the tables' changelogs, compacted like Faust makes them: a worker that meets a
        # changelog its metadata does not know yet refuses every table write until the next
        # metadata refresh (minutes), which two workers starting together ran into.
        await ensure_topics(
            settings.bootstrap_servers,
            [table.changelog_topic.get_topic_name() for table in self.tables.values()],
            settings.partitions,
            settings.replication_factor,
            security,
            topic_config={"cleanup.policy": "compact"},
        )
        # The watchlist (one entry per account) and the case status (one per report id):
        # latest wins (contract, "Watchlist", "Cases"). Brokers without compaction (the
        # embedded one) accept the setting and keep every record.
        await ensure_topics(
            settings.bootstrap_servers,
            settings.topics.compacted(),
            settings.partitions,
            settings.replication_factor,
            security,
            topic_config={"cleanup.policy": "compact"},
        )
        # Serve /health and /metrics from the start, so "not ready yet" is a 503 an
        # orchestrator can see (streams/faust_internals/app_hooks.py).
        await self.start_web_server_now()
        if settings.preload_tables:
            # Before the group join, while /health says "recovering tables": see
            # streams/table_preload.py.
            last_assigned = recorded_assignment(Path(self.conf.datadir))
            await preload_tables(
                self.tables.values(), settings.bootstrap_servers, security, last_assigned
            )


def _warn_about_key_bindings() -> None:
    """CONTRACT.md, "Who may act": an unbound key signs for any issuer; say which ones are."""
    keys, bound = settings.report_keys, settings.report_key_issuers
    for key_id in unbound_keys(keys, bound):
        log.warning(
            "event=report_key_unbound key_id=%s: it signs for any issuer; bind it to one in "
            "ANTIFRAUD_REPORT_KEY_ISSUERS",
            key_id,
        )
    for key_id in bindings_without_key(keys, bound):
        log.warning("event=report_key_binding_unused key_id=%s: no such report key", key_id)


app = AntifraudApp(
    settings.app_id,
    broker=settings.broker,
    broker_credentials=faust_credentials(settings.security),
    store=settings.store,
    datadir=settings.data_dir,
    autodiscover=["antifraud.agents"],
    origin="antifraud.streams",
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    topic_allow_declare=True,
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=settings.heartbeat_interval,
    broker_commit_interval=1.0,
    consumer_auto_offset_reset="earliest",
    producer_acks=-1,
    producer_linger_ms=2,
    # A bundle's state writes (up to ~1,000 records of ~600 bytes, all to one changelog
    # partition) fit in one batch: aiokafka keeps one batch per partition open behind one
    # in flight, so with its 16 KiB default the agent waited a broker round trip every ~27
    # records. Kept under the broker's default message.max.bytes (1,048,588).
    producer_max_batch_size=1_000_000,
    # At-least-once plus deterministic command ids: Faust's exactly_once has open
    # duplicate/crash bugs (see README, "Delivery guarantees").
    processing_guarantee="at_least_once",
    web_host=settings.web_host,
    web_port=settings.web_port,
    # Faust's table, router and graph views would expose identifiers: off.
    web_tables_enabled=False,
    # Partitions taken over after a rebalance are loaded in bulk
    # (streams/faust_internals/bulk_recovery.py).
    TableManager=make_table_manager(
        settings.bootstrap_servers,
        aiokafka_security_options(settings.security),
        enabled=settings.preload_tables,
    ),
    web_router_enabled=False,
    web_graph_enabled=False,
    web_stats_enabled=False,
    table_standby_replicas=0,
)


@app.on_partitions_assigned.connect
async def _remember_assignment(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    # Every topic has the same partition count, so Faust's assignor gives a worker the same
    # partition numbers of every topic and table: one set describes them all.
    (assigned,) = args  # the whole new assignment
    record_assignment(Path(app.conf.datadir), {tp.partition for tp in assigned})
