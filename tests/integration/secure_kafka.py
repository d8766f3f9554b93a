"""A secured Apache Kafka for the security tests: SASL/SCRAM-SHA-512 over mutual TLS, with ACLs.

A thin wrapper around ``scripts/apache-kafka-secure``, which generates a throw-away CA, the
broker's and a client's certificate (openssl) and the SCRAM users inside the directory it
is given, and starts one KRaft node whose only client listener is SASL_SSL on 127.0.0.1.

    kafka = SecureKafka(users={"antifraud-worker": "...", "bank-hsbk": "..."})
    kafka.start(tmp_path / "kafka")
    kafka.create_acls([allow("User:bank-hsbk", ResourceType.TOPIC, "t", ACLOperation.READ)])
    producer = KafkaProducer(**kafka.client_options("bank-hsbk"))
    ...
    kafka.stop()
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourceType,
)

from antifraud.harness.ports import free_port
from antifraud.streams.settings import broker_url
from tests.integration.apache_kafka import REPO_ROOT, ApacheKafkaError

SCRIPT = REPO_ROOT / "scripts" / "apache-kafka-secure"
ADMIN = "admin"


def new_password() -> str:
    return secrets.token_hex(16)


def allow(
    principal: str,
    resource_type: ResourceType,
    name: str,
    operation: ACLOperation,
    pattern: ACLResourcePatternType = ACLResourcePatternType.LITERAL,
) -> ACL:
    """One ALLOW ACL from any host."""
    return ACL(
        principal=principal,
        host="*",
        operation=operation,
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(resource_type, name, pattern),
    )


class SecureKafka:
    """One secured single node. `users` are SCRAM-SHA-512 users (name -> password)."""

    def __init__(
        self,
        users: Mapping[str, str],
        script: Path = SCRIPT,
        timeout: float = 300.0,
    ) -> None:
        if ADMIN in users:
            raise ValueError("'admin' is the broker's own user")
        self.users = dict(users)
        self.script = script
        self.timeout = timeout
        self.env: dict[str, str] = dict(os.environ)
        self.env.setdefault("PYTHON", sys.executable)
        self.env["ANTIFRAUD_KAFKA_SCRAM_USERS"] = ",".join(f"{n}={p}" for n, p in users.items())
        self.dir: Path | None = None
        self.bootstrap: str = ""
        self._atexit_registered = False

    # -- files the script generated -----------------------------------------------------

    def _require_dir(self) -> Path:
        if self.dir is None:
            raise ApacheKafkaError("the secured Kafka is not started")
        return self.dir

    @property
    def ca_file(self) -> Path:
        return self._require_dir() / "tls" / "ca.pem"

    @property
    def client_cert(self) -> Path:
        return self._require_dir() / "tls" / "client.pem"

    @property
    def client_key(self) -> Path:
        return self._require_dir() / "tls" / "client.key"

    def password(self, user: str) -> str:
        if user == ADMIN:
            return (self._require_dir() / "admin.password").read_text().strip()
        return self.users[user]

    # -- start / stop ---------------------------------------------------------------------

    def _run(self, *args: str) -> str:
        cmd = [str(self.script), *args]
        try:
            proc = subprocess.run(
                cmd, env=self.env, capture_output=True, text=True, timeout=self.timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise ApacheKafkaError(f"{' '.join(cmd)} timed out after {self.timeout}s") from exc
        if proc.returncode != 0:
            raise ApacheKafkaError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr}")
        return proc.stdout.strip()

    def start(self, tmp_dir: Path | str, port: int | None = None) -> str:
        """Start the node on 127.0.0.1:port (SASL_SSL); returns the bootstrap address."""
        tmp_dir = Path(tmp_dir).resolve()
        port = free_port() if port is None else port
        self.dir = tmp_dir
        if not self._atexit_registered:
            atexit.register(self._stop_quietly)
            self._atexit_registered = True
        self.bootstrap = self._run("start", str(tmp_dir), str(port)).splitlines()[-1]
        return self.bootstrap

    def stop(self) -> None:
        if self.dir is not None:
            self._run("stop", str(self.dir))

    def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    def __enter__(self) -> SecureKafka:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients --------------------------------------------------------------------------

    def client_options(self, user: str, password: str | None = None) -> dict[str, Any]:
        """kafka-python keyword arguments to connect as `user` (SCRAM) with the client cert."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user,
            "sasl_plain_password": self.password(user) if password is None else password,
            "ssl_cafile": str(self.ca_file),
            "ssl_certfile": str(self.client_cert),
            "ssl_keyfile": str(self.client_key),
        }

    def antifraud_env(self, user: str) -> dict[str, str]:
        """The ANTIFRAUD_* variables that make a worker connect as `user` (nothing else)."""
        return {
            "ANTIFRAUD_BROKER": broker_url(self.bootstrap),
            "ANTIFRAUD_SECURITY_PROTOCOL": "SASL_SSL",
            "ANTIFRAUD_SASL_MECHANISM": "SCRAM-SHA-512",
            "ANTIFRAUD_SASL_USERNAME": user,
            "ANTIFRAUD_SASL_PASSWORD": self.password(user),
            "ANTIFRAUD_SSL_CAFILE": str(self.ca_file),
            "ANTIFRAUD_SSL_CERTFILE": str(self.client_cert),
            "ANTIFRAUD_SSL_KEYFILE": str(self.client_key),
        }

    def admin(self, timeout: float = 60.0) -> KafkaAdminClient:
        """An admin client as the super user `admin`, retried until the broker answers."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return KafkaAdminClient(
                    client_id="antifraud-test-admin",
                    request_timeout_ms=30_000,
                    **self.client_options(ADMIN),
                )
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def create_acls(self, acls: Iterable[ACL]) -> None:
        wanted = list(acls)
        admin = self.admin()
        try:
            result = admin.create_acls(wanted)
        finally:
            admin.close()
        if result["failed"]:
            raise ApacheKafkaError(f"ACLs not created: {result['failed']}")

    def topics(self) -> set[str]:
        admin = self.admin()
        try:
            return set(admin.list_topics())
        finally:
            admin.close()
