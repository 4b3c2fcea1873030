-- What the dashboard reads on every view, kept independent of how much history there is.

-- Usage per organisation and UTC day, added to in the same transaction as the usage records,
-- so that a chart of days reads one row a day instead of every call.
CREATE TABLE usage_daily (
    organization_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    day                INTEGER NOT NULL,
    calls              INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, day)
);

INSERT INTO usage_daily (organization_id, day, calls, prompt_tokens, completion_tokens, cost_micros)
SELECT organization_id, created_at / 86400000, COUNT(*), COALESCE(SUM(prompt_tokens), 0),
       COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost_micros), 0)
FROM usage_records
GROUP BY organization_id, created_at / 86400000;

-- Each project's newest generation is the greatest id among its generations.
CREATE INDEX generations_org_project_id ON generations(organization_id, project_id, id);
DROP INDEX generations_org_project;
