//! The only place that speaks SQL. One `Store` serves SQLite, PostgreSQL and MySQL/MariaDB:
//! queries are written once with `?` placeholders and backtick-quoted identifiers, rewritten for
//! PostgreSQL by [`Dialect::sql`], and run on whichever pool is configured through the
//! [`with_conn!`] macro, which expands the same body once per driver so that row types are
//! decoded by each driver natively. Tables and columns keep Grafana's names.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::audit::sink::AuditSettings;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;

use crate::config::{DatabaseSection, DbType};

pub mod audit;
pub mod dashboards;
pub mod login_attempts;
mod migrate;
pub mod orgs;
pub mod preferences;
pub mod provisioning;
pub mod quotas;
pub mod roles;
pub mod service_accounts;
pub mod sessions;
pub mod teams;
pub mod usage;
pub mod users;

pub use audit::{AuditFilter, AuditRecord, ChainReport};
pub use sessions::*;
pub use users::*;

/// Bytes of an SQLite database read through a memory map (`PRAGMA mmap_size`): 256 MiB holds
/// the indexes of a million users; a larger file is read normally past that point.
const SQLITE_MMAP_SIZE: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(Missing),
    #[error("{0}")]
    Conflict(Conflict),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration {id} failed: {source}")]
    Migration { id: String, source: sqlx::Error },
    /// `usher_migration` (where releases before sqlx's migrator recorded migrations) names a
    /// migration this build does not have.
    #[error("the database records migration {0:?} in usher_migration, which this build of Usher does not have: it was migrated by a newer or different build")]
    UnknownLegacyMigration(String),
    /// `_sqlx_migrations` holds a version this build does not have.
    #[error("the database has migration {0} applied, which this build of Usher does not have: it was migrated by a newer build")]
    UnknownMigration(i64),
    #[error("{0}")]
    Config(String),
}

impl StoreError {
    /// A unique-constraint violation as the conflict it means where it happened (a taken name,
    /// an existing member …); any other error unchanged.
    pub fn or_conflict(self, conflict: Conflict) -> StoreError {
        if self.is_unique_violation() {
            StoreError::Conflict(conflict)
        } else {
            self
        }
    }

    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// True when the database refused a value as too long for its column or as holding a
    /// character it cannot store (PostgreSQL's NUL): PostgreSQL's SQLSTATE 22001, 22021 and
    /// 22P05; MySQL's 22001 (1406, data too long) and HY000/1366 (incorrect string value).
    pub fn is_unstorable_value(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                let code = e.code();
                matches!(code.as_deref(), Some("22001" | "22021" | "22P05"))
                    || e.message().starts_with("Incorrect string value")
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

impl Dialect {
    /// Rewrites a query written for MySQL/SQLite (`?`, backticks) for this dialect.
    pub fn sql<'a>(self, query: &'a str) -> Cow<'a, str> {
        match self {
            Dialect::Sqlite | Dialect::MySql => Cow::Borrowed(query),
            Dialect::Postgres => {
                let mut out = String::with_capacity(query.len() + 16);
                let mut n = 0;
                let mut in_string = false;
                for c in query.chars() {
                    match c {
                        '\'' => {
                            in_string = !in_string;
                            out.push(c);
                        }
                        '?' if !in_string => {
                            n += 1;
                            out.push('$');
                            out.push_str(&n.to_string());
                        }
                        '`' if !in_string => out.push('"'),
                        _ => out.push(c),
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// `expr` as a 64-bit integer (for INTEGER columns read into `i64`).
    pub fn bigint(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
            Dialect::MySql => format!("CAST({expr} AS SIGNED)"),
        }
    }

    /// ` FOR UPDATE` where the dialect locks the rows a read finds until the transaction ends
    /// (SQLite has no row locks; its write transactions are serial).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            _ => " FOR UPDATE",
        }
    }

    /// SQL for "true" in a literal context.
    pub fn bool_lit(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs `$body` with `$c` bound to the pool (or transaction connection) of whichever driver is in
/// use. The body is type-checked once per driver.
#[macro_export]
macro_rules! with_conn {
    ($pool:expr, $c:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($c) => $body,
            $crate::store::Pool::Postgres($c) => $body,
            $crate::store::Pool::MySql($c) => $body,
        }
    };
}

/// Like [`with_conn!`] for an open transaction ([`Tx`]).
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut ($tx).conn {
            $crate::store::TxConn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxConn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxConn::MySql(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Like [`with_conn!`] for a [`Db`]: the pool, or an open transaction. The body may use `$c`
/// once (a transaction's connection is a unique borrow).
#[macro_export]
macro_rules! with_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Pool(pool) => $crate::with_conn!(pool, $c => $body),
            $crate::store::Db::Tx(tx) => $crate::with_tx!(tx, $c => $body),
        }
    };
}

/// Where a read runs: on the pool, or inside a caller's transaction (so that a check and the
/// write it guards see the same data).
pub enum Db<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl Db<'_> {
    /// What a counting read appends inside a transaction so that it sees the latest committed
    /// rows: MySQL's REPEATABLE READ would otherwise answer from the snapshot of the
    /// transaction's first read (` LOCK IN SHARE MODE` reads current rows); PostgreSQL's READ
    /// COMMITTED and SQLite's serial writers see them anyway.
    pub fn current_read(&self) -> &'static str {
        match self {
            Db::Tx(tx) if tx.dialect == Dialect::MySql => " LOCK IN SHARE MODE",
            _ => "",
        }
    }
}

