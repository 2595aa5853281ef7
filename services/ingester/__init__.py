"""The ingester: RSS/Atom feeds in, each new article once on the ``articles`` topic."""
