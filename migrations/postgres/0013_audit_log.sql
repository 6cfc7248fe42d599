-- The audit log (Usher's own; Grafana keeps one only in its Enterprise edition): one row per
-- change, written in the change's transaction, newest first by id. `hash` is SHA-256 over the
-- row's content and `prev_hash` (the hash of the row before it), so an edited or removed row
-- breaks the chain (`usher audit verify`).
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  created TIMESTAMP NOT NULL,
  actor_kind VARCHAR(32) NOT NULL,
  actor_id BIGINT NULL,
  actor_login VARCHAR(190) NOT NULL,
  token_id BIGINT NULL,
  auth_method VARCHAR(32) NOT NULL,
  client_ip VARCHAR(64) NOT NULL,
  user_agent VARCHAR(255) NOT NULL,
  request_id VARCHAR(64) NOT NULL,
  org_id BIGINT NOT NULL,
  action VARCHAR(190) NOT NULL,
  target_kind VARCHAR(64) NOT NULL,
  target_id VARCHAR(190) NOT NULL,
  target_name VARCHAR(255) NOT NULL,
  changes TEXT NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  reason VARCHAR(255) NOT NULL,
  prev_hash VARCHAR(64) NOT NULL,
  hash VARCHAR(64) NOT NULL
);
CREATE INDEX IDX_audit_log_created ON audit_log (created, id);
CREATE INDEX IDX_audit_log_actor ON audit_log (actor_login, id);
CREATE INDEX IDX_audit_log_org ON audit_log (org_id, id);
CREATE INDEX IDX_audit_log_action ON audit_log (action, id);
CREATE INDEX IDX_audit_log_target ON audit_log (target_kind, target_id, id);
CREATE INDEX IDX_audit_log_outcome ON audit_log (outcome, id);
-- The chain's head: the last row's id and hash, locked by each append so that appends from
-- several instances are serial; and the anchor, the hash the oldest kept row follows (the last
-- row the retention clean-up removed, or zeros).
CREATE TABLE audit_chain (
  id BIGINT NOT NULL PRIMARY KEY,
  last_id BIGINT NOT NULL,
  last_hash VARCHAR(64) NOT NULL,
  anchor_id BIGINT NOT NULL,
  anchor_hash VARCHAR(64) NOT NULL
);
INSERT INTO audit_chain (id, last_id, last_hash, anchor_id, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, '0000000000000000000000000000000000000000000000000000000000000000');
