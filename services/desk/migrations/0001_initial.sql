-- The desk's store: what the topics say, kept queryable. One dialect for SQLite and PostgreSQL:
-- times are BIGINT microseconds since the epoch (UTC), booleans are INTEGER 0/1, full events are JSON text.
-- Every table that a topic feeds remembers where its row came from (src_partition, src_offset), so a record
-- delivered again, or an older version of a key, never overwrites a newer one.

CREATE TABLE desk_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE positions (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    actor_name TEXT,
    topic_label TEXT,
    established TEXT,
    established_since_us BIGINT,
    latest TEXT,
    confidence DOUBLE PRECISION,
    last_change_us BIGINT,
    updated_at_us BIGINT,
    provisional INTEGER NOT NULL DEFAULT 0,
    src_partition INTEGER NOT NULL,
    src_offset BIGINT NOT NULL,
    PRIMARY KEY (actor, topic)
);

CREATE TABLE observations (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    article_id TEXT NOT NULL,
    stance TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    published_us BIGINT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    judge TEXT,
    actor_name TEXT,
    topic_label TEXT,
    search TEXT NOT NULL,
    payload TEXT NOT NULL,
    src_partition INTEGER NOT NULL,
    src_offset BIGINT NOT NULL,
    PRIMARY KEY (actor, topic, article_id)
);
CREATE INDEX observations_by_time ON observations (actor, topic, published_us, article_id);
CREATE INDEX observations_published ON observations (published_us);

CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    article_id TEXT NOT NULL,
    from_stance TEXT NOT NULL,
    to_stance TEXT NOT NULL,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    said_at_us BIGINT NOT NULL,
    actor_name TEXT,
    topic_label TEXT,
    search TEXT NOT NULL,
    payload TEXT NOT NULL,
    src_partition INTEGER NOT NULL,
    src_offset BIGINT NOT NULL
);
CREATE INDEX alerts_created ON alerts (created_at_us);
CREATE INDEX alerts_by_pair ON alerts (actor, topic, article_id);

CREATE TABLE deliveries (
    delivery_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    http_status INTEGER,
    last_error TEXT,
    at_us BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, alert_id)
);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);

CREATE TABLE feedback (
    feedback_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    article_id TEXT NOT NULL,
    alert_id TEXT,
    stance TEXT NOT NULL,
    verdict TEXT NOT NULL,
    corrected_stance TEXT,
    note TEXT,
    author TEXT NOT NULL,
    created_at_us BIGINT NOT NULL
);
CREATE INDEX feedback_by_observation ON feedback (actor, topic, article_id);
CREATE INDEX feedback_by_alert ON feedback (alert_id);
