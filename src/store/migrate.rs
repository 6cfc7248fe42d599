//! Embedded, per-dialect migrations, run at start-up by sqlx's migrator. Every file in
//! `migrations/<dialect>/` (`NNNN_description.sql`) is embedded at compile time (see `build.rs`,
//! which makes cargo notice a new file) and applied in version order, once: `_sqlx_migrations`
//! records each applied version with the SHA-384 checksum of its file, and a file changed after it
//! was applied is refused.
//!
//! All of it runs on one dedicated connection that holds a database-wide lock, so instances
//! starting together queue up: PostgreSQL takes `pg_advisory_lock`, MySQL/MariaDB `GET_LOCK`
//! (sqlx's own MySQL lock calls `GET_LOCK(…, -1)`, which MariaDB refuses with a warning and a
//! NULL result instead of waiting, so sqlx's locking is turned off and this module locks), and
//! SQLite needs nothing beyond its file lock (each migration is one write transaction).
//!
//! Each migration file is sent as one multi-statement query inside a transaction. On SQLite and
//! PostgreSQL DDL is transactional, so a failing file leaves nothing behind. MySQL commits
//! implicitly around DDL: a file that fails halfway stays half-applied, and its row in
//! `_sqlx_migrations` stays `success = false`, which makes later starts refuse the database as
//! dirty until the half-applied statements are repaired and the row is removed.
//!
//! Databases created by releases before this migrator record their migrations in
//! `usher_migration` (`id` = file name without `.sql`). Those rows are adopted into
//! `_sqlx_migrations` (with the checksums of the embedded files) before the migrator runs, so such
//! a database upgrades in place; `usher_migration` itself is left as it was.

use std::collections::HashSet;

use sqlx::migrate::{Migrate, MigrateError, Migration, Migrator};
use sqlx::Connection;

use super::{Dialect, Store, StoreError, StoreResult};
use crate::with_conn;

/// PostgreSQL advisory lock key; the same key as the releases before sqlx's migrator, so an old
/// and a new instance starting together also exclude each other. (Advisory locks are per
/// database.)
const PG_LOCK_KEY: i64 = 7261984;

/// How long a MySQL instance waits for another instance's migrations.
const MYSQL_LOCK_TIMEOUT_SECS: i64 = 60;

/// The migrations of `dialect`, with sqlx's own locking off (this module locks).
fn migrator(dialect: Dialect) -> Migrator {
    let mut migrator = match dialect {
        Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("./migrations/postgres"),
        Dialect::MySql => sqlx::migrate!("./migrations/mysql"),
    };
    migrator.set_locking(false);
    migrator
}

/// The file name (without `.sql`) of an embedded migration, as `usher_migration` recorded it.
fn file_id(m: &Migration) -> String {
    format!("{:04}_{}", m.version, m.description.replace(' ', "_"))
}

/// The embedded migration that an `usher_migration` id names.
fn legacy<'m>(migrator: &'m Migrator, id: &str) -> Option<&'m Migration> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .find(|m| file_id(m) == id)
}

/// The `GET_LOCK` name for database `db`: named locks are server-wide, so the name carries the
/// database (hashed: lock names are limited to 64 characters).
fn mysql_lock_name(db: &str) -> String {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    format!("usher_migrate_{:08x}", CRC.checksum(db.as_bytes()))
}

fn migrate_error(migrator: &Migrator, error: MigrateError) -> StoreError {
    let id = |version: i64| {
        migrator
            .iter()
            .find(|m| m.version == version)
            .map(file_id)
            .unwrap_or_else(|| version.to_string())
    };
    match error {
        MigrateError::VersionMissing(version) => StoreError::UnknownMigration(version),
        MigrateError::ExecuteMigration(source, version) => StoreError::Migration {
            id: id(version),
            source,
        },
        MigrateError::Execute(source) => StoreError::Db(source),
        MigrateError::VersionMismatch(version) | MigrateError::Dirty(version) => {
            StoreError::Migration {
                id: id(version),
                source: sqlx::Error::Migrate(Box::new(error)),
            }
        }
        other => StoreError::Migration {
            id: "(migrator)".into(),
            source: sqlx::Error::Migrate(Box::new(other)),
        },
    }
}

