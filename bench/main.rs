//! `usher-bench`: seeds a stopped server's SQLite database with many users and drives a running
//! server with a closed-loop HTTP/1.1 load generator.
//!
//! ```text
//! usher-bench --seed-db data/grafana.db --users 100000
//! usher-bench --url http://127.0.0.1:3999 --path /api/user --basic admin:admin \
//!             --concurrency 32 --warmup 2s --duration 10s --json
//! usher-bench --url http://127.0.0.1:3999 --path /api/user --cookie grafana_session=…
//! usher-bench --url http://127.0.0.1:3999 --path /api/user --bearer glsa_…
//! usher-bench --url http://127.0.0.1:3999 --path /login --method POST \
//!             --body '{"user":"admin","password":"admin"}'
//! usher-bench --url http://127.0.0.1:3999 --path /login --method POST \
//!             --body '{"user":"bob","password":"…"}' --requests 1000 --concurrency 64
//! ```
//!
//! Seeding inserts `user000001` … `userNNNNNN` (email `user000001@example.com`, name
//! `User 000001`, password `password`) plus their `org_user` rows (org 1, Viewer) in one
//! transaction; existing logins are skipped, so seeding twice is harmless. The schema's triggers
//! keep the search index up to date. Every seeded user shares one PBKDF2 hash, computed once.
//!
//! The load generator runs `--concurrency` workers, each owning one keep-alive connection and
//! sending its next request as soon as the previous response body has been read. Requests started
//! during `--warmup` are not recorded. It reports requests/s, mean, p50 and p99 latency, the count
//! of non-2xx responses (and of 503s among them) and of transport errors (after which the worker
//! reconnects). With `--requests N` the run sends exactly N requests in all instead of running
//! for `--duration`, and requests/s is N over the time they took.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{header, Request, Uri};
use hyper_util::rt::TokioIo;
use rand::distributions::{Alphanumeric, DistString};
use sqlx::{Connection, SqliteConnection};
use tokio::net::TcpStream;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser, Debug)]
#[command(
    name = "usher-bench",
    about = "Seed users into usher's SQLite database and load-test a running server"
)]
struct Args {
    /// SQLite database file of a *stopped* server to seed users into (e.g. data/grafana.db).
    #[arg(long)]
    seed_db: Option<PathBuf>,
    /// Number of users to seed.
    #[arg(long, default_value_t = 100_000)]
    users: u32,
    /// Number of teams to seed in org 1 (`team00001` …): the first has 1,000 members, the
    /// others 10 each, drawn from the seeded users.
    #[arg(long, default_value_t = 0)]
    teams: u32,
    /// Base URL of the running server to load (http only), e.g. http://127.0.0.1:3999.
    #[arg(long)]
    url: Option<String>,
    /// Path and query to GET.
    #[arg(long, default_value = "/healthz")]
    path: String,
    /// Basic auth credentials, `user:password`.
    #[arg(long)]
    basic: Option<String>,
    /// A `Cookie` header to send (e.g. a session cookie).
    #[arg(long)]
    cookie: Option<String>,
    /// A bearer token (service-account token) for `Authorization: Bearer …`.
    #[arg(long, conflicts_with = "basic")]
    bearer: Option<String>,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request body (sent as application/json). Each `{n}` in it becomes a number unique to
    /// the request (0, 1, 2 … across all workers), e.g. for a new login per request.
    #[arg(long)]
    body: Option<String>,
    /// Number of concurrent workers, one connection each.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured duration (e.g. 10s, 500ms, 1m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Send exactly this many requests in all (no warm-up), instead of running for --duration.
    #[arg(long, conflicts_with = "warmup")]
    requests: Option<u64>,
    /// Unmeasured warm-up before the measured window.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
    /// Print the summary as one JSON line on stdout (the human summary goes to stderr).
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration {s:?}"))?;
    if !(v >= 0.0 && v.is_finite()) {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.seed_db.is_none() && args.url.is_none() {
        bail!("nothing to do: give --seed-db and/or --url (see --help)");
    }
    if let Some(db) = &args.seed_db {
        seed(db, args.users).await?;
        if args.teams > 0 {
            seed_teams(db, args.teams).await?;
        }
    }
    if let Some(url) = &args.url {
        load(&args, url).await?;
    }
    Ok(())
}

/// Inserts `n` users and their org 1 Viewer memberships in one transaction.
async fn seed(db: &Path, n: u32) -> Result<()> {
    if !db.exists() {
        bail!(
            "{} does not exist: start the server once to create the schema",
            db.display()
        );
    }
    let started = Instant::now();
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let salt = Alphanumeric.sample_string(&mut rand::thread_rng(), 10);
    let mut key = [0u8; 50];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"password", salt.as_bytes(), 10_000, &mut key);
    let hash = hex::encode(key);
    let now = chrono::Utc::now();
    let created = now.format("%Y-%m-%d %H:%M:%S").to_string();
    // Grafana marks never-seen users as last seen ten years ago.
    let last_seen = (now - chrono::Duration::days(3650))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();

