"""The exception tree of the common library. Each error names its stage and keeps its cause."""


class StancewatchError(Exception):
    """Base of every error stancewatch raises on purpose."""


class ConfigError(StancewatchError):
    """A setting is missing or invalid; the message names the environment variable."""


class BusError(StancewatchError):
    """The message bus failed (broker unreachable, publish not acknowledged …)."""


class PoisonMessage(StancewatchError):
    """A message that can never be processed (undecodable, invalid): dead-letter it at once."""


class OversizedMessage(PoisonMessage):
    """An output larger than the bus accepts: handling the record again would build it again, so the
    record is dead-lettered at once (never retried as if the broker were away)."""
