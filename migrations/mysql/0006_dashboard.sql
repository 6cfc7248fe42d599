-- Dashboards, enough for stars, search and provisioning (Grafana's dashboard, dashboard_tag and
-- dashboard_provisioning tables, pkg/services/sqlstore/migrations/dashboard_mig.go, as of 11.3+:
-- no title uniqueness). `data` is the dashboard JSON; `folder_uid` NULL is the General folder.

CREATE TABLE dashboard (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  version INTEGER NOT NULL,
  slug VARCHAR(189) NOT NULL,
  title VARCHAR(189) NOT NULL,
  data MEDIUMTEXT NOT NULL,
  org_id BIGINT NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  updated_by BIGINT NULL,
  created_by BIGINT NULL,
  gnet_id BIGINT NULL,
  plugin_id VARCHAR(189) NULL,
  folder_id BIGINT NOT NULL DEFAULT 0,
  is_folder TINYINT(1) NOT NULL DEFAULT 0,
  has_acl TINYINT(1) NOT NULL DEFAULT 0,
  uid VARCHAR(40) NULL,
  is_public TINYINT(1) NOT NULL DEFAULT 0,
  deleted DATETIME NULL,
  api_version VARCHAR(16) NULL,
  folder_uid VARCHAR(40) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_dashboard_org_id ON dashboard (org_id);
CREATE UNIQUE INDEX UQE_dashboard_org_id_uid ON dashboard (org_id, uid);
CREATE INDEX IDX_dashboard_title ON dashboard (title);
CREATE INDEX IDX_dashboard_org_id_folder_id_title ON dashboard (org_id, folder_id, title);

CREATE TABLE dashboard_tag (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dashboard_id BIGINT NOT NULL,
  term VARCHAR(50) NOT NULL,
  dashboard_uid VARCHAR(40) NULL,
  org_id BIGINT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_dashboard_tag_dashboard_id ON dashboard_tag (dashboard_id);
CREATE INDEX IDX_dashboard_tag_term ON dashboard_tag (term);

CREATE TABLE dashboard_provisioning (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dashboard_id BIGINT NULL,
  name VARCHAR(150) NOT NULL,
  external_id TEXT NOT NULL,
  updated INTEGER NOT NULL DEFAULT 0,
  check_sum VARCHAR(32) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE INDEX IDX_dashboard_provisioning_dashboard_id ON dashboard_provisioning (dashboard_id);
CREATE INDEX IDX_dashboard_provisioning_dashboard_id_name ON dashboard_provisioning (dashboard_id, name);
