-- Grafana's kv_store (pkg/infra/kvstore): small values by (org_id, namespace, key). The usage
-- report keeps its anonymous id here (org 0, namespace `infra.usagestats`, key `anonymous_id`),
-- as Grafana does, so a database shared with Grafana reports the same id.
CREATE TABLE kv_store (
  id BIGSERIAL PRIMARY KEY,
  org_id BIGINT NOT NULL,
  namespace VARCHAR(190) NOT NULL,
  "key" VARCHAR(190) NOT NULL,
  value TEXT NOT NULL,
  created TIMESTAMP NOT NULL,
  updated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX UQE_kv_store_org_id_namespace_key ON kv_store (org_id, namespace, "key");
