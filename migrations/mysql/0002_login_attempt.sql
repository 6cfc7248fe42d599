-- Failed logins, for brute-force protection (Grafana's login_attempt table,
-- pkg/services/sqlstore/migrations/login_attempt_mig.go). `created` is a Unix time in seconds
-- (BIGINT here where Grafana has INT: past 2038 too).
-- The index on ip_address is this server's: it backs the per-address limit.

CREATE TABLE login_attempt (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(190) NOT NULL,
  ip_address VARCHAR(50) NOT NULL,
  created BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_login_attempt_username ON login_attempt (username);
CREATE INDEX IDX_login_attempt_ip_address ON login_attempt (ip_address);
