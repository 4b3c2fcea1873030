-- SQLite has no NOTIFY: each process watches the tail of generation_events instead (see
-- ql-orchestrator's events.rs). This migration keeps the two lists of migrations alike.
SELECT 1;
