"""Create the contract's topics when they are missing, with our partition count.

The embedded broker auto-creates a topic with 4 partitions the first time anyone
asks about it; creating ours first, with the configured count, keeps every worker
and every bank client seeing the same layout.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int,
    replication_factor: int,
    client_options: dict[str, Any] | None = None,
    topic_config: dict[str, str] | None = None,
) -> list[str]:
    """Create the missing topics among `names`; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(client_options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return []
        # Another worker may win the race: the topic is then there, which is all we need.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(name, partitions, replication_factor, topic_configs=topic_config)
                    for name in missing
                ]
            )
        log.info("event=topics_created topics=%s partitions=%d", ",".join(missing), partitions)
        return missing
    finally:
        await admin.close()
