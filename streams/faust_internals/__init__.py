"""Every use of Faust's private API, one module per item, each with its test under
tests/streams/faust_internals/ (the same name, `test_` in front).

Faust (faust-streaming 0.15) is used as a library everywhere else; here we override or
reach into what it does not promise to keep. Each item says what it changes, why, and
what of Faust's at-least-once, offset and rebalance behaviour it keeps; its test proves
that. Delivery, acks and rebalances under all of them together are exercised end to end
by the integration suite (every worker there runs with them) and by the fault tests
(tests/integration/test_faults.py).

1. `transport`: the consumer's fetch wait is a setting; assembles the transport with 2-4.
2. `producer_buffer`: the producer's flush waits until every queued record has left.
3. `seek`: the seek after a rebalance stops the flow first, and rewinds never-committed
   partitions to their beginning.
4. `handoff`: a record is handed to its agents without three tasks when nothing can wait.
5. `direct_table`: table writes past Faust's per-key layers (`DirectTable`).
6. `bulk_recovery`: partitions taken over after a rebalance are loaded in bulk
   (streams/table_preload.py), then Faust's own recovery runs.
7. `table_files`: Faust's RocksDB table files, as its store lays them out (for 5. and 6.
   and the preload before the group join).
8. `sensor`: Faust's Prometheus sensor, with each labelled series looked up once.
9. `app_hooks`: the app's transport and the early start of its web server.
10. `probes`: what /health and the lag timer read of Faust's consumer (read and committed
    offsets, the last fetch answered) and recovery.
11. `current_event`: the event a table write belongs to, set per record of a batch
    (streams/staged.py), so each changelog record goes to its record's partition.

Nothing outside this package touches a private attribute of another object: ruff's
SLF001 is on for core/, agents/ and streams/, and off only here (pyproject.toml).
"""
