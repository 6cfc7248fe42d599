-- Dashboards, enough for stars, search and provisioning (Grafana's dashboard, dashboard_tag and
-- dashboard_provisioning tables, pkg/services/sqlstore/migrations/dashboard_mig.go, as of 11.3+:
-- no title uniqueness). `data` is the dashboard JSON; `folder_uid` NULL is the General folder.

CREATE TABLE dashboard (
  id BIGSERIAL PRIMARY KEY,
  version INTEGER NOT NULL,
  slug VARCHAR(189) NOT NULL,
  title VARCHAR(189) NOT NULL,
  data TEXT NOT NULL,
  org_id BIGINT NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL,
  updated_by BIGINT NULL,
  created_by BIGINT NULL,
  gnet_id BIGINT NULL,
  plugin_id VARCHAR(189) NULL,
  folder_id BIGINT NOT NULL DEFAULT 0,
  is_folder BOOLEAN NOT NULL DEFAULT FALSE,
  has_acl BOOLEAN NOT NULL DEFAULT FALSE,
  uid VARCHAR(40) NULL,
  is_public BOOLEAN NOT NULL DEFAULT FALSE,
  deleted TIMESTAMP NULL,
  api_version VARCHAR(16) NULL,
  folder_uid VARCHAR(40) NULL
);
CREATE INDEX IDX_dashboard_org_id ON dashboard (org_id);
CREATE UNIQUE INDEX UQE_dashboard_org_id_uid ON dashboard (org_id, uid);
CREATE INDEX IDX_dashboard_title ON dashboard (title);
CREATE INDEX IDX_dashboard_org_id_folder_id_title ON dashboard (org_id, folder_id, title);

CREATE TABLE dashboard_tag (
  id BIGSERIAL PRIMARY KEY,
  dashboard_id BIGINT NOT NULL,
  term VARCHAR(50) NOT NULL,
  dashboard_uid VARCHAR(40) NULL,
  org_id BIGINT NULL DEFAULT 1
);
CREATE INDEX IDX_dashboard_tag_dashboard_id ON dashboard_tag (dashboard_id);
CREATE INDEX IDX_dashboard_tag_term ON dashboard_tag (term);

CREATE TABLE dashboard_provisioning (
  id BIGSERIAL PRIMARY KEY,
  dashboard_id BIGINT NULL,
  name VARCHAR(150) NOT NULL,
  external_id TEXT NOT NULL,
  updated INTEGER NOT NULL DEFAULT 0,
  check_sum VARCHAR(32) NULL
);
CREATE INDEX IDX_dashboard_provisioning_dashboard_id ON dashboard_provisioning (dashboard_id);
CREATE INDEX IDX_dashboard_provisioning_dashboard_id_name ON dashboard_provisioning (dashboard_id, name);
