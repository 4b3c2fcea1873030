-- Every stored generation event is announced to every process by the transaction that stores
-- it, at its commit: listeners of `ql_generation_events` hear the generation's id (PostgreSQL
-- folds repeats within one transaction into one). No separate NOTIFY round trip after the
-- insert, and no event stored without its announcement.
CREATE FUNCTION ql_announce_generation_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ql_generation_events', NEW.generation_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER generation_events_announce AFTER INSERT ON generation_events
    FOR EACH ROW EXECUTE FUNCTION ql_announce_generation_event();
