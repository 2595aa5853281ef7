"""The stancewatch services: ingester -> enricher -> alerter, connected only through Kafka topics."""
