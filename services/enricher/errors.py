"""The enricher's exception tree: each error names its stage."""

from shared.errors import StancewatchError


class EnricherError(StancewatchError):
    """Base of every error the enricher raises on purpose."""


class WatchlistError(EnricherError):
    """The watchlist file is missing, not YAML, or does not describe figures and topics correctly."""


class ModelLoadError(EnricherError):
    """The configured spaCy pipeline is not installed (nothing is downloaded at run time)."""


class LexiconError(EnricherError):
    """A lexicon file under ``services/enricher/lexicons/`` is not valid, or the code asks for an id it lacks."""
