-- A capsule's archive is kept in the database beside its manifest, so that every replica can
-- serve it (storage_path then reads `database`).
ALTER TABLE capsules ADD COLUMN archive BLOB;
