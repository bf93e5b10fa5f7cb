-- launchready audit trail: an append-only, hash-chained table.
-- Run by the table's owner (a migration role), never by the app's role.
-- The app's role gets INSERT and SELECT only (see postgres.Grant).
CREATE TABLE IF NOT EXISTS audit_records (
    seq        bigint      PRIMARY KEY CHECK (seq > 0),
    time       timestamptz NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('request', 'event')),
    action     text        NOT NULL DEFAULT '',
    principal  text        NOT NULL DEFAULT '',
    tenant     text        NOT NULL DEFAULT '',
    method     text        NOT NULL DEFAULT '',
    route      text        NOT NULL DEFAULT '',
    objects    jsonb,
    status     integer     NOT NULL DEFAULT 0,
    outcome    text        NOT NULL,
    request_id text        NOT NULL DEFAULT '',
    client_ip  text        NOT NULL DEFAULT '',
    prev       text        NOT NULL,
    hash       text        NOT NULL UNIQUE
);

-- Defence in depth behind the privileges: even a role that was granted
-- UPDATE or DELETE by mistake cannot rewrite history without first
-- disabling this trigger (which needs the table's owner).
CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_records is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS audit_records_no_rewrite ON audit_records;
CREATE TRIGGER audit_records_no_rewrite
    BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();

DROP TRIGGER IF EXISTS audit_records_no_truncate ON audit_records;
CREATE TRIGGER audit_records_no_truncate
    BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();

REVOKE ALL ON audit_records FROM PUBLIC;
