-- The whole product's schema, multi-tenant from the first table.
-- Ids are UUIDv7 text; times are Unix milliseconds; JSON is stored as text.
-- The PostgreSQL file of the same name holds the same tables.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT UNIQUE,
    display_name  TEXT NOT NULL,
    is_local      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE identities (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (provider, subject)
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        BLOB NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    key_hash         TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER,
    revoked_at       INTEGER
);
CREATE INDEX api_keys_org ON api_keys(organization_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE generations (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id         TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    description        TEXT NOT NULL,
    spec               TEXT,
    stack              TEXT NOT NULL,
    provider           TEXT,
    model              TEXT,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    created_by         TEXT REFERENCES users(id) ON DELETE SET NULL,
    queued_at          INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    error              TEXT
);
CREATE INDEX generations_org_project ON generations(organization_id, project_id);

CREATE TABLE project_files (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    current_version  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (project_id, path)
);
CREATE INDEX project_files_org ON project_files(organization_id, project_id);

CREATE TABLE project_file_versions (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    file_id          TEXT NOT NULL REFERENCES project_files(id) ON DELETE CASCADE,
    version          INTEGER NOT NULL,
    content          TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('generation', 'user', 'refinement')),
    generation_id    TEXT REFERENCES generations(id) ON DELETE SET NULL,
    created_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (file_id, version)
);

CREATE TABLE capsules (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    generation_id    TEXT REFERENCES generations(id) ON DELETE SET NULL,
    storage_path     TEXT NOT NULL,
    size_bytes       INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    signature        TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX capsules_org_project ON capsules(organization_id, project_id);

CREATE TABLE provider_configs (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    base_url           TEXT,
    models             TEXT NOT NULL DEFAULT '[]',
    secret_ciphertext  BLOB,
    secret_nonce       BLOB,
    enabled            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE usage_records (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id            TEXT REFERENCES users(id) ON DELETE SET NULL,
    generation_id      TEXT REFERENCES generations(id) ON DELETE SET NULL,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    latency_ms         INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);
CREATE INDEX usage_records_org_time ON usage_records(organization_id, created_at);

CREATE TABLE audit_log (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    actor_user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    action           TEXT NOT NULL,
    target_kind      TEXT NOT NULL,
    target_id        TEXT,
    detail           TEXT NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL
);
CREATE INDEX audit_log_org_time ON audit_log(organization_id, created_at);

-- A fresh database holds one organisation, `default`, owned by the local user.
INSERT INTO organizations (id, slug, name, created_at)
    VALUES ('00000000-0000-7000-8000-000000000001', 'default', 'Default organisation', 0);
INSERT INTO users (id, email, display_name, is_local, created_at)
    VALUES ('00000000-0000-7000-8000-000000000002', NULL, 'Local user', 1, 0);
INSERT INTO memberships (organization_id, user_id, role, created_at)
    VALUES ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002', 'owner', 0);
