"""stancewatch's common library: event contracts, topic declarations, the bus, settings."""
