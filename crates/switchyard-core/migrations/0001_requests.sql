-- The request log. One row per request through /v1/*; bodies live in their own table so that
-- listing and statistics never read them.
CREATE TABLE requests (
    id                TEXT PRIMARY KEY NOT NULL,
    started_at        INTEGER NOT NULL,           -- unix milliseconds
    method            TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    client            TEXT,                       -- User-Agent
    key_name          TEXT,
    requested_model   TEXT,
    provider          TEXT,
    model             TEXT,
    stream            INTEGER NOT NULL DEFAULT 0,
    status            INTEGER NOT NULL,           -- what the client saw; 499 = it went away
    outcome           TEXT NOT NULL,              -- ok | error | client_closed
    error             TEXT,
    latency_ms        REAL NOT NULL,
    ttft_ms           REAL,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cached_tokens     INTEGER,
    reasoning_tokens  INTEGER,
    cost_usd          REAL,
    attempts          TEXT NOT NULL DEFAULT '[]'  -- JSON array of attempts
) STRICT;

CREATE INDEX requests_by_time ON requests (started_at);
CREATE INDEX requests_by_model ON requests (requested_model, started_at);
CREATE INDEX requests_by_provider ON requests (provider, started_at);

CREATE TABLE request_bodies (
    id                 TEXT PRIMARY KEY NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    request_body       TEXT,
    response_body      TEXT,
    request_truncated  INTEGER NOT NULL DEFAULT 0,
    response_truncated INTEGER NOT NULL DEFAULT 0,
    media              TEXT NOT NULL DEFAULT '[]'  -- JSON array of files under media/
) STRICT;
