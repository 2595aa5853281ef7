"""``stancewatch replay``: push a JSONL file of articles through enrich (+ alert) in one process."""
