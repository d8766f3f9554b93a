"""Kafka client security (SASL/SCRAM and TLS) for every client the project runs.

One source, three shapes: Faust's credentials object, aiokafka keyword arguments
and kafka-python keyword arguments, all built from `settings.Security`.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust

from antifraud.streams.settings import Security


def ssl_context(security: Security) -> ssl.SSLContext | None:
    if "SSL" not in security.protocol:
        return None
    context = ssl.create_default_context(cafile=security.ssl_cafile or None)
    if security.ssl_certfile:
        context.load_cert_chain(security.ssl_certfile, security.ssl_keyfile or None)
    return context


def faust_credentials(security: Security) -> Any:
    context = ssl_context(security)
    if security.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password,
            mechanism=security.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def aiokafka_security_options(security: Security) -> dict[str, Any]:
    if security.protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": security.protocol}
    context = ssl_context(security)
    if context is not None:
        options["ssl_context"] = context
    if security.protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.sasl_username,
            sasl_plain_password=security.sasl_password,
        )
    return options


def kafka_python_security_options(security: Security) -> dict[str, Any]:
    if security.protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if "SSL" in security.protocol:
        options.update(
            ssl_cafile=security.ssl_cafile or None,
            ssl_certfile=security.ssl_certfile or None,
            ssl_keyfile=security.ssl_keyfile or None,
        )
    if security.protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.sasl_username,
            sasl_plain_password=security.sasl_password,
        )
    return options
