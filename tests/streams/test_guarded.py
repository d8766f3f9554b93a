"""A record is done only once its effects or its dead letter are written (streams/emit.py,
streams/handling.py): passing trouble is retried, a record that cannot be written is
dead-lettered (truncated when needed), one that cannot be written either way stops its agent
visibly and is never acked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from aiokafka.errors import (
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    TopicAuthorizationFailedError,
)
from faust.exceptions import ProducerSendError

from antifraud.core.intake import Rejected
from antifraud.streams import emit, handling, metrics, progress, topics


class Refuse:
    """A send that aiokafka refuses at once (Faust wraps it)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class FakeTopic:
    """Records sends; each delivery succeeds unless the script says otherwise."""

    def __init__(self, *script: BaseException | Refuse | None) -> None:
        self.script = list(script)
        self.failing: BaseException | None = None  # every delivery fails so, while set
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.delivered: list[bytes] = []

    async def send(self, key: bytes | None, value: bytes, partition: int | None = None) -> Any:
        outcome = self.script.pop(0) if self.script else self.failing
        if isinstance(outcome, Refuse):
            raise ProducerSendError("Error while sending") from outcome.exc
        self.sent.append((key, value))
        delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if outcome is None:
            delivery.set_result(None)
            self.delivered.append(value)
        else:
            delivery.set_exception(outcome)
        return delivery


def record(offset: int = 7, value: bytes = b"{}", key: bytes | None = b"T-1") -> Any:
    message = SimpleNamespace(topic="antifraud.transfers", partition=2, offset=offset, key=key)
    return SimpleNamespace(message=message, value=value)


@contextmanager
def wired(dead_letters: FakeTopic | None = None) -> Iterator[SimpleNamespace]:
    """emit's output topics replaced, its back-off made instant."""
    out = SimpleNamespace(
        dead_letters=dead_letters or FakeTopic(), audit=FakeTopic(), effects=FakeTopic()
    )
    with (
        patch.object(topics, "dead_letters", out.dead_letters),
        patch.object(topics, "audit_entries", out.audit),
        patch.object(emit, "FIRST_RETRY", 0.001),
        patch.object(emit, "LAST_RETRY", 0.001),
        # Records other tests left stuck are not this test's (the registry is the process's).
        patch.dict(progress._stuck, clear=True),
    ):
        progress.writes.succeeded()
        yield out


