-- vaxcert registry schema, version 2 (SQLite): the signing service (issue 14).
-- Accounts with hashed tokens, the durable queue of bulk submissions and their per-row errors,
-- rate-limit counters shared by every service process, districts of facilities, where audited
-- writes came from, and a random key for the rate-limit buckets (no personal data is stored in them).

CREATE TABLE accounts (
    account_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,                 -- facility | district | province | ministry
    area        TEXT,                          -- facility id, district, province; NULL for ministry
    token_hash  TEXT NOT NULL UNIQUE,          -- SHA-256 of the bearer token (the token is never stored)
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);

CREATE TABLE jobs (
    job_id       TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    facility     TEXT,                         -- the only facility its rows may name (NULL: any, ministry)
    format       TEXT NOT NULL,                -- csv | jsonl
    records      INTEGER NOT NULL,
    body         BLOB,                         -- the submitted file (zlib); cleared once processed
    status       TEXT NOT NULL,                -- queued | running | done | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  REAL,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    new_persons  INTEGER NOT NULL DEFAULT 0,
    failure      TEXT,
    origin       TEXT
);
CREATE INDEX jobs_open ON jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_account ON jobs (account, created_at);

CREATE TABLE job_errors (
    job_id   TEXT NOT NULL REFERENCES jobs (job_id),
    seq      INTEGER NOT NULL,
    line     INTEGER NOT NULL,
    field    TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE rate_limits (
    bucket        TEXT PRIMARY KEY,            -- keyed hash of (scope, client or ID): no personal data
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL
);

CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO settings (name, value) VALUES ('rate_limit_key', lower(hex(randomblob(32))));

ALTER TABLE facilities ADD COLUMN district TEXT;
ALTER TABLE audit_log ADD COLUMN origin TEXT;
CREATE INDEX certificates_export ON certificates (facility_id, issued_at) WHERE status = 'current';
