//! Schema migrations (src/store/migrate.rs): sqlx's migrator over `migrations/<dialect>/`, one
//! lock across instances, and the in-place upgrade of databases that releases before it
//! migrated (which recorded migrations in `usher_migration`). Each test runs on every configured
//! backend (see `main.rs`).

use std::collections::BTreeSet;

use usher::config::Config;
use usher::store::{Store, StoreError, StoreResult};

use crate::{each_db, Backend, TestDb};

fn dialect_dir(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
        Backend::MySql(_) => "mysql",
    }
}

/// The versions of the migration files of the backend's dialect, read from the source tree (so a
/// file added later is expected too).
fn file_versions(backend: &Backend) -> BTreeSet<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect_dir(backend));
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n.split('_').next().unwrap().parse::<i64>().unwrap())
        .collect()
}

/// Connects the store (which migrates) as the server would.
async fn connect(db: &TestDb) -> StoreResult<Store> {
    let overrides: Vec<(&str, &str, &str)> = db
        .overrides
        .iter()
        .map(|(s, k, v)| (s.as_str(), k.as_str(), v.as_str()))
        .collect();
    let config = Config::with_overrides(&overrides).expect("test config is valid");
    Store::connect(&config.database).await
}

fn setting<'a>(db: &'a TestDb, key: &str) -> &'a str {
    &db.overrides.iter().find(|(_, k, _)| k == key).unwrap().2
}

/// Runs `sql` (any number of statements, one multi-statement query) directly on the database,
/// as it is.
async fn run_sql(db: &TestDb, sql: &str) {
    use sqlx::Connection;
    match &db.backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}?mode=rwc", setting(db, "path"));
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(setting(db, "url"))
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
        Backend::MySql(_) => {
            let mut conn = sqlx::MySqlConnection::connect(setting(db, "url"))
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
    }
}

/// Like [`run_sql`] for SQL written as the store writes it: backticks quote identifiers,
/// `{false}` and `{true}` are booleans and `{ts}` is a timestamp.
async fn exec(db: &TestDb, sql: &str) {
    let sql = match db.backend {
        Backend::Postgres(_) => sql
            .replace('`', "\"")
            .replace("{false}", "FALSE")
            .replace("{true}", "TRUE")
            .replace("{ts}", "TIMESTAMP '2025-06-01 12:00:00'"),
        Backend::MySql(_) => sql
            .replace("{false}", "0")
            .replace("{true}", "1")
            .replace("{ts}", "TIMESTAMP '2025-06-01 12:00:00'"),
        Backend::Sqlite => sql
            .replace("{false}", "0")
            .replace("{true}", "1")
            .replace("{ts}", "'2025-06-01 12:00:00'"),
    };
    run_sql(db, &sql).await;
}

/// The integers of the first column of `sql`'s rows.
async fn ints(db: &TestDb, sql: &str) -> Vec<i64> {
    use sqlx::Connection;
    match &db.backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}?mode=rwc", setting(db, "path"));
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
        Backend::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(setting(db, "url"))
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
        Backend::MySql(_) => {
            let mut conn = sqlx::MySqlConnection::connect(setting(db, "url"))
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
    }
}

/// Versions recorded in `_sqlx_migrations` as applied successfully.
async fn applied(db: &TestDb) -> BTreeSet<i64> {
    let success = match db.backend {
        Backend::Postgres(_) => "success",
        _ => "success = 1",
    };
    ints(
        db,
        &format!("SELECT version FROM _sqlx_migrations WHERE {success} ORDER BY version"),
    )
    .await
    .into_iter()
    .collect()
}

/// The migrations of the release before sqlx's migrator (commit 1d5a5a3, src/store/migrate.rs):
/// its ids and files, per dialect.
macro_rules! legacy_migrations {
    ($($id:literal),* $(,)?) => {
        &[$((
            $id,
            include_str!(concat!("../../migrations/sqlite/", $id, ".sql")),
            include_str!(concat!("../../migrations/postgres/", $id, ".sql")),
            include_str!(concat!("../../migrations/mysql/", $id, ".sql")),
        )),*]
    };
}

