"""The tools around the worker: bench and its phases, demo, simulate, sign, audit verify, broker.

The worker never imports these."""
