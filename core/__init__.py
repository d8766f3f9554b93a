"""The functional core: decisions over plain values, no Faust or Kafka imports."""
