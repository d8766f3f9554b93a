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
from antifraud.streams.handling import handle_each

audit_out = topics.raw_topic(settings.topics.audit)

audit_heads = topics.bytes_table(
    "audit-heads",
    "Per chain: the last record appended, to resume the chain after a restart.",
)


@app.agent(topics.audit_entries)
async def audit_trail(stream: Any) -> None:
    await handle_each(stream, _append)


async def _append(event: Any) -> None:
    chain_id = f"chain-{event.message.partition}"
    head_key = chain_id.encode()
    head = audit_heads.get(head_key)
    chain = AuditChain.resume(orjson.loads(head) if head else None)
    record = chain.append(orjson.loads(event.value))
    record["chain"] = chain_id
    value = orjson.dumps(record)
    # Sent (queued) before the head moves: a send refused at once leaves the head where it
    # was, and the retry chains the same entry again. Its delivery is not waited for, or the
    # trail would go one broker round trip per record (see `emit.audit`).
    await audit_out.send(key=head_key, value=value)
    audit_heads[head_key] = value
