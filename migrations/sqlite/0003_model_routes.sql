-- Routes an organisation manages from the Providers page: a model name its clients send,
-- a strategy, and the targets (provider and model, with weights) as a JSON array.
CREATE TABLE model_routes (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    model            TEXT NOT NULL,
    strategy         TEXT NOT NULL,
    targets          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (organization_id, model)
);

-- A provider an organisation manages may name its AWS region (Bedrock).
ALTER TABLE provider_configs ADD COLUMN region TEXT;
