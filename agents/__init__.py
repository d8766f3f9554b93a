"""Faust agents, discovered by `streams.app`. Each is thin: read, call the core, write."""
