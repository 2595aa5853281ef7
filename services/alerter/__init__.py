"""The alerter: position history per (figure, topic), shift detection, signed webhook and Slack delivery."""
