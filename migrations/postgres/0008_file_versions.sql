-- Each saved state of a generated file the person edits. Version 1 is the text the generation
-- wrote (kept on the first edit); each save, restore or accepted refinement adds the next.
CREATE TABLE file_versions (
    generation_id    TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    version          BIGINT NOT NULL,
    content          TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    note             TEXT NOT NULL,
    created_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (generation_id, path, version)
);
CREATE INDEX file_versions_by_organization ON file_versions (organization_id, generation_id);
