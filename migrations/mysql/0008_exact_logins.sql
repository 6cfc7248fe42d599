-- Exact login and email comparison. The utf8mb4_general_ci collation of 0001 compares
-- accent-blind, so `jose` found (and signed in as) `josé`, and the two could not both exist.
-- Logins and emails are stored folded (NFKC, lower case: src/domain/login.rs); the byte
-- columns below compare the folded values exactly, as SQLite and PostgreSQL do, and carry the
-- uniqueness. (The columns themselves keep their collation: sqlx reads a utf8mb4_bin column as
-- bytes, not text.) Rows written before logins were folded are lower-cased first, while the
-- case-insensitive unique indexes still guarantee that no two rows differ only by case.
UPDATE `user` SET login = LOWER(login), email = LOWER(email);
ALTER TABLE `user` ADD COLUMN login_bytes VARBINARY(760) AS (CAST(login AS BINARY)) VIRTUAL, ADD COLUMN email_bytes VARBINARY(760) AS (CAST(email AS BINARY)) VIRTUAL;
CREATE UNIQUE INDEX UQE_user_login_bytes ON `user` (login_bytes);
CREATE UNIQUE INDEX UQE_user_email_bytes ON `user` (email_bytes);
DROP INDEX UQE_user_login ON `user`;
DROP INDEX UQE_user_email ON `user`;
CREATE INDEX IDX_user_email ON `user` (email);
