-- vaxcert registry schema, version 1 (SQLite).
-- Times are integer seconds since the epoch (UTC); lease_until is a float (seconds).
-- Booleans are integers 0/1 so that the same SQL runs on both backends.

CREATE TABLE facilities (
    facility_id   TEXT PRIMARY KEY,
    name          TEXT,
    province      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE persons (
    person_key     TEXT PRIMARY KEY,          -- 'cccd:<12 digits>' or 'passport:<NAT>:<number>'
    id_kind        TEXT NOT NULL,             -- 'cccd' | 'passport'
    id_number      TEXT NOT NULL,
    nationality    TEXT NOT NULL,
    fn             TEXT NOT NULL,
    gn             TEXT,
    fnt            TEXT NOT NULL,
    gnt            TEXT,
    dob            TEXT NOT NULL,
    dirty          INTEGER NOT NULL DEFAULT 1, -- > 0: doses or identity changed, reconcile again (a change counter)
    state          TEXT NOT NULL DEFAULT 'new', -- new | ready | held_identity | held_conflict | no_doses
    state_reason   TEXT,
    doses          INTEGER NOT NULL DEFAULT 0,
    complete       INTEGER NOT NULL DEFAULT 0,
    booster        INTEGER NOT NULL DEFAULT 0,
    last_facility  TEXT,
    tg TEXT, vp TEXT, mp TEXT, ma TEXT, dn INTEGER, sd INTEGER, dt TEXT, co TEXT,
    content_hash   TEXT,                      -- hash of what the certificate says, for record_version
    record_version INTEGER NOT NULL DEFAULT 0,
    issued_version INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until    REAL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX persons_dirty ON persons (person_key) WHERE dirty > 0;
CREATE INDEX persons_work ON persons (person_key) WHERE state = 'ready' AND record_version > issued_version;

CREATE TABLE doses (
    dose_key         TEXT PRIMARY KEY,        -- hash of the natural key (person, dn, date, facility)
    person_key       TEXT NOT NULL REFERENCES persons (person_key),
    facility_id      TEXT NOT NULL,
    dose_number      INTEGER NOT NULL,
    series_total     INTEGER NOT NULL,
    vaccination_date TEXT NOT NULL,
    tg TEXT NOT NULL, vp TEXT NOT NULL, mp TEXT NOT NULL, ma TEXT NOT NULL, co TEXT NOT NULL,
    row_hash         TEXT NOT NULL,
    source           TEXT,
    source_line      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX doses_person ON doses (person_key);
CREATE INDEX doses_facility ON doses (facility_id);

CREATE TABLE population_register (
    citizen_id  TEXT PRIMARY KEY,
    fn          TEXT NOT NULL,
    gn          TEXT,
    dob         TEXT NOT NULL,
    loaded_at   INTEGER NOT NULL
);

CREATE TABLE problems (
    person_key  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    blocking    INTEGER NOT NULL,
    detail      TEXT NOT NULL,
    dose_keys   TEXT NOT NULL,
    detected_at INTEGER NOT NULL,
    PRIMARY KEY (person_key, kind, dose_keys)
);

CREATE TABLE certificates (
    cert_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    person_key     TEXT NOT NULL,
    record_version INTEGER NOT NULL,
    uvci           TEXT NOT NULL,             -- 130 random bits: unique without an index
    hc1            TEXT NOT NULL,
    kid            TEXT NOT NULL,
    facility_id    TEXT NOT NULL,
    cert_type      TEXT NOT NULL,
    dn             INTEGER,
    sd             INTEGER,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    status         TEXT NOT NULL,              -- current | superseded | revoked
    worker         TEXT,
    created_at     INTEGER NOT NULL,
    UNIQUE (person_key, record_version)
);
CREATE UNIQUE INDEX certificates_one_current ON certificates (person_key) WHERE status = 'current';

CREATE TABLE revocations (
    revocation_id INTEGER PRIMARY KEY AUTOINCREMENT,
    cert_id       INTEGER NOT NULL UNIQUE REFERENCES certificates (cert_id),
    person_key    TEXT NOT NULL,
    uvci          TEXT NOT NULL,
    kid           TEXT NOT NULL,
    reason        TEXT NOT NULL,
    request_id    INTEGER,
    revoked_by    TEXT NOT NULL,
    revoked_at    INTEGER NOT NULL
);

CREATE TABLE correction_requests (
    request_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    person_key    TEXT NOT NULL REFERENCES persons (person_key),
    facility_id   TEXT NOT NULL,               -- the facility that reviews it
    kind          TEXT NOT NULL,               -- missing_dose | change_dose | remove_dose
    dose_key      TEXT,
    proposed      TEXT NOT NULL,               -- JSON object of the fields asked for
    note          TEXT,
    requested_by  TEXT NOT NULL,
    requested_at  INTEGER NOT NULL,
    deadline      INTEGER NOT NULL,
    status        TEXT NOT NULL,               -- pending | approved | rejected
    reviewed_by   TEXT,
    reviewed_at   INTEGER,
    review_reason TEXT
);
CREATE INDEX corrections_pending ON correction_requests (deadline) WHERE status = 'pending';

CREATE TABLE audit_log (
    audit_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reason     TEXT,
    detail     TEXT
);
CREATE INDEX audit_subject ON audit_log (subject);
