"""Issue 18's five findings against a real worker and broker at production settings.

Each test reproduces one finding of the hardening probe at the default 1 MiB record limit
and states what the contract's "Robustness promises" and "Dead letters" sections say must
happen instead. Findings that stall or crash a worker get a dedicated worker (its own group
and topics), so the suite's shared worker is never poisoned. Every wait is bounded; each
test gathers what came out and compares it with the promise in one assertion, so a failure
shows every broken promise of the test at once. The smaller findings are in
test_robustness_smaller.py.

Long on purpose: one test per finding of issue 18, in the issue's order.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from antifraud.harness.kafka_io import TopicLog
from antifraud.harness.simulation import make_phone, revocation
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about
from tests.integration.conftest import REPORT_KEYS, Broker
from tests.integration.robustness import (
    CASPI,
    COMMANDS,
    DEAD,
    HALYK,
    REPORTS,
    TRANSFERS,
    ack,
    codes,
    dedicated_worker,
    distinct,
    gather,
    holds_of,
    keyed,
    letter_facts,
    of_type,
    pay,
    send_report,
    send_transfer,
    truncated_letter,
    wait_metric,
)

# ------------------------------------------------------------------ 1. one account stalls all

HOT_TRANSFERS = 5_000
BUSY_WAIT = 600.0  # seconds: a bound for the 10,000 holds, not a timing assertion
BUSY_STALL = 60.0  # seconds without one new hold: matching has stopped


class HoldTally:
    """Hold commands read so far, by (bank, transfer id), and the accounts frozen."""

    def __init__(self, commands: TopicLog) -> None:
        self.commands = commands
        self.ids: dict[tuple[str, str], set[str]] = {}
        self.frozen: set[str] = set()
        self.read = 0

    def poll(self) -> None:
        self.commands.poll()
        for record in self.commands.records[self.read :]:
            command = orjson.loads(record.value)
            if command["type"] == "freeze_account":
                self.frozen.add(command["account"]["value"])
            elif command["type"] == "hold_transfer":
                pair = (command["bank_id"], command["transfer"]["transfer_id"])
                self.ids.setdefault(pair, set()).add(command["command_id"])
        self.read = len(self.commands.records)

    def held(self, transfer_ids: list[str]) -> int:
        wanted = set(transfer_ids)
        return sum(1 for _, transfer_id in self.ids if transfer_id in wanted)

    def wait(self, transfer_ids: list[str], frozen: str | None, bound: float) -> float:
        """Until both banks hold every transfer (and `frozen` is frozen), `bound` seconds
        pass, or `BUSY_STALL` seconds go by without a new hold. Returns the time taken."""
        started = progress_at = time.monotonic()
        held = self.held(transfer_ids)
        while time.monotonic() - started < bound:
            self.poll()
            now_held = self.held(transfer_ids)
            if now_held > held:
                held, progress_at = now_held, time.monotonic()
            if held == 2 * len(transfer_ids) and (frozen is None or frozen in self.frozen):
                break
            if time.monotonic() - progress_at > BUSY_STALL:
                break
        return time.monotonic() - started


def test_one_busy_account_does_not_stop_matching(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """5,000 transfers to one reported phone: all 10,000 holds; then a new case elsewhere still
    gets its freeze and holds, and no changelog write is refused.

    Issue 18 (main at 1345b1e): the phone's state keeps every command it issued; past
    ~4,100-4,330 transfers its changelog record is over 1,000,000 bytes, the write fails with
    MessageSizeTooLargeError, and the one `match` actor retries it forever: no account gets a
    hold or a freeze again.
    """
    app_id = f"antifraud-busy-{serial}"
    hot, cold = make_phone(serial + 1), make_phone(serial + 2)
    base = 34_000_000 + serial * 10  # 5,000 senders of its own
    with dedicated_worker(broker, worker_env, tmp_path, app_id) as (worker, topics):
        tally = HoldTally(bus.reader(topics.bank_commands))
        send_report(bus, topics.reports, f"R-busy-{serial}", [hot], time.time())
        # Watched before its transfers arrive: forward holds, not the bounded look-back.
        tally.commands.wait_for(of_type("freeze_account", [hot]), timeout=60)
        hot_ids = [f"T-busy-{serial}-{n:05d}" for n in range(HOT_TRANSFERS)]
        for n, transfer_id in enumerate(hot_ids):
            record = pay(transfer_id, hot, n, base, time.time() - 60)
            bus.send(topics.transfers, record, key=transfer_id)
        bus.flush()
        hot_seconds = tally.wait(hot_ids, None, BUSY_WAIT)
        # Then a new case elsewhere: its report, and transfers to it.
        send_report(bus, topics.reports, f"R-after-busy-{serial}", [cold], time.time())
        cold_ids = [f"T-after-busy-{serial}-{n}" for n in range(5)]
        for n, transfer_id in enumerate(cold_ids):
            send_transfer(bus, topics.transfers, pay(transfer_id, cold, HOT_TRANSFERS + n, base))
        cold_seconds = tally.wait(cold_ids, cold, 90.0)
        tally.commands.close()
        log = worker.log_path.read_text(errors="replace")
    print(
        f"\n[busy] lane={broker.lane} hot_holds={tally.held(hot_ids)} in {hot_seconds:.1f}s "
        f"cold_holds={tally.held(cold_ids)} cold_frozen={cold in tally.frozen} "
        f"in {cold_seconds:.1f}s"
    )
    assert {
        "hot_holds": tally.held(hot_ids),
        "cold_holds": tally.held(cold_ids),
        "cold_frozen": cold in tally.frozen,
        "holds_under_several_ids": sum(1 for ids in tally.ids.values() if len(ids) > 1),
        "changelog_writes_refused": log.count("MessageSizeTooLargeError"),
    } == {
        "hot_holds": 2 * HOT_TRANSFERS,
        "cold_holds": 2 * len(cold_ids),
        "cold_frozen": True,
        "holds_under_several_ids": 0,
        "changelog_writes_refused": 0,
    }


# ------------------------------------------------------------------ 2. valid records lost


def test_transfers_around_a_record_whose_dead_letter_is_too_big_are_all_held(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """5 valid transfers, 1,040,000 bytes of unterminated JSON (under 1 MiB), 5 more, all on one
    partition (keyed by their ids, as a bank's producer may place them), so that the worker
    reads them together.

    Issue 18 (main at 1345b1e): the dead letter copies the whole record, over the producer's
    1,000,000 bytes; its send fails, the intake agent crashes and restarts, and the batch it was
    in is acked: no dead letter, and the valid transfers of that batch are never held.
    """
    phone = make_phone(serial + 3)
    poison = b'{"transfer_id": "POISON-TR", "pad": "' + b"y" * 1_040_000
    poison_key = f"POISON-TR-{serial}"
    with dedicated_worker(broker, worker_env, tmp_path, f"antifraud-lost-{serial}") as (_, t):
        commands, dead = bus.reader(t.bank_commands), bus.reader(t.dead_letter)
        send_report(bus, t.reports, f"R-lost-{serial}", [phone], time.time())
        commands.wait_for(of_type("freeze_account", [phone]), timeout=60)
        valid = [pay(f"T-lost-{serial}-{n}", phone, n, 35_000_000 + serial) for n in range(10)]
        for record in valid[:5]:
            bus.send(t.transfers, record, key=record["transfer_id"], partition=0)
        bus.send(t.transfers, poison, key=poison_key, partition=0)
        for record in valid[5:]:
            bus.send(t.transfers, record, key=record["transfer_id"], partition=0)
        bus.flush()
        holds = gather(commands, of_type("hold_transfer", [phone]), count=20, timeout=90)
        letters = gather(dead, keyed(poison_key))
        commands.close()
        dead.close()
    assert {
        "held_transfers": len({c["transfer"]["transfer_id"] for c in holds}),
        "holds": distinct(holds),
        "dead_letter": letter_facts(letters, poison),
    } == {
        "held_transfers": 10,
        "holds": 20,
        "dead_letter": truncated_letter("invalid_json", poison),
    }


def test_acks_around_an_ack_whose_dead_letter_is_too_big_are_all_recorded(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """5 acks, a 1,040,150-byte ack for a command never issued, 5 more acks.

    Issue 18 (main at 1345b1e): intake forwards the ack whole to the ledger and that send is
    refused (over 1,000,000 bytes); so is the `internal_error` dead letter that follows, the
    acks agent crashes and restarts, and the ack is gone without a trace.
    """
    phone = make_phone(serial + 4)
    with dedicated_worker(broker, worker_env, tmp_path, f"antifraud-acks-{serial}") as (worker, t):
        commands, dead = bus.reader(t.bank_commands), bus.reader(t.dead_letter)
        send_report(bus, t.reports, f"R-acks-{serial}", [phone], time.time())
        for n in range(5):
            send_transfer(
                bus, t.transfers, pay(f"T-acks-{serial}-{n}", phone, n, 36_000_000 + serial)
            )
        holds = commands.wait_for(of_type("hold_transfer", [phone]), count=10, timeout=60)
        issued = sorted({c["command_id"]: c for c in holds}.values(), key=lambda c: c["command_id"])
        unknown = f"{serial + 7:032x}"
        poison = orjson.dumps(ack({"command_id": unknown, "bank_id": HALYK}, amount_held=1, pad=""))
        poison = poison.replace(b'"pad":""', b'"pad":"' + b"y" * (1_040_150 - len(poison)) + b'"')
        assert len(poison) == 1_040_150
        for command in issued[:5]:
            bus.send(
                t.bank_acks, ack(command, amount_held=command["amount"]), key=command["command_id"]
            )
        bus.send(t.bank_acks, poison, key=unknown)
        for command in issued[5:]:
            bus.send(
                t.bank_acks, ack(command, amount_held=command["amount"]), key=command["command_id"]
            )
        bus.flush()
        recorded = wait_metric(worker, "antifraud_acks_total", 10, timeout=60)
        letters = gather(dead, keyed(unknown))
        commands.close()
        dead.close()
    assert {
        "acks_recorded": recorded,
        "dead_letter": letter_facts(letters, poison),
    } == {"acks_recorded": 10.0, "dead_letter": truncated_letter("unknown_command", poison)}


def test_reports_around_a_report_whose_dead_letter_doubles_are_all_acted_on(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """3 reports, a 600 KB invalid report of escaped quotes (1.2 MB once escaped again in its
    dead letter), 3 more reports: every valid report freezes its account.

    Issue 18 (main at 1345b1e): that dead letter's send is refused (1,200,447 bytes), the
    reports agent crashes and restarts, and the invalid report is gone without a trace.
    """
    before = [make_phone(serial + 10 + n) for n in range(3)]
    after = [make_phone(serial + 20 + n) for n in range(3)]
    poison_id = f"R-poison-{serial}"
    poison = b'{"report_id": "' + poison_id.encode() + b'", "note": "' + b'\\"' * 300_000
    with dedicated_worker(broker, worker_env, tmp_path, f"antifraud-quotes-{serial}") as (_, t):
        commands, dead = bus.reader(t.bank_commands), bus.reader(t.dead_letter)
        for n, phone in enumerate(before):
            send_report(bus, t.reports, f"R-quotes-{serial}-b{n}", [phone], time.time())
        bus.send(t.reports, poison, key=poison_id)
        for n, phone in enumerate(after):
            send_report(bus, t.reports, f"R-quotes-{serial}-a{n}", [phone], time.time())
        freezes = gather(commands, of_type("freeze_account", before + after), count=6, timeout=60)
        letters = gather(dead, keyed(poison_id))
        commands.close()
        dead.close()
    assert {
        "frozen": sorted({c["account"]["value"] for c in freezes}),
        "dead_letter": letter_facts(letters, poison),
    } == {"frozen": sorted(before + after), "dead_letter": truncated_letter("invalid_json", poison)}


# ------------------------------------------------------------------ 3. a year-10000 transfer


def test_a_transfer_dated_year_10000_cannot_make_its_recipient_unfreezable(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """created_at 9999-12-31T23:59:59-01:00 is year 10000 in UTC: `schema_violation`.

    Issue 18 (main at 1345b1e): it is accepted and kept; a report naming its recipient then dies
    with `internal_error` (year 10000 is out of range): the account is never frozen or held.
    """
    phone = make_phone(serial + 5)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    odd = pay(f"T-y10k-{serial}", phone, 0, 37_000_000 + serial)
    odd["created_at"] = "9999-12-31T23:59:59-01:00"
    send_transfer(bus, TRANSFERS, odd)
    odd_letters = gather(dead, keyed(odd["transfer_id"]))
    send_report(bus, REPORTS, f"R-y10k-{serial}", [phone], time.time())
    freezes = gather(commands, of_type("freeze_account", [phone]))
    later = pay(f"T-y10k-later-{serial}", phone, 1, 37_000_000 + serial)
    send_transfer(bus, TRANSFERS, later)
    holds = gather(commands, holds_of(later["transfer_id"]), count=2)
    dead.settle(1.0)
    assert {
        "year_10000_transfer": codes(odd_letters),
        "report_dead_letters": codes(dead.values(keyed(f"R-y10k-{serial}"))),
        "freezes": distinct(freezes),
        "holds_of_a_later_transfer": distinct(holds),
    } == {
        "year_10000_transfer": ["schema_violation"],
        "report_dead_letters": [],
        "freezes": 1,
        "holds_of_a_later_transfer": 2,
    }
    dead.close()
    commands.close()


# ------------------------------------------------------------------ 4. timestamps and holds


def test_a_report_dated_100_hours_ahead_is_a_schema_violation(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """reported_at more than 5 minutes ahead of the platform's clock: `schema_violation`.

    Issue 18 (main at 1345b1e): it is accepted: it freezes the account, and its look-back start
    (100 h ahead) keeps every transfer to it from being held.
    """
    phone = make_phone(serial + 6)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    send_report(bus, REPORTS, f"R-future-{serial}", [phone], time.time() + 100 * 3600)
    letters = gather(dead, keyed(f"R-future-{serial}"))
    commands.settle(2.0)
    assert {
        "dead_letter": codes(letters),
        "commands": sorted(c["type"] for c in commands.values(about([phone]))),
    } == {"dead_letter": ["schema_violation"], "commands": []}
    dead.close()
    commands.close()


def test_a_transfer_created_long_ago_arriving_after_the_report_is_held(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """Forward holds apply whatever the `created_at`: here 10 days back, far beyond the 72 h
    look-back. Issue 18 (main at 1345b1e): the look-back start is applied to forward holds too:
    nothing is held."""
    phone = make_phone(serial + 7)
    commands = bus.reader(COMMANDS)
    send_report(bus, REPORTS, f"R-old-fwd-{serial}", [phone], time.time())
    freezes = gather(commands, of_type("freeze_account", [phone]))
    late = pay(f"T-old-fwd-{serial}", phone, 0, 38_000_000 + serial, time.time() - 10 * 86400)
    send_transfer(bus, TRANSFERS, late)
    holds = gather(commands, holds_of(late["transfer_id"]), count=2)
    assert {"freezes": distinct(freezes), "holds": sorted(c["bank_id"] for c in holds)} == {
        "freezes": 1,
        "holds": [CASPI, HALYK],
    }
    commands.close()


# ------------------------------------------------------------------ 5. report ids


def test_a_revoke_for_an_unseen_report_is_unknown_and_blocks_nothing(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """`unknown_report`, remembered nowhere. Issue 18 (main at 1345b1e): the revoke is
    remembered silently and the real report arriving later with that id is ignored."""
    phone = make_phone(serial + 8)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    rid = f"R-early-revoke-{serial}"
    bus.send(REPORTS, revocation(rid, time.time(), keys=REPORT_KEYS), key=rid)
    bus.flush()
    letters = gather(dead, keyed(rid))
    send_report(bus, REPORTS, rid, [phone], time.time())
    freezes = gather(commands, of_type("freeze_account", [phone]))
    assert {"revoke": codes(letters), "freezes_by_the_real_report": distinct(freezes)} == {
        "revoke": ["unknown_report"],
        "freezes_by_the_real_report": 1,
    }
    dead.close()
    commands.close()


def test_a_reused_report_id_with_other_accounts_is_a_duplicate_report(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """`duplicate_report`, and the other accounts are not acted on. Issue 18 (main at 1345b1e):
    the second report is ignored silently."""
    first, other = make_phone(serial + 9), make_phone(serial + 30)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    rid = f"R-reused-{serial}"
    send_report(bus, REPORTS, rid, [first], time.time())
    commands.wait_for(of_type("freeze_account", [first]))
    send_report(bus, REPORTS, rid, [other], time.time())
    letters = gather(dead, keyed(rid))
    commands.settle(2.0)
    assert {
        "reuse": codes(letters),
        "commands_for_the_other_account": commands.values(about([other])),
    } == {"reuse": ["duplicate_report"], "commands_for_the_other_account": []}
    dead.close()
    commands.close()


def test_the_same_report_sent_twice_issues_nothing_new(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """The same report again changes nothing: no new command id (the ledger's re-sends of
    unacknowledged commands, same ids, aside)."""
    phone = make_phone(serial + 31)
    commands = bus.reader(COMMANDS)
    rid = f"R-twice-{serial}"
    at = time.time()
    send_report(bus, REPORTS, rid, [phone], at)
    send_transfer(bus, TRANSFERS, pay(f"T-twice-{serial}", phone, 0, 39_000_000 + serial))
    commands.wait_for(about([phone]), count=3)
    first_ids = {c["command_id"] for c in commands.values(about([phone]))}
    send_report(bus, REPORTS, rid, [phone], at)  # the same bytes: signed the same way
    commands.settle(3.0)
    assert {c["command_id"] for c in commands.values(about([phone]))} == first_ids
    assert len(first_ids) == 3
    commands.close()
