"""`antifraud sign`: what an integrator runs to sign a report file, checked against the verifier."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from antifraud.core.signatures import verify_report

ANTIFRAUD = Path(sys.executable).parent / "antifraud"
REPORT = {
    "report_id": "R-2026-000042",
    "case_number": "261000131000042",
    "action": "report",
    "fraud_type": "bank_impersonation",
    "reported_at": "2026-11-29T09:05:00Z",
    "issuer": "ALM-PD-CYBER",
    "accounts": [{"kind": "phone", "value": "87011234567"}],
    "note": "Алматы қаласы",
}


EXTEND = {
    "report_id": "R-2026-000042",
    "action": "extend",
    "sanction": {
        "authority": "Алматы қаласының прокуроры",
        "reference": "SK-2026-7781",
        "issued_at": "2026-12-03T10:00:00+05:00",
    },
    "until": "2026-12-31T18:00:00+05:00",
    "reported_at": "2026-12-03T10:05:00+05:00",
    "issuer": "ALM-PD-CYBER",
}


def run_sign(
    tmp_path: Path, *args: str, secret: str | None = None, record: dict[str, object] = REPORT
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "report.json"
    path.write_bytes(orjson.dumps(record))
    env = {k: v for k, v in os.environ.items() if k != "ANTIFRAUD_SIGNING_SECRET"}
    if secret is not None:
        env["ANTIFRAUD_SIGNING_SECRET"] = secret
    return subprocess.run(
        [str(ANTIFRAUD), "sign", str(path), *args], env=env, capture_output=True, text=True
    )


def test_signed_file_verifies_with_the_same_key(tmp_path: Path) -> None:
    done = run_sign(tmp_path, "--key-id", "almaty-1", secret="s3cret=with=equals")
    assert done.returncode == 0, done.stderr
    signed = orjson.loads(done.stdout)
    assert signed["signature"]["key_id"] == "almaty-1"
    assert verify_report(signed, {"almaty-1": b"s3cret=with=equals"}).ok
    assert not verify_report(signed, {"almaty-1": b"another"}).ok


def test_key_file_and_missing_secret(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# police signing keys\nastana-2=from-file\n")
    done = run_sign(tmp_path, "--key-id", "astana-2", "--key-file", str(keys))
    assert done.returncode == 0, done.stderr
    assert verify_report(orjson.loads(done.stdout), {"astana-2": b"from-file"}).ok
    missing = run_sign(tmp_path, "--key-id", "astana-2")
    assert missing.returncode != 0
    assert "ANTIFRAUD_SIGNING_SECRET" in missing.stderr


def test_an_extend_or_return_is_signed_like_a_report(tmp_path: Path) -> None:
    for action in ("extend", "return"):
        record = {**EXTEND, "action": action}
        done = run_sign(tmp_path, "--key-id", "almaty-1", secret="s3cret", record=record)
        assert done.returncode == 0, done.stderr
        signed = orjson.loads(done.stdout)
        assert {k: v for k, v in signed.items() if k != "signature"} == record
        assert verify_report(signed, {"almaty-1": b"s3cret"}).ok
        tampered = {**signed, "sanction": {**signed["sanction"], "reference": "SK-0"}}
        assert not verify_report(tampered, {"almaty-1": b"s3cret"}).ok
