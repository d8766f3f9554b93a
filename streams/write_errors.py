"""What a failure while handling a record means, and so what the agent does next.

- `TRANSIENT`: the broker or its metadata, for now (a leader moving, too few in-sync
  replicas, a timeout). Retried, with a back-off, until it passes; the record is good.
- `RECORD`: the record itself cannot be written (it, or what it becomes, is over a size
  limit). Retrying cannot help: the record is dead-lettered, truncated if needed.
- `INFRASTRUCTURE`: a permanent error that is not the record's fault (an ACL, a missing or
  invalid topic, a broker that does not speak the protocol). Retrying at once cannot help
  and dead-lettering would lose a good record: the agent stops there, visibly (log, metric,
  /health), and tries again slowly, so fixing the cause resumes it.
- `BUG`: anything else: the record is dead-lettered `internal_error`, never lost.

aiokafka marks the errors worth retrying `retriable`; two it does not mark are transient
too: `KafkaTimeoutError` (what a send gets once the producer gave up retrying, e.g. after
too few replicas for its whole request timeout) and `ProducerClosed` (a worker stopping).
Faust wraps what aiokafka raises while queueing a send in `ProducerSendError`; the cause
is what counts.
"""

from __future__ import annotations

import enum

from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.exceptions import PartitionsMismatch, ProducerSendError


class Failure(enum.Enum):
    TRANSIENT = "transient"
    RECORD = "record"
    INFRASTRUCTURE = "infrastructure"
    BUG = "bug"


_TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)
_TRANSIENT_UNMARKED = (KafkaTimeoutError, ProducerClosed, PartitionsMismatch, TimeoutError)


def cause(exc: BaseException) -> BaseException:
    """The error under Faust's `ProducerSendError`."""
    while isinstance(exc, ProducerSendError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def classify(exc: BaseException) -> Failure:
    exc = cause(exc)
    if isinstance(exc, _TOO_LARGE):
        return Failure.RECORD
    if isinstance(exc, _TRANSIENT_UNMARKED):
        return Failure.TRANSIENT
    if isinstance(exc, KafkaError):
        return Failure.TRANSIENT if exc.retriable else Failure.INFRASTRUCTURE
    if isinstance(exc, ProducerSendError):
        # Faust's own refusal to send (no producer for a transaction): not the record's fault.
        return Failure.INFRASTRUCTURE
    return Failure.BUG


def describe(exc: BaseException) -> str:
    """`ErrorName: message` of the error that counts (for logs and dead letters)."""
    exc = cause(exc)
    return f"{type(exc).__name__}: {exc}"
