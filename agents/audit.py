"""The audit trail: every decision appended to `antifraud.audit` as a hash-chained record.

One chain per partition of the internal audit-entries topic, so each chain has a
single writer; the chain's head lives in a table and survives restarts.
"""

from __future__ import annotations

from typing import Any

import orjson

from antifraud.core.audit_chain import AuditChain
from antifraud.streams import topics
from antifraud.streams.app import app, settings
from antifraud.streams.emit import Deliveries, delivered, write
from antifraud.streams.faust_internals.current_event import current_event_set
from antifraud.streams.handling import handle_batches
from antifraud.streams.staged import Staged

audit_out = topics.raw_topic(settings.topics.audit)

audit_heads = topics.bytes_table(
    "audit-heads",
    "Per chain: the last record appended, to resume the chain after a restart.",
)


@app.agent(topics.audit_entries)
async def audit_trail(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, settings.batch_window_ms / 1000, _append)


async def _append(events: list[Any]) -> None:
    heads: Staged[bytes] = Staged(audit_heads, lambda key, raw: raw or b"", lambda value: value)
    chains: dict[bytes, AuditChain] = {}
    sent: Deliveries = []
    for event in events:
        chain_id = f"chain-{event.message.partition}"
        head_key = chain_id.encode()
        chain = chains.get(head_key)
        if chain is None:
            head = heads[head_key]
            chain = chains[head_key] = AuditChain.resume(orjson.loads(head) if head else None)
        record = chain.append(orjson.loads(event.value))
        record["chain"] = chain_id
        value = orjson.dumps(record)
        sent.append(await write(audit_out, head_key, value))
        with current_event_set(event):
            heads[head_key] = value
    # On the audit topic before the heads say they are: a head ahead of the topic would chain
    # the next record to one never written. One wait for the batch, not one per entry.
    await delivered(sent)
    heads.write_back()
