"""The benches: `antifraud bench`, `bench-state`, `bench-busy` and `bench-watchlist` (a bank's
replica at national scale: watchlist.py), one module a job.

`antifraud bench` (verb.py) runs one broker, one preloaded data set and three phases:

1. **baseline** (baseline.py): a plain aiokafka consumer/producer loop doing the same
   per-record work as intake + matching at their cheapest (decode and validate with
   `core.intake.parse_transfer`, look the recipient up in a dict of watched identifiers,
   produce hold commands for hits, `getmany`, commit per batch after the sends are
   acknowledged);
2. **worker** (worker_run.py): a real `antifraud worker` child process (exactly what
   operators run), or `--workers N` of them in one group, consumes the same preloaded
   transfers; done when the group's committed offsets reach the end of
   `antifraud.transfers` and of the internal identifier stream, and every expected
   `hold_transfer` is on `antifraud.bank-commands` (CPU is then the workers' sum, RSS the
   largest worker's);
3. **latency** (latency.py): transfers offered at `--rate` per second; for each one that hits
   a reported account, the time from its send to its first hold command being readable by a
   bank (bank_side.py).

Between 1 and 2, the same transfers' domain work alone (domain.py: parse, and both
identifiers' state read, applied and written in RocksDB, no Kafka, no Faust) gives
`ratio_ceiling_per_cpu`, the best per-CPU ratio any worker keeping that state could reach.

The data set and its preload: dataset.py, preload.py. Figures: figures.py, plot.py.
Profile the worker during phase 2 with `ANTIFRAUD_BENCH_PROFILE=FILE.svg` (profiler.py).

What every bench shares, and a new one (a peer engine's run on the same data) imports:
runner.py (a given or an embedded broker, progress on stderr, the figures as the last
stdout line), measure.py (CPU and memory of processes), dataset.py, preload.py,
bank_side.py, domain.py.
"""
