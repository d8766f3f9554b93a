"""What tools and tests share: embedded broker, worker process, simulated traffic, Kafka clients."""