    let mut tx = conn.begin().await?;
    let mut inserted = 0u32;
    for i in 1..=n {
        let login = format!("user{i:06}");
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO `user` (version, login, email, name, password, salt, rands, company, \
             org_id, is_admin, email_verified, theme, created, updated, help_flags1, last_seen_at, \
             is_disabled, is_service_account, uid, is_provisioned) \
             VALUES (0, ?1, ?2, ?3, ?4, ?5, ?6, '', 1, 0, 0, '', ?7, ?7, 0, ?8, 0, 0, ?9, 0) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&login)
        .bind(format!("{login}@example.com"))
        .bind(format!("User {i:06}"))
        .bind(&hash)
        .bind(&salt)
        .bind(&salt)
        .bind(&created)
        .bind(&last_seen)
        .bind(format!("seed{i:06}"))
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| format!("inserting {login}"))?;
        let Some(id) = id else { continue };
        sqlx::query(
            "INSERT INTO org_user (org_id, user_id, role, created, updated) \
             VALUES (1, ?1, 'Viewer', ?2, ?2)",
        )
        .bind(id)
        .bind(&created)
        .execute(&mut *tx)
        .await?;
        inserted += 1;
    }
    tx.commit().await?;
    eprintln!(
        "seeded {inserted} users ({} already present) into {} in {:.1}s",
        n - inserted,
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Inserts `n` teams in org 1 with members from the seeded users, in one transaction.
async fn seed_teams(db: &Path, n: u32) -> Result<()> {
    let started = Instant::now();
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    let users: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM `user` WHERE login LIKE 'user%' ORDER BY id")
            .fetch_all(&mut conn)
            .await?;
    if users.is_empty() {
        bail!("seed users before teams");
    }
    let created = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let mut tx = conn.begin().await?;
    let mut members = 0usize;
    for i in 1..=n {
        let name = format!("team{i:05}");
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO team (name, org_id, created, updated, uid, email) \
             VALUES (?1, 1, ?2, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&name)
        .bind(&created)
        .bind(format!("seedteam{i:05}"))
        .bind(format!("{name}@example.com"))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { continue };
        let size = if i == 1 { 1000 } else { 10 };
        let start = (i as usize - 1) * 10;
        for k in 0..size.min(users.len()) {
            sqlx::query(
                "INSERT INTO team_member (org_id, team_id, user_id, external, permission, created, updated) \
                 VALUES (1, ?1, ?2, 0, 0, ?3, ?3) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(users[(start + k) % users.len()])
            .bind(&created)
            .execute(&mut *tx)
            .await?;
            members += 1;
        }
    }
    tx.commit().await?;
    eprintln!(
        "seeded {n} teams with {members} memberships in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What one worker measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    non_2xx: u64,
    unavailable: u64,
    errors: u64,
}

async fn load(args: &Args, url: &str) -> Result<()> {
    let base: Uri = url
        .parse()
        .with_context(|| format!("invalid --url {url:?}"))?;
    if base.scheme_str() != Some("http") {
        bail!("only http:// URLs are supported");
    }
    let host = base.host().context("--url has no host")?.to_string();
    let addr = format!("{host}:{}", base.port_u16().unwrap_or(80));
    let authority = base
        .authority()
        .context("--url has no authority")?
        .to_string();
    let auth = args
        .basic
        .as_ref()
        .map(|b| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        })
        .or_else(|| args.bearer.as_ref().map(|t| format!("Bearer {t}")));

    let start = Instant::now();
    let measure_from = start + args.warmup;
    // A counted run stops when its requests are sent (or, at the latest, after an hour).
    let deadline = match args.requests {
        Some(_) => start + Duration::from_secs(3600),
        None => measure_from + args.duration,
    };
    let budget = Arc::new(AtomicU64::new(args.requests.unwrap_or(u64::MAX)));
    let method: hyper::Method = args
        .method
        .parse()
        .with_context(|| format!("invalid --method {:?}", args.method))?;
    let counter = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency.max(1) {
        let target = Target {
            addr: addr.clone(),
            authority: authority.clone(),
            method: method.clone(),
            path: args.path.clone(),
            auth: auth.clone(),
            cookie: args.cookie.clone(),
            body: args.body.clone(),
            budget: Arc::clone(&budget),
            counter: Arc::clone(&counter),
        };
        workers.push(tokio::spawn(async move {
            worker(&target, measure_from, deadline).await
        }));
    }
    let mut total = Tally::default();
    for w in workers {
        let t = w.await??;
        total.latencies_us.extend(t.latencies_us);
        total.non_2xx += t.non_2xx;
        total.unavailable += t.unavailable;
        total.errors += t.errors;
    }
    let elapsed = match args.requests {
        Some(_) => start.elapsed(),
        None => args.duration,
    };
    report(args, &total, elapsed);
    Ok(())
}

/// What each worker sends.
struct Target {
    addr: String,
    authority: String,
    method: hyper::Method,
    path: String,
    auth: Option<String>,
    cookie: Option<String>,
    body: Option<String>,
    /// Requests left to send in all workers together (`u64::MAX` for a timed run).
    budget: Arc<AtomicU64>,
    /// The next `{n}` of a body.
    counter: Arc<AtomicU64>,
}

async fn connect(addr: &str) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn worker(t: &Target, measure_from: Instant, deadline: Instant) -> Result<Tally> {
    let mut tally = Tally::default();
    let addr = t.addr.as_str();
    let mut sender = connect(addr).await?;
    loop {
        let sent = Instant::now();
        if sent >= deadline {
            break;
        }
        let claimed = t
            .budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        if claimed.is_err() {
            break;
        }
        let mut req = Request::builder()
            .method(t.method.clone())
            .uri(t.path.as_str())
            .header(header::HOST, t.authority.as_str());
        if let Some(a) = &t.auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        if let Some(c) = &t.cookie {
            req = req.header(header::COOKIE, c);
        }
        if t.body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let body = match &t.body {
            Some(b) if b.contains("{n}") => {
                let n = t.counter.fetch_add(1, Ordering::Relaxed);
                Bytes::from(b.replace("{n}", &n.to_string()))
            }
            Some(b) => Bytes::from(b.clone()),
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body))?;
        // A request still unanswered after REQUEST_TIMEOUT counts as an error, so runs stay bounded.
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            sender.ready().await?;
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            resp.into_body().collect().await?;
            anyhow::Ok(status)
        })
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")));
        let measured = sent >= measure_from;
        match outcome {
            Ok(status) if measured => {
                tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                if !status.is_success() {
                    tally.non_2xx += 1;
                }
                if status == hyper::StatusCode::SERVICE_UNAVAILABLE {
                    tally.unavailable += 1;
                }
            }
            Ok(_) => {}
            Err(_) => {
                if measured {
                    tally.errors += 1;
                }
                if Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if let Ok(s) = connect(addr).await {
                    sender = s;
                }
            }
        }
    }
    Ok(tally)
}