impl<'a> From<&'a mut Tx> for Db<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Db::Tx(tx)
    }
}

/// The driver's transaction inside a [`Tx`].
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back. Committing bumps
/// the store's generation (see [`Store::generation`]): whatever the transaction wrote, cached
/// user rows are read again.
pub struct Tx {
    pub(crate) conn: TxConn,
    dialect: Dialect,
    generation: Arc<AtomicU64>,
    audit: Arc<OnceLock<AuditSettings>>,
    /// Records written by [`Tx::audit`] (or skipped with `[audit] enabled = false`): counted
    /// into the request's audit scope when the transaction commits.
    audited: usize,
    /// Events to record, written by [`Tx::commit`] just before it commits.
    queued_audit: Vec<(crate::audit::Context, crate::audit::Event)>,
    /// The records written, for the JSON sinks once committed.
    pending_audit: Vec<AuditRecord>,
}

impl Tx {
    pub async fn commit(mut self) -> StoreResult<()> {
        self.append_audit().await?;
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
            TxConn::MySql(t) => t.commit().await?,
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        crate::audit::note_committed(self.audited);
        if let (Some(sink), false) = (
            self.audit.get().and_then(|a| a.sink.as_ref()),
            self.pending_audit.is_empty(),
        ) {
            sink.emit(&self.pending_audit);
        }
        Ok(())
    }

    fn audit_settings(&self) -> &AuditSettings {
        static DEFAULT: AuditSettings = AuditSettings {
            disabled: false,
            sink: None,
        };
        self.audit.get().unwrap_or(&DEFAULT)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Reads inside this transaction.
    pub fn db(&mut self) -> Db<'_> {
        Db::Tx(self)
    }

    /// Serialises this transaction with every other one that takes the same lock, until it
    /// ends: a check made after it (a quota's usage, say) cannot be raced by another instance.
    /// SQLite's write transactions are serial already (`BEGIN IMMEDIATE`); PostgreSQL and
    /// MySQL lock the lock's row in `usher_lock` (migration 0010).
    pub async fn lock(&mut self, lock: Lock) -> StoreResult<()> {
        if self.dialect == Dialect::Sqlite {
            return Ok(());
        }
        let sql = self
            .dialect
            .sql("UPDATE usher_lock SET taken = taken + 1 WHERE name = ?")
            .into_owned();
        with_tx!(self, c => {
            sqlx::query(&sql).bind(lock.name()).execute(c).await?;
        });
        Ok(())
    }
}

/// Named locks a transaction can take (rows of `usher_lock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Held while a quota's usage is compared with its limit and the counted row written.
    Quota,
    /// Held while the enabled server admins are counted and one of them changed.
    ServerAdmin,
    /// Held while an org's Admins are counted and one of them changed.
    OrgAdmin,
}

impl Lock {
    /// Every lock, in the order a transaction that needs several takes them (one order
    /// everywhere: two transactions never wait for each other's locks).
    pub const ALL: [Lock; 3] = [Lock::Quota, Lock::ServerAdmin, Lock::OrgAdmin];

    fn name(self) -> &'static str {
        match self {
            Lock::Quota => "quota",
            Lock::ServerAdmin => "server_admin",
            Lock::OrgAdmin => "org_admin",
        }
    }
}

/// What a write refused because it would break a uniqueness or membership rule. The HTTP edge
/// turns each into Grafana's status and wording (`crate::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("user already exists")]
    UserExists,
    #[error("Organization name taken")]
    OrgNameTaken,
    #[error("Team name taken")]
    TeamNameTaken,
    #[error("User is already member of this organization")]
    AlreadyOrgMember,
    #[error("User is already added to this team")]
    AlreadyTeamMember,
    #[error("token name taken")]
    TokenNameTaken,
    #[error("role already exists")]
    RoleExists,
    #[error("last org admin")]
    LastOrgAdmin,
}

