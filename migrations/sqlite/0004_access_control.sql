-- Custom roles and their assignments, in Grafana's access-control tables
-- (pkg/services/sqlstore/migrations/accesscontrol). A role or assignment with org_id 0 is global.

CREATE TABLE role (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  name VARCHAR(190) NOT NULL,
  description TEXT NULL,
  version INTEGER NOT NULL,
  org_id INTEGER NOT NULL,
  uid VARCHAR(40) NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  display_name VARCHAR(190) NULL,
  group_name VARCHAR(190) NULL,
  hidden INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX UQE_role_org_id_name ON role (org_id, name);
CREATE UNIQUE INDEX UQE_role_uid ON role (uid);

CREATE TABLE permission (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  role_id INTEGER NOT NULL,
  action VARCHAR(190) NOT NULL,
  scope VARCHAR(190) NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL
);
CREATE INDEX IDX_permission_role_id ON permission (role_id);

CREATE TABLE builtin_role (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  role VARCHAR(190) NOT NULL,
  role_id INTEGER NOT NULL,
  created DATETIME NOT NULL,
  updated DATETIME NOT NULL,
  org_id INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX UQE_builtin_role_org_id_role_id_role ON builtin_role (org_id, role_id, role);

CREATE TABLE user_role (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  org_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  role_id INTEGER NOT NULL,
  created DATETIME NOT NULL
);
CREATE UNIQUE INDEX UQE_user_role_org_id_user_id_role_id ON user_role (org_id, user_id, role_id);
CREATE INDEX IDX_user_role_user_id ON user_role (user_id);

CREATE TABLE team_role (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  org_id INTEGER NOT NULL,
  team_id INTEGER NOT NULL,
  role_id INTEGER NOT NULL,
  created DATETIME NOT NULL
);
CREATE UNIQUE INDEX UQE_team_role_org_id_team_id_role_id ON team_role (org_id, team_id, role_id);
CREATE INDEX IDX_team_role_team_id ON team_role (team_id);
