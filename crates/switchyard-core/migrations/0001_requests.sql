-- The request log. One row per request through /v1/*; bodies live in their own table so that
-- listing and statistics never read them.
--
-- `id` is the rowid: (unix milliseconds << 19) | a per-process sequence number, shown to users as
-- `req_` + 16 hex digits. Ids grow with time, so time ranges are rowid ranges and the table
-- needs no secondary index: one B-tree write per row keeps the log cheap on the hot path.
CREATE TABLE requests (
    id                INTEGER PRIMARY KEY NOT NULL,
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

CREATE TABLE request_bodies (
    id                 INTEGER PRIMARY KEY NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    request_body       TEXT,
    response_body      TEXT,
    request_truncated  INTEGER NOT NULL DEFAULT 0,
    response_truncated INTEGER NOT NULL DEFAULT 0,
    media              TEXT NOT NULL DEFAULT '[]'  -- JSON array of files under media/
) STRICT;