async def until(condition: Any, seconds: float = 5.0) -> None:
    """Wait until `condition()` holds (a loaded machine runs the task later than a quiet one)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


def letters(topic: FakeTopic) -> list[dict[str, Any]]:
    return [orjson.loads(value) for value in topic.delivered]


def failures(kind: str) -> float:
    value = metrics.REGISTRY.get_sample_value("antifraud_write_failures_total", {"kind": kind})
    return value or 0.0


def writing(topic: FakeTopic, fail_first: int = 0, exc: BaseException | None = None) -> Any:
    """A handler that writes one effect; the first `fail_first` calls raise `exc` instead."""
    calls = []

    async def handle(event: Any) -> None:
        calls.append(event.message.offset)
        if len(calls) <= fail_first:
            assert exc is not None
            raise exc
        await emit.write(topic, b"k", b"effect")

    handle.calls = calls  # type: ignore[attr-defined]
    return handle


def test_the_broker_s_passing_trouble_is_retried_and_nothing_is_dead_lettered() -> None:
    before = failures("transient")
    with wired() as out:
        handle = writing(out.effects, fail_first=2, exc=NotEnoughReplicasError())
        asyncio.run(emit.guarded(record(), handle))
    assert handle.calls == [7, 7, 7]
    assert out.effects.delivered == [b"effect"] and out.dead_letters.sent == []
    assert failures("transient") - before == 2


def test_a_delivery_that_fails_is_waited_for_and_the_record_tried_again() -> None:
    effects = FakeTopic(NotEnoughReplicasError())  # the first delivery fails later, not the send
    with wired() as out:
        handle = writing(effects)
        asyncio.run(emit.guarded(record(), handle))
    assert handle.calls == [7, 7]
    assert effects.delivered == [b"effect"] and out.dead_letters.sent == []


def test_a_record_too_large_to_write_is_dead_lettered_too_large() -> None:
    size = Refuse(MessageSizeTooLargeError("The message is 1040123 bytes"))
    with wired() as out:
        asyncio.run(emit.guarded(record(), writing(FakeTopic(size))))
    [letter] = letters(out.dead_letters)
    assert letter["error"]["code"] == "too_large"
    assert "MessageSizeTooLargeError" in letter["error"]["message"]
    assert letter["source"] == {
        "topic": "antifraud.transfers",
        "partition": 2,
        "offset": 7,
        "key": "T-1",
    }


def test_a_rejected_record_and_a_bug_are_dead_lettered_with_their_codes() -> None:
    async def rejected(event: Any) -> None:
        raise Rejected("schema_violation", "amount: must be >= 1")

    async def bug(event: Any) -> None:
        raise ValueError("year 10000 is out of range")

    with wired() as out:
        asyncio.run(emit.guarded(record(1), rejected))
        asyncio.run(emit.guarded(record(2), bug))
    assert [(d["error"]["code"], d["source"]["offset"]) for d in letters(out.dead_letters)] == [
        ("schema_violation", 1),
        ("internal_error", 2),
    ]


def test_a_dead_letter_the_broker_refuses_as_too_large_is_sent_again_truncated() -> None:
    # The topic's own limit below the producer's: the whole fits our measure, not the broker's.
    raw = b'{"pad": "' + b"y" * 500_000
    with wired(FakeTopic(MessageSizeTooLargeError())) as out:
        asyncio.run(emit.guarded(record(value=raw), writing(FakeTopic(), 1, ValueError("bug"))))
    whole, short = (orjson.loads(value) for _, value in out.dead_letters.sent)
    assert "payload_truncated" not in whole and whole["payload"] == raw.decode()
    assert short["payload_truncated"] is True and short["payload_bytes"] == len(raw)
    assert letters(out.dead_letters) == [short]


def test_a_record_written_neither_way_stops_its_agent_visibly_and_is_never_skipped() -> None:
    async def scenario(out: SimpleNamespace) -> None:
        task = asyncio.ensure_future(emit.guarded(record(), writing(FakeTopic(), 1, ValueError())))
        await until(lambda: bool(progress._stuck))
        await asyncio.sleep(0.2)  # and it stays there: retried, never given up
        assert not task.done(), "guarded gave up on a record it could not write"
        assert progress._stuck == {("antifraud.transfers", 2): 7}
        out.dead_letters.failing = None  # the operator raises the topic's limit
        await asyncio.wait_for(task, 5)
        assert progress._stuck == {}

    never_fits = FakeTopic()
    never_fits.failing = MessageSizeTooLargeError()  # whole or truncated, the broker refuses
    with wired(never_fits) as out:
        asyncio.run(scenario(out))
    assert len(letters(out.dead_letters)) == 1


def test_a_permanent_error_not_caused_by_the_record_stops_visibly_without_a_dead_letter() -> None:
    before = failures("infrastructure")
    acl = {"fixed": False}

    async def handle(event: Any) -> None:
        if not acl["fixed"]:
            raise ProducerSendError("x") from TopicAuthorizationFailedError()
        await emit.write(out.effects, b"k", b"effect")

    async def scenario() -> None:
        task = asyncio.ensure_future(emit.guarded(record(), handle))
        await until(lambda: progress.writes.failing_since is not None)
        await asyncio.sleep(0.1)
        assert not task.done()
        assert progress.writes.failing_since is not None  # /health counts from here
        acl["fixed"] = True  # the operator fixes the ACL: the same record goes on
        await asyncio.wait_for(task, 5)

    with wired() as out:
        asyncio.run(scenario())
    assert out.dead_letters.sent == [] and out.effects.delivered == [b"effect"]
    assert failures("infrastructure") - before >= 2
    assert progress.writes.failing_since is None  # the success cleared it


def test_a_batch_that_fails_because_of_one_record_is_handled_one_by_one() -> None:
    poison, good = record(5, b"poison"), [record(offset) for offset in (4, 6, 8)]

    async def handle(events: list[Any]) -> None:
        for event in events:
            size = 10**6 if event.value == b"poison" else 10
            await emit.write(out.effects, None, b"x" * size)
        if any(e.value == b"poison" for e in events):
            raise ProducerSendError("x") from MessageSizeTooLargeError()

    with wired() as out:
        asyncio.run(emit.guarded_batch([good[0], poison, *good[1:]], handle))
    [letter] = letters(out.dead_letters)
    assert letter["error"]["code"] == "too_large" and letter["source"]["offset"] == 5
    assert len([v for v in out.effects.delivered if len(v) == 10]) >= 3


class FakeStream:
    """What `handle_each` uses of a Faust stream: manual acks."""

    def __init__(self, events: list[Any]) -> None:
        self.events_ = events
        self.acked: list[int] = []

    def noack(self) -> FakeStream:
        return self

    async def events(self) -> AsyncIterator[Any]:
        for event in self.events_:
            yield event

    async def ack(self, event: Any) -> None:
        self.acked.append(event.message.offset)


def test_records_are_acked_only_once_done_and_never_when_the_agent_stops_midway() -> None:
    stream = FakeStream([record(1), record(2), record(3)])
    release = asyncio.Event()

    async def handle(event: Any) -> None:
        if event.message.offset == 2:
            await release.wait()  # a broker that does not answer

    async def scenario() -> None:
        task = asyncio.ensure_future(handling.handle_each(stream, handle))
        await asyncio.sleep(0.05)
        assert stream.acked == [1]
        task.cancel()  # the worker stops while record 2 is not written
        with pytest.raises(asyncio.CancelledError):
            await task

    with wired():
        asyncio.run(scenario())
    assert stream.acked == [1]


def test_a_retry_that_passes_clears_the_failing_writes_even_when_it_wrote_nothing() -> None:
    calls = []

    async def handle(event: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ProducerSendError("x") from NotEnoughReplicasError()

    with wired():
        asyncio.run(emit.guarded(record(), handle))
    assert len(calls) == 2
    assert progress.writes.failing_since is None  # an idle worker is not left "failing"
