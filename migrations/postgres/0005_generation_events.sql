-- What happens during a generation, numbered 1, 2, … per generation, so that a subscriber can
-- replay everything after the last number it saw: no gap, no repeat.
CREATE TABLE generation_events (
    generation_id    TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    data             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (generation_id, seq)
);