fn report(args: &Args, t: &Tally, elapsed: Duration) {
    let mut lat = t.latencies_us.clone();
    lat.sort_unstable();
    let n = lat.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let idx = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        lat[idx] as f64 / 1000.0
    };
    let secs = elapsed.as_secs_f64();
    let rps = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let mean = if n == 0 {
        0.0
    } else {
        lat.iter().sum::<u64>() as f64 / n as f64 / 1000.0
    };
    let (p50, p99, max) = (pct(0.50), pct(0.99), pct(1.0));
    let human = format!(
        "{} {}  concurrency={}  duration={secs:.1}s  requests={n}  rps={rps:.1}  \
         mean={mean:.3}ms  p50={p50:.3}ms  p99={p99:.3}ms  max={max:.3}ms  non2xx={}  503={}  errors={}",
        args.method.to_uppercase(),
        args.path,
        args.concurrency,
        t.non_2xx,
        t.unavailable,
        t.errors
    );
    if args.json {
        eprintln!("{human}");
        let json = serde_json::json!({
            "path": args.path,
            "concurrency": args.concurrency,
            "duration_s": secs,
            "requests": n,
            "rps": (rps * 10.0).round() / 10.0,
            "mean_ms": (mean * 1000.0).round() / 1000.0,
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max,
            "non_2xx": t.non_2xx,
            "status_503": t.unavailable,
            "errors": t.errors,
        });
        println!("{json}");
    } else {
        println!("{human}");
    }
}
