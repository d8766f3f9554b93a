"""Faust agents, discovered by `antifraud.streams.app`. Each is thin: read, call the core, write."""
