-- The tool loop's trail (model rounds, tool calls and their results) for requests that ran one,
-- so peek can show the loop step by step. A JSON array; '[]' for ordinary requests.
ALTER TABLE request_bodies ADD COLUMN steps TEXT NOT NULL DEFAULT '[]';
