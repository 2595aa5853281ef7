"""Pydantic v2 models for every message on every topic."""

from shared.contracts.alerts import (
    SEVERITY_RANK,
    AlertEventType,
    AlertKind,
    AlertStatus,
    PositionChange,
    Retraction,
    Severity,
    alert_id_for,
)
from shared.contracts.articles import ArticleRef, RawArticle
from shared.contracts.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now
from shared.contracts.delivery import DeliveryOutcome, DeliveryStatus, DeliveryTask
from shared.contracts.enrichment import (
    ActorMention,
    EnrichedArticle,
    Entity,
    Evidence,
    ExtractorInfo,
    PastStance,
    Stance,
    StanceObservation,
    position_key,
)
from shared.contracts.feedback import (
    REJECTING_VERDICTS,
    Feedback,
    FeedbackVerdict,
    feedback_id_for,
)
from shared.contracts.ingest import FeedState, SeenArticle
from shared.contracts.positions import (
    MAX_REJECTED,
    EventKey,
    HistoryRecord,
    ObservationRecord,
    Position,
    RejectedObservation,
)

__all__ = [
    "MAX_REJECTED",
    "REJECTING_VERDICTS",
    "SCHEMA_VERSION",
    "SEVERITY_RANK",
    "ActorMention",
    "AlertEventType",
    "AlertKind",
    "AlertStatus",
    "ArticleRef",
    "Contract",
    "DeliveryOutcome",
    "DeliveryStatus",
    "DeliveryTask",
    "EnrichedArticle",
    "Entity",
    "EventKey",
    "Evidence",
    "ExtractorInfo",
    "FeedState",
    "Feedback",
    "FeedbackVerdict",
    "HistoryRecord",
    "ObservationRecord",
    "PastStance",
    "Position",
    "PositionChange",
    "RawArticle",
    "RejectedObservation",
    "Retraction",
    "SeenArticle",
    "Severity",
    "Stance",
    "StanceObservation",
    "UtcDatetime",
    "alert_id_for",
    "feedback_id_for",
    "position_key",
    "utc_now",
]
