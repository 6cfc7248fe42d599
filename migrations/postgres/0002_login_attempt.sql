-- Failed logins, for brute-force protection (Grafana's login_attempt table,
-- pkg/services/sqlstore/migrations/login_attempt_mig.go). `created` is a Unix time in seconds
-- (BIGINT here where Grafana has INT: past 2038 too).
-- The index on ip_address is this server's: it backs the per-address limit.

CREATE TABLE login_attempt (
  id BIGSERIAL PRIMARY KEY,
  username VARCHAR(190) NOT NULL,
  ip_address VARCHAR(50) NOT NULL,
  created BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IDX_login_attempt_username ON login_attempt (username);
CREATE INDEX IDX_login_attempt_ip_address ON login_attempt (ip_address);
