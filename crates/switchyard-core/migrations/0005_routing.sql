-- The strategy of the alias or pool a request went through (`least_latency`…); NULL for a
-- pinned model. Its attempt trail, `attempts`, names the members skipped and why.
ALTER TABLE requests ADD COLUMN strategy TEXT;
