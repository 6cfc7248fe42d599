-- Custom roles and their assignments, in Grafana's access-control tables
-- (pkg/services/sqlstore/migrations/accesscontrol). A role or assignment with org_id 0 is global.

CREATE TABLE role (
  id BIGSERIAL PRIMARY KEY,
  name VARCHAR(190) NOT NULL,
  description TEXT NULL,
  version BIGINT NOT NULL,
  org_id BIGINT NOT NULL,
  uid VARCHAR(40) NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL,
  display_name VARCHAR(190) NULL,
  group_name VARCHAR(190) NULL,
  hidden BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX UQE_role_org_id_name ON role (org_id, name);
CREATE UNIQUE INDEX UQE_role_uid ON role (uid);

CREATE TABLE permission (
  id BIGSERIAL PRIMARY KEY,
  role_id BIGINT NOT NULL,
  action VARCHAR(190) NOT NULL,
  scope VARCHAR(190) NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL
);
CREATE INDEX IDX_permission_role_id ON permission (role_id);

CREATE TABLE builtin_role (
  id BIGSERIAL PRIMARY KEY,
  role VARCHAR(190) NOT NULL,
  role_id BIGINT NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL,
  org_id BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX UQE_builtin_role_org_id_role_id_role ON builtin_role (org_id, role_id, role);

CREATE TABLE user_role (
  id BIGSERIAL PRIMARY KEY,
  org_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  role_id BIGINT NOT NULL,
  created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX UQE_user_role_org_id_user_id_role_id ON user_role (org_id, user_id, role_id);
CREATE INDEX IDX_user_role_user_id ON user_role (user_id);

CREATE TABLE team_role (
  id BIGSERIAL PRIMARY KEY,
  org_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  role_id BIGINT NOT NULL,
  created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX UQE_team_role_org_id_team_id_role_id ON team_role (org_id, team_id, role_id);
CREATE INDEX IDX_team_role_team_id ON team_role (team_id);
