-- Responses kept for `previous_response_id` and `GET /v1/responses/{id}`: the whole
-- conversation up to and including each response's output (`items`, a JSON array of Responses
-- input items), and the Response object as the client got it. Kept as long as the request log.
-- Only the client key that made a response (`owner`, its name; NULL without keys) sees it.
CREATE TABLE responses (
    id          TEXT PRIMARY KEY NOT NULL,    -- resp_… (ours or the upstream's)
    model       TEXT,
    owner       TEXT,
    items       TEXT NOT NULL DEFAULT '[]',
    response    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL              -- unix milliseconds
);
CREATE INDEX responses_by_age ON responses (created_at);