const LEGACY: &[(&str, &str, &str, &str)] = legacy_migrations![
    "0001_core",
    "0002_login_attempt",
    "0003_team_search",
    "0004_access_control",
    "0005_api_key",
    "0006_dashboard",
    "0007_login_success",
    "0008_exact_logins",
    "0009_login_attempt_exact",
];

/// Builds the database as the release before sqlx's migrator left it: its `usher_migration`
/// table (same statement), every one of its migrations applied and recorded, plus `extra_ids`
/// recorded as applied.
async fn legacy_database(db: &TestDb, extra_ids: &[&str]) {
    let create = match db.backend {
        Backend::MySql(_) => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied DATETIME NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        }
        Backend::Postgres(_) => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied TIMESTAMP NOT NULL)"
        }
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied DATETIME NOT NULL)"
        }
    };
    exec(db, create).await;
    for (id, sqlite, postgres, mysql) in LEGACY {
        let text = match db.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres(_) => postgres,
            Backend::MySql(_) => mysql,
        };
        run_sql(db, text).await;
        exec(db, &record(id)).await;
    }
    for id in extra_ids {
        exec(db, &record(id)).await;
    }
}

fn record(id: &str) -> String {
    format!("INSERT INTO usher_migration (id, applied) VALUES ('{id}', {{ts}})")
}

/// Data written by the old release: an org, a user in it and a team.
const LEGACY_DATA: &str = "\
INSERT INTO org (version, name, created, updated) VALUES (0, 'Legacy Org', {ts}, {ts});
INSERT INTO `user` (version, login, email, name, org_id, is_admin, created, updated) \
 SELECT 0, 'legacy', 'legacy@example.com', 'Legacy User', id, {false}, {ts}, {ts} FROM org WHERE name = 'Legacy Org';
INSERT INTO org_user (org_id, user_id, role, created, updated) \
 SELECT u.org_id, u.id, 'Editor', {ts}, {ts} FROM `user` u WHERE u.login = 'legacy';
";

#[tokio::test]
async fn a_fresh_database_migrates_once() {
    each_db(|db| async move {
        let store = connect(&db).await.expect("first start migrates");
        drop(store);
        let expected = file_versions(&db.backend);
        assert_eq!(applied(&db).await, expected);
        let before = ints(&db, "SELECT execution_time FROM _sqlx_migrations ORDER BY version").await;

        // The second start applies nothing and rewrites no row.
        let store = connect(&db).await.expect("second start is a no-op");
        drop(store);
        assert_eq!(applied(&db).await, expected);
        let after = ints(&db, "SELECT execution_time FROM _sqlx_migrations ORDER BY version").await;
        assert_eq!(before, after);
        // No record of the old kind is started.
        let legacy = ints(
            &db,
            match db.backend {
                Backend::Sqlite => {
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'usher_migration'"
                }
                Backend::Postgres(_) => {
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'usher_migration'"
                }
                Backend::MySql(_) => {
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'usher_migration'"
                }
            },
        )
        .await;
        assert_eq!(legacy, vec![0]);
        db
    })
    .await;
}

#[tokio::test]
async fn a_database_of_the_previous_release_upgrades_in_place() {
    each_db(|db| async move {
        legacy_database(&db, &[]).await;
        exec(&db, LEGACY_DATA).await;

        let store = connect(&db).await.expect("upgrade in place");
        assert_eq!(applied(&db).await, file_versions(&db.backend));
        // Adopted, not applied again: their rows carry no execution time.
        let adopted = ints(
            &db,
            &format!(
                "SELECT version FROM _sqlx_migrations WHERE execution_time = 0 AND version <= {}",
                LEGACY.len()
            ),
        )
        .await;
        assert_eq!(adopted.len(), LEGACY.len());

        // The old data is there and the schema works with it.
        let user = store
            .user_by_login_or_email("LEGACY@example.com")
            .await
            .unwrap()
            .expect("legacy user survives");
        assert_eq!(user.login, "legacy");
        assert_eq!(user.name.as_deref(), Some("Legacy User"));
        let orgs = store.user_orgs(user.id).await.unwrap();
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0].name, "Legacy Org");
        assert_eq!(orgs[0].role, "Editor");
        drop(store);

        // A second start changes nothing.
        let before = ints(
            &db,
            "SELECT execution_time FROM _sqlx_migrations ORDER BY version",
        )
        .await;
        connect(&db).await.expect("second start");
        let after = ints(
            &db,
            "SELECT execution_time FROM _sqlx_migrations ORDER BY version",
        )
        .await;
        assert_eq!(before, after);
        db
    })
    .await;
}

