"""Business metrics, on the same registry as Faust's own Prometheus sensor.

Labels are low-cardinality on purpose: topic, outcome, code, command type,
reason, fraud type, bank BIC. Never an account number.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Event time to emit: from sub-second holds up to the look-back window.
_LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    3600,
    6 * 3600,
    24 * 3600,
    72 * 3600,
)

UP = Gauge("antifraud_up", "1 while the worker process runs", registry=REGISTRY)
RECORDS = Counter(
    "antifraud_records_total",
    "Records read from the contract's input topics",
    ["topic", "outcome"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "antifraud_dead_letters_total",
    "Records rejected to the dead-letter topic",
    ["code"],
    registry=REGISTRY,
)
COMMANDS = Counter(
    "antifraud_commands_total",
    "Commands issued to banks",
    ["type", "reason", "fraud_type"],
    registry=REGISTRY,
)
REPORT_TO_COMMAND = Histogram(
    "antifraud_report_to_command_seconds",
    "Report's reported_at to the command's emission",
    ["type"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TRANSFER_TO_COMMAND = Histogram(
    "antifraud_transfer_to_command_seconds",
    "Transfer's created_at to its hold's emission",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
WATCHED_IDENTIFIERS = Gauge(
    "antifraud_watched_identifiers",
    "Identifiers watched (reported or suspect) on this worker",
    registry=REGISTRY,
)
WATCHLIST_ENTRIES = Gauge(
    "antifraud_watchlist_entries",
    "Accounts on the published watchlist, by marker, counted from the topic itself (every "
    "worker counts the whole list: aggregate with max)",
    ["marker"],
    registry=REGISTRY,
)
WATCHLIST_WRITES = Counter(
    "antifraud_watchlist_writes_total",
    "Watchlist records written, by the entry's marker (or tombstone)",
    ["marker"],
    registry=REGISTRY,
)
INFLIGHT_TRANSFERS = Gauge(
    "antifraud_inflight_transfers",
    "Initiated transfers remembered for look-back on this worker",
    registry=REGISTRY,
)
TRANSFERS_FORGOTTEN = Counter(
    "antifraud_transfers_forgotten_total",
    "Transfers an identifier's state forgot inside the look-back window: the identifier had "
    "more than ANTIFRAUD_MAX_TRANSFERS_PER_IDENTIFIER in flight to it or sent from it",
    registry=REGISTRY,
)
COMMANDS_FORGOTTEN = Counter(
    "antifraud_commands_forgotten_total",
    "Live holds and freezes an identifier's state forgot before they lapsed, so a revocation "
    "cannot release them (they lapse by their expires_at). type=hold_transfer: the identifier "
    "had more than twice ANTIFRAUD_MAX_TRANSFERS_PER_IDENTIFIER holds; type=freeze_account: "
    "a suspect had more than 100 freezes superseded by a larger amount_limit",
    ["type"],
    registry=REGISTRY,
)
WATCH_RECORDS_FORGOTTEN = Counter(
    "antifraud_watch_records_forgotten_total",
    "Records of why an identifier is watched and where its money went, forgotten past their "
    "bound (core/state_bounds.py). kind=report: live reports beyond 500 on one identifier "
    "(commands no longer name it); tainted_inflow: a suspect's tainted transfers beyond 1000 "
    "kept only as a sum (amount_limit unchanged); followed_transfer: markers of followed "
    "money beyond 1000 (the recipient is still reached by a revocation); "
    "followed_recipient: recipients beyond 500 a revocation can no longer reach; bank: banks "
    "beyond 100 an identifier was not learned at (no freeze there)",
    ["kind"],
    registry=REGISTRY,
)
HELD_TENGE = Counter(
    "antifraud_held_amount_tenge_total",
    "Amounts banks report held (acks with status applied)",
    ["bank_id"],
    registry=REGISTRY,
)
ESCAPED_TENGE = Counter(
    "antifraud_escaped_amount_tenge_total",
    "Amounts already gone when the hold arrived (too_late)",
    ["bank_id"],
    registry=REGISTRY,
)
ACKS = Counter(
    "antifraud_acks_total",
    "Bank acknowledgements",
    ["bank_id", "status"],
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "antifraud_ack_latency_seconds",
    "Command issued to the bank's acknowledgement",
    ["bank_id"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
UNACKNOWLEDGED = Gauge(
    "antifraud_unacknowledged_commands",
    "Commands issued and not yet acknowledged",
    ["bank_id"],
    registry=REGISTRY,
)
OVERDUE = Counter(
    "antifraud_overdue_commands_total",
    "Commands not acknowledged within the SLA",
    ["bank_id"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "antifraud_consumer_lag",
    "Records not yet processed, summed over this worker's partitions",
    ["topic"],
    registry=REGISTRY,
)
LAST_TRANSFER = Gauge(
    "antifraud_last_transfer_timestamp_seconds",
    "Unix time of the last transfer seen from a bank",
    ["bank_id"],
    registry=REGISTRY,
)
# Progress (/health, streams/progress.py): the contract's "Robustness promises", 1. and 3.
STALLED_PARTITIONS = Gauge(
    "antifraud_stalled_partitions",
    "Partitions of this worker that have records waiting and have not moved for "
    "ANTIFRAUD_HEALTH_STALL_SECONDS, or hold a record that can be written neither with its "
    "effects nor as a dead letter; /health answers 503 while any is",
    ["topic"],
    registry=REGISTRY,
)
WRITES_FAILING_SECONDS = Gauge(
    "antifraud_writes_failing_seconds",
    "How long this worker's writes have been failing or waiting for the broker (0 while they "
    "pass); /health answers 503 from ANTIFRAUD_HEALTH_WRITE_FAILURE_SECONDS",
    registry=REGISTRY,
)
WRITE_FAILURES = Counter(
    "antifraud_write_failures_total",
    "Failures met while writing a record's effects or its dead letter, by kind: transient "
    "(retried), record (dead-lettered), infrastructure (retried slowly, never skipped), bug",
    ["kind"],
    registry=REGISTRY,
)
# Cases (CONTRACT.md, "Cases"): money returned to victims and where each case stands.
RETURNED_TENGE = Counter(
    "antifraud_returned_amount_tenge_total",
    "Amounts banks report returned to beneficiaries (return_funds acked returned)",
    ["bank_id"],
    registry=REGISTRY,
)
RETURNS_FAILED = Counter(
    "antifraud_returns_failed_total",
    "return_funds commands a bank acked failed (the money stays held)",
    ["bank_id"],
    registry=REGISTRY,
)
RETURNS_OVERDUE = Counter(
    "antifraud_returns_overdue_total",
    "return_funds commands not acknowledged within the SLA (re-sent once)",
    ["bank_id"],
    registry=REGISTRY,
)
RETURNS_REFUSED = Counter(
    "antifraud_returns_refused_total",
    "return_funds a case planned that the owner of the held money refused, by reason",
    ["reason"],
    registry=REGISTRY,
)
REPORT_TO_RETURN = Histogram(
    "antifraud_report_to_return_seconds",
    "Report's reported_at to its bank's ack that money was returned",
    buckets=(60, 300, 3600, 6 * 3600, 86400, 3 * 86400, 5 * 86400, 11 * 86400, 30 * 86400),
    registry=REGISTRY,
)
CASES = Gauge(
    "antifraud_cases",
    "Cases on this worker's partitions, by status (counted every CASE_SCAN seconds)",
    ["status"],
    registry=REGISTRY,
)
CASE_HOLDS_LEFT_OUT = Counter(
    "antifraud_case_holds_left_out_total",
    "Holds a case did not keep: it had MAX_COMMANDS_PER_CASE already",
    registry=REGISTRY,
)
