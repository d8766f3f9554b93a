"""Faust's broker URL and plain clients' bootstrap servers: one parser, both ways."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antifraud.streams.settings import Settings, bootstrap_servers, broker_url

hosts = st.lists(
    st.tuples(st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True), st.integers(1, 65535)).map(
        lambda h: f"{h[0]}:{h[1]}"
    ),
    min_size=1,
    max_size=4,
)


def test_the_forms_each_side_writes() -> None:
    assert bootstrap_servers("kafka://h1:9092;h2:9092") == "h1:9092,h2:9092"
    assert bootstrap_servers("kafka://h1:9092, h2:9092;") == "h1:9092,h2:9092"
    assert bootstrap_servers("127.0.0.1:9092") == "127.0.0.1:9092"
    assert broker_url("h1:9092,h2:9092") == "kafka://h1:9092;h2:9092"
    assert Settings(broker="kafka://k:1;k:2").bootstrap_servers == "k:1,k:2"


@given(hosts)
def test_a_bootstrap_list_survives_the_round_trip(addresses: list[str]) -> None:
    bootstrap = ",".join(addresses)
    assert bootstrap_servers(broker_url(bootstrap)) == bootstrap
    assert broker_url(bootstrap_servers(broker_url(bootstrap))) == broker_url(bootstrap)
