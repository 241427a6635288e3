-- Responses kept for `previous_response_id` and `GET /v1/responses/{id}`: the whole
-- conversation up to and including each response's output (`items`, a JSON array of Responses
-- input items), and the Response object as the client got it. Kept as long as the request log.
CREATE TABLE responses (
    id          TEXT PRIMARY KEY NOT NULL,    -- resp_… (ours or the upstream's)
    model       TEXT,
    items       TEXT NOT NULL DEFAULT '[]',
    response    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL              -- unix milliseconds
);
CREATE INDEX responses_by_age ON responses (created_at);