pub(super) async fn run(store: &Store) -> StoreResult<()> {
    let dialect = store.dialect;
    let migrator = migrator(dialect);
    let legacy_table = match dialect {
        Dialect::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'usher_migration'"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'usher_migration'"
        }
        Dialect::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'usher_migration'"
        }
    };
    let adopt_sql = dialect.sql(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?, ?, ?, ?, 0)",
    );
    with_conn!(&store.pool, pool => {
        // One connection for the whole run, so that the session lock covers every statement. It is
        // closed rather than returned to the pool, which also releases the lock should the
        // explicit release below not happen.
        let mut conn = pool.acquire().await?;
        conn.close_on_drop();
        let mut mysql_lock = None;
        match dialect {
            Dialect::Postgres => {
                sqlx::query(&dialect.sql("SELECT pg_advisory_lock(?)"))
                    .bind(PG_LOCK_KEY)
                    .execute(&mut *conn)
                    .await?;
            }
            Dialect::MySql => {
                let db: Option<String> =
                    sqlx::query_scalar("SELECT DATABASE()").fetch_one(&mut *conn).await?;
                let name = mysql_lock_name(db.as_deref().unwrap_or(""));
                let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
                    .bind(&name)
                    .bind(MYSQL_LOCK_TIMEOUT_SECS)
                    .fetch_one(&mut *conn)
                    .await?;
                if got != Some(1) {
                    return Err(StoreError::Config(format!(
                        "could not take the migration lock {name:?} within {MYSQL_LOCK_TIMEOUT_SECS} s: is another instance migrating this database?"
                    )));
                }
                mysql_lock = Some(name);
            }
            Dialect::Sqlite => {}
        }
        let result: StoreResult<()> = async {
            // Adopt what a release before this migrator recorded.
            let exists: i64 = sqlx::query_scalar(legacy_table).fetch_one(&mut *conn).await?;
            if exists > 0 {
                let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM usher_migration ORDER BY id")
                    .fetch_all(&mut *conn)
                    .await?;
                let recorded = ids
                    .iter()
                    .map(|id| {
                        legacy(&migrator, id)
                            .ok_or_else(|| StoreError::UnknownLegacyMigration(id.clone()))
                    })
                    .collect::<StoreResult<Vec<&Migration>>>()?;
                conn.ensure_migrations_table()
                    .await
                    .map_err(|e| migrate_error(&migrator, e))?;
                let applied: HashSet<i64> = conn
                    .list_applied_migrations()
                    .await
                    .map_err(|e| migrate_error(&migrator, e))?
                    .into_iter()
                    .map(|m| m.version)
                    .collect();
                let missing: Vec<&Migration> = recorded
                    .into_iter()
                    .filter(|m| !applied.contains(&m.version))
                    .collect();
                if !missing.is_empty() {
                    let mut tx = Connection::begin(&mut *conn).await?;
                    for m in &missing {
                        sqlx::query(&adopt_sql)
                            .bind(m.version)
                            .bind(&*m.description)
                            .bind(true)
                            .bind(&*m.checksum)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    tracing::info!(
                        migrations = missing.len(),
                        "adopted migrations recorded in usher_migration"
                    );
                }
            }
            migrator
                .run(&mut *conn)
                .await
                .map_err(|e| migrate_error(&migrator, e))
        }
        .await;
        let released: Result<(), sqlx::Error> = match (dialect, &mysql_lock) {
            (Dialect::Postgres, _) => sqlx::query(&dialect.sql("SELECT pg_advisory_unlock(?)"))
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await
                .map(drop),
            (Dialect::MySql, Some(name)) => sqlx::query("SELECT RELEASE_LOCK(?)")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map(drop),
            _ => Ok(()),
        };
        result?;
        released?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    #[test]
    fn every_dialect_has_the_same_migrations() {
        let ids = |d: Dialect| migrator(d).iter().map(file_id).collect::<Vec<_>>();
        assert!(!ids(Dialect::Sqlite).is_empty());
        assert_eq!(ids(Dialect::Sqlite), ids(Dialect::Postgres));
        assert_eq!(ids(Dialect::Sqlite), ids(Dialect::MySql));
    }

    #[test]
    fn every_dialect_has_the_same_tables() {
        let tables = |t: &str| {
            let mut v: Vec<String> = t
                .lines()
                .filter_map(|l| l.strip_prefix("CREATE TABLE "))
                .map(|l| {
                    l.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .replace(['`', '"'], "")
                })
                .collect();
            v.sort();
            v
        };
        let sqlite = migrator(Dialect::Sqlite);
        for d in [Dialect::Postgres, Dialect::MySql] {
            let other = migrator(d);
            for (a, b) in sqlite.iter().zip(other.iter()) {
                assert_eq!(tables(&a.sql), tables(&b.sql), "{} on {d:?}", file_id(a));
            }
        }
    }

    #[test]
    fn legacy_ids_are_file_names() {
        for d in DIALECTS {
            let m = migrator(d);
            for id in [
                "0001_core",
                "0002_login_attempt",
                "0003_team_search",
                "0004_access_control",
                "0005_api_key",
                "0006_dashboard",
                "0007_login_success",
                "0008_exact_logins",
                "0009_login_attempt_exact",
            ] {
                assert_eq!(legacy(&m, id).map(file_id).as_deref(), Some(id), "{d:?}");
            }
            assert!(legacy(&m, "0001_nope").is_none());
            assert!(legacy(&m, "1_core").is_none());
        }
    }

    #[test]
    fn mysql_lock_names_fit() {
        let name = mysql_lock_name(&"x".repeat(64));
        assert!(name.len() <= 64);
        assert_ne!(mysql_lock_name("a"), mysql_lock_name("b"));
    }
}
