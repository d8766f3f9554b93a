"""`antifraud demo`: the whole platform on one machine, watched from the terminal.

An embedded broker, a real `antifraud worker` child process (the code operators run),
simulated banks and police (`antifraud.harness.traffic`: reports with their victims, revocations,
a sanctioned extend and sanctioned returns) and a simulated bank desk that acknowledges every
command (`return_funds` as `returned`). Each command the worker issues is shown as a table row, with
account numbers masked; a summary and a check of the contract's promises end it.

- verb.py: the `demo` verb and the run: start, traffic, drain, summary, stop;
- processes.py: the broker and the worker, started and stopped;
- watch.py: the commands and dead letters read back from the broker;
- contract.py: what the contract promised for each case, checked against what was read;
- narration.py: the lines shown while it runs; screen.py: how a line or a row is printed;
- summary.py: the closing summary, with the worker's own counters.
"""