#[tokio::test]
async fn an_unknown_legacy_migration_is_refused() {
    each_db(|db| async move {
        legacy_database(&db, &["0042_from_a_newer_build"]).await;
        match connect(&db).await {
            Err(StoreError::UnknownLegacyMigration(id)) => {
                assert_eq!(id, "0042_from_a_newer_build");
            }
            other => panic!("expected UnknownLegacyMigration, got {other:?}"),
        }
        let e = StoreError::UnknownLegacyMigration("0042_x".into()).to_string();
        assert!(
            e.contains("\"0042_x\"") && e.contains("usher_migration"),
            "{e}"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn a_modified_migration_is_refused() {
    each_db(|db| async move {
        connect(&db).await.expect("fresh start");
        // As if 0003's file had changed since it was applied.
        let checksum = match db.backend {
            Backend::Postgres(_) => "'\\x00'::bytea",
            _ => "X'00'",
        };
        exec(
            &db,
            &format!("UPDATE _sqlx_migrations SET checksum = {checksum} WHERE version = 3"),
        )
        .await;
        match connect(&db).await {
            Err(StoreError::Migration {
                id,
                source: sqlx::Error::Migrate(e),
            }) => {
                assert_eq!(id, "0003_team_search");
                assert!(
                    matches!(*e, sqlx::migrate::MigrateError::VersionMismatch(3)),
                    "{e:?}"
                );
            }
            other => panic!("expected a checksum mismatch, got {other:?}"),
        }
        db
    })
    .await;
}

#[tokio::test]
async fn a_migration_newer_than_the_binary_is_refused() {
    each_db(|db| async move {
        connect(&db).await.expect("fresh start");
        let checksum = match db.backend {
            Backend::Postgres(_) => "'\\x00'::bytea",
            _ => "X'00'",
        };
        exec(
            &db,
            &format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (9999, 'from the future', {{true}}, {checksum}, 1)"
            ),
        )
        .await;
        match connect(&db).await {
            Err(StoreError::UnknownMigration(9999)) => {}
            other => panic!("expected UnknownMigration(9999), got {other:?}"),
        }
        db
    })
    .await;
}

/// Two instances starting together on one PostgreSQL or MySQL/MariaDB database: both start,
/// every migration is applied once. (SQLite is not run: see src/store/migrate.rs.)
#[tokio::test]
async fn concurrent_instances_migrate_once() {
    let mut ran = 0;
    for backend in Backend::all() {
        if matches!(backend, Backend::Sqlite) {
            continue;
        }
        ran += 1;
        eprintln!("-- backend {backend:?}");
        // On an empty database, then on one of the previous release.
        for legacy in [false, true] {
            let db = TestDb::create(&backend).await;
            if legacy {
                legacy_database(&db, &[]).await;
            }
            let (a, b) = tokio::join!(connect(&db), connect(&db));
            a.expect("first instance starts");
            b.expect("second instance starts");
            let versions = file_versions(&backend);
            assert_eq!(applied(&db).await, versions, "legacy: {legacy}");
            let rows = ints(&db, "SELECT COUNT(*) FROM _sqlx_migrations").await;
            assert_eq!(rows, vec![versions.len() as i64], "legacy: {legacy}");
            db.drop_db().await;
        }
    }
    if ran == 0 {
        eprintln!(
            "-- neither USHER_TEST_POSTGRES_URL nor USHER_TEST_MYSQL_URL is set: concurrent migration not exercised"
        );
    }
}
