-- Successful password sign-ins by login and client address (this server's own table, not in
-- Grafana). A login that signed in from an address recently is not refused there by the
-- per-address limit on failed logins, so that someone else's failures from a shared address
-- (a NAT, a proxy) cannot lock out its known users; see src/auth/brute_force.rs.
-- One row per login and address: `created` (Unix seconds) is the latest recorded success, and
-- rows older than [security] ip_address_login_protection_known_login_duration are deleted.

CREATE TABLE login_success (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  username VARCHAR(190) NOT NULL,
  ip_address VARCHAR(50) NOT NULL,
  created INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX UQE_login_success_username_ip_address ON login_success (username, ip_address);
CREATE INDEX IDX_login_success_created ON login_success (created);
