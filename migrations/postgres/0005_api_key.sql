-- API keys and service-account tokens (Grafana's api_key table,
-- pkg/services/sqlstore/migrations/apikey_mig.go, version 2 plus its later columns).
-- `key` holds only the PBKDF2 hash of the secret; `expires` is a Unix time in seconds (NULL: never);
-- `service_account_id` is NULL for legacy API keys.

CREATE TABLE api_key (
  id BIGSERIAL PRIMARY KEY,
  org_id BIGINT NOT NULL,
  name VARCHAR(190) NOT NULL,
  "key" VARCHAR(190) NOT NULL,
  role VARCHAR(255) NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL,
  expires BIGINT NULL,
  service_account_id BIGINT NULL,
  last_used_at TIMESTAMP NULL,
  is_revoked BOOLEAN NULL DEFAULT FALSE
);
CREATE INDEX IDX_api_key_org_id ON api_key (org_id);
CREATE UNIQUE INDEX UQE_api_key_key ON api_key ("key");
CREATE UNIQUE INDEX UQE_api_key_org_id_name ON api_key (org_id, name);
CREATE INDEX IDX_api_key_service_account_id ON api_key (service_account_id);
