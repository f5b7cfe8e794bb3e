-- vaxcert registry schema, version 3 (SQLite): doses recognised from foreign certificates.
-- A facility verifies a person's EU DCC or SMART Health Card against the loaded trust and records
-- its doses (registry.recognition).  certificate_hash is SHA-256 over what the certificate's
-- signature covers, so one certificate is recognised once, however its text was re-encoded.

CREATE TABLE recognitions (
    recognition_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_hash TEXT NOT NULL UNIQUE,     -- VerificationResult.content_hash
    person_key       TEXT NOT NULL REFERENCES persons (person_key),
    source_format    TEXT NOT NULL,            -- eu-dcc | shc
    issuer_country   TEXT NOT NULL,            -- ISO 3166-1 alpha-2
    issuer_key       TEXT NOT NULL,            -- DCC kid (hex) | SHC key thumbprint
    issuer           TEXT NOT NULL,            -- DCC 'is' | SHC 'iss' URL
    certificate_id   TEXT,                     -- DCC 'ci' | SHC 'vc.rid', when present
    doses            INTEGER NOT NULL,
    facility_id      TEXT NOT NULL,            -- the facility that recognised it
    recognised_by    TEXT NOT NULL,
    recognised_at    INTEGER NOT NULL
);
CREATE INDEX recognitions_person ON recognitions (person_key);

ALTER TABLE doses ADD COLUMN recognition_id INTEGER REFERENCES recognitions (recognition_id);
ALTER TABLE doses ADD COLUMN issuer TEXT;          -- the DCC 'is' of a recognised dose (its real issuer)
ALTER TABLE persons ADD COLUMN last_issuer TEXT;   -- 'is' of the last dose when it was recognised
