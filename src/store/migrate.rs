//! Embedded, per-dialect migrations, run at start-up. Each applied migration is recorded in
//! `usher_migration`, so a second start (or a second instance) changes nothing. PostgreSQL and
//! MySQL take a database-wide lock while migrating so that instances starting together queue up.

use super::{Dialect, Store, StoreError, StoreResult};
use crate::with_conn;

struct Migration {
    id: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        id: "0001_core",
        sqlite: include_str!("../../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../../migrations/postgres/0001_core.sql"),
        mysql: include_str!("../../migrations/mysql/0001_core.sql"),
    },
    Migration {
        id: "0002_login_attempt",
        sqlite: include_str!("../../migrations/sqlite/0002_login_attempt.sql"),
        postgres: include_str!("../../migrations/postgres/0002_login_attempt.sql"),
        mysql: include_str!("../../migrations/mysql/0002_login_attempt.sql"),
    },
    Migration {
        id: "0003_team_search",
        sqlite: include_str!("../../migrations/sqlite/0003_team_search.sql"),
        postgres: include_str!("../../migrations/postgres/0003_team_search.sql"),
        mysql: include_str!("../../migrations/mysql/0003_team_search.sql"),
    },
    Migration {
        id: "0004_access_control",
        sqlite: include_str!("../../migrations/sqlite/0004_access_control.sql"),
        postgres: include_str!("../../migrations/postgres/0004_access_control.sql"),
        mysql: include_str!("../../migrations/mysql/0004_access_control.sql"),
    },
    Migration {
        id: "0005_api_key",
        sqlite: include_str!("../../migrations/sqlite/0005_api_key.sql"),
        postgres: include_str!("../../migrations/postgres/0005_api_key.sql"),
        mysql: include_str!("../../migrations/mysql/0005_api_key.sql"),
    },
    Migration {
        id: "0006_dashboard",
        sqlite: include_str!("../../migrations/sqlite/0006_dashboard.sql"),
        postgres: include_str!("../../migrations/postgres/0006_dashboard.sql"),
        mysql: include_str!("../../migrations/mysql/0006_dashboard.sql"),
    },
    Migration {
        id: "0007_login_success",
        sqlite: include_str!("../../migrations/sqlite/0007_login_success.sql"),
        postgres: include_str!("../../migrations/postgres/0007_login_success.sql"),
        mysql: include_str!("../../migrations/mysql/0007_login_success.sql"),
    },
    Migration {
        id: "0008_exact_logins",
        sqlite: include_str!("../../migrations/sqlite/0008_exact_logins.sql"),
        postgres: include_str!("../../migrations/postgres/0008_exact_logins.sql"),
        mysql: include_str!("../../migrations/mysql/0008_exact_logins.sql"),
    },
    Migration {
        id: "0009_login_attempt_exact",
        sqlite: include_str!("../../migrations/sqlite/0009_login_attempt_exact.sql"),
        postgres: include_str!("../../migrations/postgres/0009_login_attempt_exact.sql"),
        mysql: include_str!("../../migrations/mysql/0009_login_attempt_exact.sql"),
    },
    Migration {
        id: "0010_usher_lock",
        sqlite: include_str!("../../migrations/sqlite/0010_usher_lock.sql"),
        postgres: include_str!("../../migrations/postgres/0010_usher_lock.sql"),
        mysql: include_str!("../../migrations/mysql/0010_usher_lock.sql"),
    },
];

/// Splits a migration file into statements. Statements end with `;` at the end of a line;
/// trigger bodies (`BEGIN … END;`) are kept whole.
fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_trigger = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("CREATE TRIGGER") {
            in_trigger = true;
        }
        current.push_str(line);
        current.push('\n');
        let ends = if in_trigger {
            trimmed == "END;"
        } else {
            trimmed.ends_with(';')
        };
        if ends {
            in_trigger = false;
            let stmt = current.trim().trim_end_matches(';').to_string();
            if !stmt.is_empty() {
                out.push(stmt);
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

pub(super) async fn run(store: &Store) -> StoreResult<()> {
    let create = match store.dialect {
        Dialect::MySql => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied DATETIME NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        }
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied TIMESTAMP NOT NULL)"
        }
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS usher_migration (id VARCHAR(190) NOT NULL PRIMARY KEY, applied DATETIME NOT NULL)"
        }
    };
    // Hold one connection for the whole run so that the session lock covers every statement.
    with_conn!(&store.pool, pool => {
        let mut conn = pool.acquire().await?;
        match store.dialect {
            Dialect::Postgres => {
                sqlx::query("SELECT pg_advisory_lock(7261984)").execute(&mut *conn).await?;
            }
            Dialect::MySql => {
                sqlx::query("SELECT GET_LOCK('usher_migration', 60)").execute(&mut *conn).await?;
            }
            Dialect::Sqlite => {}
        }
        let result: StoreResult<()> = async {
            sqlx::query(create).execute(&mut *conn).await?;
            for m in MIGRATIONS {
                let sql = store.sql("SELECT COUNT(*) FROM usher_migration WHERE id = ?");
                let done: i64 = sqlx::query_scalar(&sql).bind(m.id).fetch_one(&mut *conn).await?;
                if done > 0 {
                    continue;
                }
                let text = match store.dialect {
                    Dialect::Sqlite => m.sqlite,
                    Dialect::Postgres => m.postgres,
                    Dialect::MySql => m.mysql,
                };
                tracing::info!(migration = m.id, "applying migration");
                // DDL is transactional on SQLite and PostgreSQL; MySQL commits each statement.
                sqlx::query("BEGIN").execute(&mut *conn).await?;
                let applied: Result<(), sqlx::Error> = async {
                    for stmt in statements(text) {
                        sqlx::raw_sql(&stmt).execute(&mut *conn).await?;
                    }
                    let sql = store.sql("INSERT INTO usher_migration (id, applied) VALUES (?, ?)");
                    sqlx::query(&sql)
                        .bind(m.id)
                        .bind(chrono::Utc::now().naive_utc())
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                }
                .await;
                match applied {
                    Ok(()) => {
                        sqlx::query("COMMIT").execute(&mut *conn).await?;
                    }
                    Err(source) => {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        return Err(StoreError::Migration { id: m.id.to_string(), source });
                    }
                }
            }
            Ok(())
        }
        .await;
        match store.dialect {
            Dialect::Postgres => {
                let _ = sqlx::query("SELECT pg_advisory_unlock(7261984)").execute(&mut *conn).await;
            }
            Dialect::MySql => {
                let _ = sqlx::query("SELECT RELEASE_LOCK('usher_migration')").execute(&mut *conn).await;
            }
            Dialect::Sqlite => {}
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_stay_whole() {
        let s = statements(
            "CREATE TABLE a (x INT);\n-- c\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\nEND;\nCREATE INDEX i ON a (x);\n",
        );
        assert_eq!(s.len(), 3);
        assert!(s[1].contains("INSERT INTO b VALUES (1);"));
    }

    #[test]
    fn every_dialect_has_the_same_tables() {
        for m in MIGRATIONS {
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
            assert_eq!(tables(m.sqlite), tables(m.postgres), "{}", m.id);
            assert_eq!(tables(m.sqlite), tables(m.mysql), "{}", m.id);
        }
    }
}
