-- Named locks for transactions that check a rule and then write (a quota's usage against its
-- limit, the last server admin, an org's last Admin). A transaction takes one by updating its
-- row, which waits for any other transaction holding it; see Tx::lock in src/store/mod.rs.
-- SQLite's write transactions are serial already, so there the table is only kept for symmetry.
CREATE TABLE usher_lock (
    name VARCHAR(40) NOT NULL PRIMARY KEY,
    taken BIGINT NOT NULL DEFAULT 0
);
INSERT INTO usher_lock (name, taken) VALUES ('quota', 0);
INSERT INTO usher_lock (name, taken) VALUES ('server_admin', 0);
INSERT INTO usher_lock (name, taken) VALUES ('org_admin', 0);
