-- Core identity tables with Grafana's names, columns and index names
-- (pkg/services/sqlstore/migrations/{user,org,team,star,preferences,user_auth_token,quota}_mig.go).
-- Grafana's schema has no foreign keys; deletes cascade in the store, inside one transaction.

CREATE TABLE `user` (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  version INTEGER NOT NULL DEFAULT 0,
  login VARCHAR(190) NOT NULL,
  email VARCHAR(190) NOT NULL,
  name VARCHAR(255) NULL,
  password VARCHAR(255) NULL,
  salt VARCHAR(50) NULL,
  rands VARCHAR(50) NULL,
  company VARCHAR(255) NULL,
  org_id BIGINT NOT NULL,
  is_admin TINYINT(1) NOT NULL,
  email_verified TINYINT(1) NULL,
  theme VARCHAR(255) NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  help_flags1 BIGINT NOT NULL DEFAULT 0,
  last_seen_at DATETIME NULL,
  is_disabled TINYINT(1) NOT NULL DEFAULT 0,
  is_service_account TINYINT(1) DEFAULT 0,
  uid VARCHAR(40) NULL,
  is_provisioned TINYINT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_user_login ON `user` (login);
CREATE UNIQUE INDEX UQE_user_email ON `user` (email);
CREATE UNIQUE INDEX UQE_user_uid ON `user` (uid);
CREATE INDEX IDX_user_login_email ON `user` (login, email);
CREATE INDEX IDX_user_is_service_account_last_seen_at ON `user` (is_service_account, last_seen_at);
-- Case-insensitive uniqueness comes from the utf8mb4 general collation (Grafana 10.3+ treats login and email case-insensitively).

CREATE TABLE user_auth (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  auth_module VARCHAR(190) NOT NULL,
  auth_id VARCHAR(190) NOT NULL,
  created DATETIME NOT NULL,
  o_auth_access_token TEXT NULL,
  o_auth_refresh_token TEXT NULL,
  o_auth_token_type TEXT NULL,
  o_auth_expiry DATETIME NULL,
  o_auth_id_token TEXT NULL,
  external_uid TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_user_auth_auth_module_auth_id ON user_auth (auth_module, auth_id);
CREATE INDEX IDX_user_auth_user_id ON user_auth (user_id);

CREATE TABLE org (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  version INTEGER NOT NULL DEFAULT 0,
  name VARCHAR(190) NOT NULL,
  address1 VARCHAR(255) NULL,
  address2 VARCHAR(255) NULL,
  city VARCHAR(255) NULL,
  state VARCHAR(255) NULL,
  zip_code VARCHAR(50) NULL,
  country VARCHAR(255) NULL,
  billing_email VARCHAR(255) NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_org_name ON org (name);

CREATE TABLE org_user (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  role VARCHAR(20) NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_org_user_org_id_user_id ON org_user (org_id, user_id);
CREATE INDEX IDX_org_user_user_id ON org_user (user_id);

CREATE TABLE team (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(190) NOT NULL,
  org_id BIGINT NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  uid VARCHAR(40) NULL,
  email VARCHAR(190) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_team_org_id_name ON team (org_id, name);
CREATE UNIQUE INDEX UQE_team_org_id_uid ON team (org_id, uid);

CREATE TABLE team_member (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  external TINYINT(1) NULL,
  permission INTEGER NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_team_member_org_id_team_id_user_id ON team_member (org_id, team_id, user_id);
CREATE INDEX IDX_team_member_team_id ON team_member (team_id);
CREATE INDEX IDX_team_member_user_id_org_id ON team_member (user_id, org_id);

CREATE TABLE star (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  dashboard_id BIGINT NOT NULL,
  dashboard_uid VARCHAR(40) NULL,
  org_id BIGINT NULL DEFAULT 1,
  updated DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_star_user_id_dashboard_id ON star (user_id, dashboard_id);

CREATE TABLE preferences (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  version INTEGER NOT NULL,
  home_dashboard_id BIGINT NOT NULL,
  timezone VARCHAR(50) NOT NULL,
  theme VARCHAR(20) NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  team_id BIGINT NULL,
  week_start VARCHAR(10) NULL,
  json_data TEXT NULL,
  home_dashboard_uid VARCHAR(40) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_preferences_org_id ON preferences (org_id);
CREATE INDEX IDX_preferences_user_id ON preferences (user_id);

CREATE TABLE user_auth_token (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  auth_token VARCHAR(100) NOT NULL,
  prev_auth_token VARCHAR(100) NOT NULL,
  user_agent VARCHAR(255) NOT NULL,
  client_ip VARCHAR(255) NOT NULL,
  auth_token_seen TINYINT(1) NOT NULL,
  seen_at BIGINT NULL,
  rotated_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  revoked_at BIGINT NULL,
  external_session_id BIGINT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_user_auth_token_auth_token ON user_auth_token (auth_token);
CREATE UNIQUE INDEX UQE_user_auth_token_prev_auth_token ON user_auth_token (prev_auth_token);
CREATE INDEX IDX_user_auth_token_user_id ON user_auth_token (user_id);
CREATE INDEX IDX_user_auth_token_revoked_at ON user_auth_token (revoked_at);

CREATE TABLE quota (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id BIGINT NULL,
  user_id BIGINT NULL,
  target VARCHAR(190) NOT NULL,
  `limit` BIGINT NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE UNIQUE INDEX UQE_quota_org_id_user_id_target ON quota (org_id, user_id, target);
