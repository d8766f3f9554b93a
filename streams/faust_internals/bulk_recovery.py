"""6. Recovery of partitions taken over (tests/streams/faust_internals/test_bulk_recovery.py).

After a rebalance Faust replays each assigned table partition from its file's persisted
offset, record by record (about 6,000 records/s). A partition taken over from a worker that
died is behind by all that worker wrote since: minutes for a busy hour, during which that
partition's holds wait. Our recovery first loads every active partition at least
`BULK_RECOVERY_MIN_RECORDS` behind in bulk (streams/table_preload.py), into the files Faust
has open and with the persisted offset after the data, and moves Faust's start offset along
with each write; then Faust's own step runs from there. Nothing else changes: Faust still
computes the highwaters, seeks, replays what is left and resumes the streams; if the bulk
load fails or is cut short (a new rebalance, Faust's step timeout), Faust replays from
wherever it got. The end-to-end proof is tests/integration/test_recovery.py.
"""

from __future__ import annotations

import logging
from typing import Any

from faust.tables import TableManager
from faust.tables.recovery import Recovery

from antifraud.streams.table_preload import recover_in_bulk

log = logging.getLogger("antifraud")


def make_table_manager(
    bootstrap: str, client_options: dict[str, Any], enabled: bool = True
) -> type[TableManager]:
    """Faust's table manager, with a recovery that loads far-behind partitions in bulk
    when `enabled` (ANTIFRAUD_PRELOAD_TABLES)."""

    class BulkRecovery(Recovery):
        async def _build_offsets(
            self, consumer: Any, tps: Any, destination: Any, title: str
        ) -> None:
            if enabled and title == "active" and tps:
                try:
                    await recover_in_bulk(
                        {tp: self.tp_to_table[tp] for tp in tps},
                        destination,
                        self.active_highwaters,
                        bootstrap,
                        client_options,
                    )
                except Exception as exc:  # Faust replays from wherever the load got
                    log.warning(
                        "event=table_bulk_recovery_failed action=left_to_faust_recovery",
                        exc_info=exc,
                    )
            await super()._build_offsets(consumer, tps, destination, title)

    class BulkRecoveryTableManager(TableManager):
        @property
        def recovery(self) -> Recovery:
            if self._recovery is None:
                self._recovery = BulkRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
            return self._recovery

    return BulkRecoveryTableManager