/// What a write found missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("user not found")]
    User,
    #[error("organization not found")]
    Org,
    #[error("org user not found")]
    OrgUser,
}

/// Bumps the store's generation when dropped (see [`Store::changed`]).
pub(crate) struct ChangeGuard<'a>(&'a AtomicU64);

impl Drop for ChangeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) dialect: Dialect,
    /// Bumped by every write through this handle that can change who a user is or what they
    /// may do (`user`, `org_user`, `team_member` …); caches of user rows compare it. Every such
    /// write method calls [`Store::changed`].
    generation: Arc<AtomicU64>,
    /// `[audit]`, set once at start-up ([`Store::configure_audit`]).
    audit: Arc<OnceLock<AuditSettings>>,
}

impl Store {
    /// Connects as `[database]` says and runs the embedded migrations.
    pub async fn connect(db: &DatabaseSection) -> StoreResult<Self> {
        let max = if db.max_open_conn == 0 {
            16
        } else {
            db.max_open_conn
        };
        let (pool, dialect) = match db.db_type {
            DbType::Sqlite => {
                let options = if db.url.is_empty() {
                    if let Some(parent) = db.path.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            StoreError::Config(format!(
                                "cannot create data folder {}: {e}",
                                parent.display()
                            ))
                        })?;
                    }
                    SqliteConnectOptions::new().filename(&db.path)
                } else {
                    SqliteConnectOptions::from_str(db.url.expose())?
                };
                let options = options
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .busy_timeout(db.busy_timeout)
                    .journal_mode(if db.wal {
                        SqliteJournalMode::Wal
                    } else {
                        SqliteJournalMode::Delete
                    })
                    .synchronous(SqliteSynchronous::Normal)
                    // Reads through a shared memory map instead of a copy into each connection's
                    // small page cache: a count or a page over 100,000 users' indexes costs
                    // under a millisecond instead of hundreds of reads (see bench/run.sh).
                    .pragma("mmap_size", SQLITE_MMAP_SIZE.to_string())
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = SqlitePoolOptions::new()
                    .max_connections(max.min(8))
                    .min_connections(1)
                    .connect_with(options)
                    .await?;
                (Pool::Sqlite(pool), Dialect::Sqlite)
            }
            DbType::Postgres => {
                let options = network_options!(PgConnectOptions, db, 5432)
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                (Pool::Postgres(pool), Dialect::Postgres)
            }
            DbType::MySql => {
                let options = network_options!(MySqlConnectOptions, db, 3306)
                    .charset("utf8mb4")
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = MySqlPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            // Store and compare times in UTC, like the other dialects.
                            conn.execute("SET time_zone = '+00:00'").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                (Pool::MySql(pool), Dialect::MySql)
            }
        };
        let store = Store {
            generation: Arc::default(),
            pool,
            dialect,
            audit: Arc::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Applies `[audit]`; only the first call counts (start-up).
    pub fn configure_audit(&self, settings: AuditSettings) {
        let _ = self.audit.set(settings);
    }

    /// See [`Store::changed`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Marks user data as changed by this process, so that cached rows are read again. Call it
    /// first thing in a write method: the bump happens when the guard drops, after the write.
    pub(crate) fn changed(&self) -> ChangeGuard<'_> {
        ChangeGuard(&self.generation)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn sql(&self, query: &str) -> String {
        self.dialect.sql(query).into_owned()
    }

    /// Reads on the pool.
    pub fn db(&self) -> Db<'_> {
        Db::Pool(&self.pool)
    }

    /// Opens a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails with SQLITE_BUSY,
    /// whatever the busy timeout, when another connection committed in between (for instance a
    /// `last_seen_at` update).
    pub async fn begin(&self) -> StoreResult<Tx> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxConn::Postgres(p.begin().await?),
            Pool::MySql(p) => TxConn::MySql(p.begin().await?),
        };
        Ok(Tx {
            conn,
            dialect: self.dialect,
            generation: self.generation.clone(),
            audit: self.audit.clone(),
            audited: 0,
            queued_audit: Vec::new(),
            pending_audit: Vec::new(),
        })
    }

    /// A trivial round trip, for `/api/health`.
    pub async fn ping(&self) -> StoreResult<()> {
        with_conn!(&self.pool, c => {
            sqlx::query("SELECT 1").execute(c).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        with_conn!(&self.pool, c => c.close().await)
    }
}

/// The connect options of a network database: from `[database] url`, or else from Grafana's split
/// keys (`host` with an optional `:port`, `user`, `password`, `name`).
macro_rules! network_options {
    ($options:ty, $db:expr, $default_port:expr) => {{
        let db = $db;
        if db.url.is_empty() {
            let (host, port) = split_host(&db.host, $default_port);
            <$options>::new()
                .host(&host)
                .port(port)
                .username(&db.user)
                .password(db.password.expose())
                .database(&db.name)
        } else {
            <$options>::from_str(db.url.expose())?
        }
    }};
}
use network_options;

fn split_host(host: &str, default_port: u16) -> (String, u16) {
    match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => (h.to_string(), p.parse().unwrap_or(default_port)),
        _ => (host.to_string(), default_port),
    }
}

