"""Suite-wide options: which broker the integration tests run against."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--broker",
        choices=["embedded", "apache-kafka"],
        default="embedded",
        help="integration tests' broker: the embedded Tansu or Apache Kafka 4.x (from Maven Central)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lane = config.getoption("--broker")
    only_kafka = pytest.mark.skip(reason="Apache Kafka lane only (--broker=apache-kafka)")
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
        if lane != "apache-kafka" and item.get_closest_marker("apache_kafka"):
            item.add_marker(only_kafka)
