-- Every gateway call is recorded with its key, route, outcome and timing.
ALTER TABLE usage_records ADD COLUMN api_key_id TEXT REFERENCES api_keys(id) ON DELETE SET NULL;
ALTER TABLE usage_records ADD COLUMN route TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_records ADD COLUMN ttft_ms BIGINT;
ALTER TABLE usage_records ADD COLUMN status INTEGER NOT NULL DEFAULT 200;
ALTER TABLE usage_records ADD COLUMN cache_hit BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE usage_records ADD COLUMN streamed BOOLEAN NOT NULL DEFAULT FALSE;
