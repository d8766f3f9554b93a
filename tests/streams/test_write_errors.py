"""Which failures are retried, dead-lettered, or stop the worker visibly (streams/write_errors.py)."""

from __future__ import annotations

import inspect

import pytest
from aiokafka import errors
from faust.exceptions import PartitionsMismatch, ProducerSendError

from antifraud.streams.write_errors import Failure, classify, describe


def wrapped(exc: BaseException) -> ProducerSendError:
    """What Faust raises when aiokafka refuses a send while queueing it."""
    try:
        raise ProducerSendError(f"Error while sending: {exc!r}") from exc
    except ProducerSendError as outer:
        return outer


@pytest.mark.parametrize(
    "exc",
    [
        errors.MessageSizeTooLargeError(),
        errors.RecordTooLargeError(),
        errors.RecordListTooLargeError(),
        wrapped(errors.MessageSizeTooLargeError("The message is 1040123 bytes")),
    ],
)
def test_a_record_over_a_size_limit_is_the_record_s_fault(exc: BaseException) -> None:
    assert classify(exc) is Failure.RECORD


@pytest.mark.parametrize(
    "exc",
    [
        errors.NotEnoughReplicasError(),
        errors.NotEnoughReplicasAfterAppendError(),
        errors.NotLeaderForPartitionError(),
        errors.RequestTimedOutError(),
        errors.KafkaConnectionError(),
        # not marked retriable by aiokafka, yet passing: the producer gave up retrying, or stops
        errors.KafkaTimeoutError(),
        errors.ProducerClosed(),
        wrapped(errors.KafkaTimeoutError()),
        PartitionsMismatch(),
        TimeoutError(),
    ],
)
def test_the_broker_s_passing_trouble_is_transient(exc: BaseException) -> None:
    assert classify(exc) is Failure.TRANSIENT


def test_every_error_aiokafka_marks_retriable_is_transient() -> None:
    retriable = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.KafkaError) and cls.retriable
    ]
    assert len(retriable) > 10
    for cls in retriable:
        assert classify(cls()) is Failure.TRANSIENT, cls


@pytest.mark.parametrize(
    "exc",
    [
        errors.TopicAuthorizationFailedError(),
        errors.ClusterAuthorizationFailedError(),
        errors.UnsupportedVersionError(),
        errors.InvalidTopicError(),
        wrapped(errors.TopicAuthorizationFailedError()),
        ProducerSendError("No transaction producer found for : x"),
    ],
)
def test_a_permanent_error_not_caused_by_the_record_stops_rather_than_dead_letters(
    exc: BaseException,
) -> None:
    assert classify(exc) is Failure.INFRASTRUCTURE


@pytest.mark.parametrize("exc", [ValueError("year 10000 is out of range"), KeyError("x")])
def test_anything_else_is_a_bug(exc: BaseException) -> None:
    assert classify(exc) is Failure.BUG


def test_the_cause_under_faust_s_wrapper_is_what_is_described() -> None:
    exc = wrapped(errors.MessageSizeTooLargeError("The message is 1040123 bytes"))
    assert describe(exc).startswith("MessageSizeTooLargeError: ")
    assert "1040123" in describe(exc)
