-- A refinement is a generation started from another one's current files with an instruction
-- ("add a search by author"); the person then accepts or rejects its changes file by file.
ALTER TABLE generations ADD COLUMN parent_id TEXT REFERENCES generations(id) ON DELETE SET NULL;
ALTER TABLE generations ADD COLUMN instruction TEXT;

CREATE TABLE refinement_decisions (
    generation_id    TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    decision         TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    decided_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    decided_at       INTEGER NOT NULL,
    PRIMARY KEY (generation_id, path)
);
CREATE INDEX refinement_decisions_by_organization ON refinement_decisions (organization_id, generation_id);
