"""``stancewatch evaluate``: score a replay run against gold labels, or a judge on labelled sentences."""