/// A timestamp as stored: UTC, whole seconds (Grafana's `DATETIME` precision on every dialect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbTime(pub NaiveDateTime);

impl DbTime {
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }
    pub fn from_utc(t: DateTime<Utc>) -> Self {
        DbTime(t.naive_utc().with_nanosecond(0).unwrap_or(t.naive_utc()))
    }
    pub fn get(self) -> NaiveDateTime {
        self.0
    }
}

/// A bound value for queries built at run time (see [`Store::insert_returning_id`]).
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Time(NaiveDateTime),
}

/// Values to bind, in placeholder order.
#[derive(Debug, Clone, Default)]
pub struct Args(pub Vec<Arg>);

impl Args {
    pub fn text(mut self, v: &str) -> Self {
        self.0.push(Arg::Text(v.to_string()));
        self
    }
    pub fn opt_text(mut self, v: Option<&str>) -> Self {
        self.0.push(Arg::OptText(v.map(str::to_string)));
        self
    }
    pub fn int(mut self, v: i64) -> Self {
        self.0.push(Arg::Int(v));
        self
    }
    pub fn opt_int(mut self, v: Option<i64>) -> Self {
        self.0.push(Arg::OptInt(v));
        self
    }
    pub fn boolean(mut self, v: bool) -> Self {
        self.0.push(Arg::Bool(v));
        self
    }
    pub fn time(mut self, v: NaiveDateTime) -> Self {
        self.0.push(Arg::Time(v));
        self
    }
}

/// Binds every value of an [`Args`] to a query, whatever the driver.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.0 {
            q = match a {
                $crate::store::Arg::Text(v) => q.bind(v),
                $crate::store::Arg::OptText(v) => q.bind(v),
                $crate::store::Arg::Int(v) => q.bind(v),
                $crate::store::Arg::OptInt(v) => q.bind(v),
                $crate::store::Arg::Bool(v) => q.bind(v),
                $crate::store::Arg::Time(v) => q.bind(v),
            };
        }
        q
    }};
}

impl Store {
    /// Runs one statement on the pool and returns how many rows it changed.
    pub(crate) async fn execute(
        &self,
        statement: &str,
        build: impl FnOnce(Args) -> Args,
    ) -> StoreResult<u64> {
        let sql = self.sql(statement);
        let args = build(Args::default());
        let n = with_conn!(&self.pool, c => {
            bind_args!(sqlx::query(&sql), args).execute(c).await?.rows_affected()
        });
        Ok(n)
    }

    /// Runs an `INSERT` inside `tx` and returns the new row's `id`.
    pub async fn insert_returning_id(
        &self,
        tx: &mut Tx,
        insert: &str,
        build: impl FnOnce(Args) -> Args,
    ) -> StoreResult<i64> {
        tx.insert_returning_id(insert, build(Args::default())).await
    }
}

impl Tx {
    /// Runs an `INSERT` (written with `?` placeholders) and returns the new row's `id`.
    pub(crate) async fn insert_returning_id(
        &mut self,
        insert: &str,
        args: Args,
    ) -> StoreResult<i64> {
        let id = match &mut self.conn {
            TxConn::Sqlite(t) => {
                let sql = format!("{insert} RETURNING id");
                bind_args!(sqlx::query_scalar::<_, i64>(&sql), args)
                    .fetch_one(&mut **t)
                    .await?
            }
            TxConn::Postgres(t) => {
                let sql = format!("{} RETURNING id", self.dialect.sql(insert));
                bind_args!(sqlx::query_scalar::<_, i64>(&sql), args)
                    .fetch_one(&mut **t)
                    .await?
            }
            TxConn::MySql(t) => {
                let done = bind_args!(sqlx::query(insert), args)
                    .execute(&mut **t)
                    .await?;
                done.last_insert_id() as i64
            }
        };
        Ok(id)
    }
}
