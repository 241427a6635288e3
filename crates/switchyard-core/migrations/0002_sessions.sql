-- Playground chat sessions, saved by the UI through /admin/sessions. `params` and `messages`
-- are JSON the UI defines; the gateway stores them whole and searches their text.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,    -- ses_ + 16 hex digits
    title       TEXT NOT NULL,
    model       TEXT,
    system      TEXT,
    params      TEXT NOT NULL DEFAULT '{}',
    messages    TEXT NOT NULL DEFAULT '[]',
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,             -- unix milliseconds
    updated_at  INTEGER NOT NULL
);
CREATE INDEX sessions_by_update ON sessions (updated_at DESC);
