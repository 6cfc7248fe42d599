-- Failed logins are counted per login exactly, as on SQLite and PostgreSQL: under the
-- utf8mb4_general_ci collation of 0002, failures typed as `jose` counted towards the lockout of
-- `josé` (see 0008_exact_logins). The column is only compared, never read back as text, so the
-- binary collation is safe here.
ALTER TABLE login_attempt MODIFY username VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
