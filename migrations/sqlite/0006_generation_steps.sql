-- Generations run as workflows of steps: whether the project's tests run, the validation
-- report and capsule of a finished one, who cancelled it, and when its workflow was handed to
-- the job queue (a generation admitted but never handed over is handed over again).
ALTER TABLE generations ADD COLUMN run_tests INTEGER NOT NULL DEFAULT 1;
ALTER TABLE generations ADD COLUMN report TEXT;
ALTER TABLE generations ADD COLUMN capsule_id TEXT;
ALTER TABLE generations ADD COLUMN cancelled_by TEXT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE generations ADD COLUMN dispatched_at INTEGER;
CREATE INDEX generations_status_queued ON generations(status, queued_at);

-- One row per step of a generation: an agent's role, its input and output, attempts and times.
-- A step that succeeded is never run again; its output is read back instead.
CREATE TABLE generation_steps (
    generation_id    TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    step             TEXT NOT NULL,
    role             TEXT NOT NULL,
    position         INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL,
    input            TEXT NOT NULL,
    output           TEXT,
    error            TEXT,
    worker           TEXT,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    PRIMARY KEY (generation_id, step)
);

-- A generation packs at most one capsule, however often its last step runs.
CREATE UNIQUE INDEX capsules_one_per_generation ON capsules(generation_id) WHERE generation_id IS NOT NULL;
