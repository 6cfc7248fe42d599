-- API keys and service-account tokens (Grafana's api_key table,
-- pkg/services/sqlstore/migrations/apikey_mig.go, version 2 plus its later columns).
-- `key` holds only the PBKDF2 hash of the secret; `expires` is a Unix time in seconds (NULL: never);
-- `service_account_id` is NULL for legacy API keys.

CREATE TABLE api_key (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  org_id INTEGER NOT NULL,
  name VARCHAR(190) NOT NULL,
  `key` VARCHAR(190) NOT NULL,
  role VARCHAR(255) NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  expires INTEGER NULL,
  service_account_id INTEGER NULL,
  last_used_at DATETIME NULL,
  is_revoked INTEGER NULL DEFAULT 0
);
CREATE INDEX IDX_api_key_org_id ON api_key (org_id);
CREATE UNIQUE INDEX UQE_api_key_key ON api_key (`key`);
CREATE UNIQUE INDEX UQE_api_key_org_id_name ON api_key (org_id, name);
CREATE INDEX IDX_api_key_service_account_id ON api_key (service_account_id);
