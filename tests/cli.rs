//! The `usher` binary itself: `--help`, configuration errors at start-up, the admin password
//! reset command and graceful shutdown. Runs the real executable on the embedded SQLite default.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn usher(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_usher"));
    cmd.env("GF_PATHS_DATA", data)
        .env("GF_LOG_LEVEL", "warn")
        .env_remove("USHER_CONFIG");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET; returns the status line and the body.
fn get(port: u16, path: &str, auth: Option<&str>) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.lines().next()?.to_string();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn basic(login: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
    )
}

struct Server(std::process::Child, u16);

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let port = free_port();
        let server = Server(
            usher(data)
                .env("GF_SERVER_HTTP_ADDR", "127.0.0.1")
                .env("GF_SERVER_HTTP_PORT", port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn usher"),
            port,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if get(port, "/api/health", None).is_some_and(|(s, _)| s.contains(" 200 ")) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("usher did not become healthy on port {port}");
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "usher did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_explains_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_usher"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["server", "admin", "--config", "GF_<SECTION>_<KEY>"] {
        assert!(text.contains(word), "{word} missing from --help:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_usher"))
        .args(["admin", "reset-admin-password", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("NEW_PASSWORD"));
}

#[test]
fn an_invalid_setting_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = usher(dir.path())
        .env("GF_SERVER_HTTP_PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http_port"), "{err}");

    let ini = dir.path().join("custom.ini");
    std::fs::write(&ini, "[database]\ntype = oracle\n[unknown]\nwhatever = 1\n").unwrap();
    let out = usher(dir.path())
        .arg("--config")
        .arg(&ini)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("type"), "{err}");
}

#[test]
fn serves_with_admin_admin_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, body) = get(server.1, "/api/user", Some(&basic("admin", "admin"))).unwrap();
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains("\"isGrafanaAdmin\":true"), "{body}");
    // The embedded default: a SQLite file under [paths] data.
    assert!(dir.path().join("grafana.db").exists());
    assert!(server.stop().success());
}

#[test]
fn reset_admin_password_changes_the_stored_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = usher(dir.path())
        .args(["admin", "reset-admin-password", "n3w-secret"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = usher(dir.path())
        .args(["admin", "reset-admin-password", "abc"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a too-short password is refused");
    let out = usher(dir.path())
        .args([
            "admin",
            "reset-admin-password",
            "--user",
            "nobody",
            "n3w-secret",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown user is an error");

    let server = Server::start(dir.path());
    let (status, _) = get(server.1, "/api/user", Some(&basic("admin", "admin"))).unwrap();
    assert!(status.contains(" 401 "), "{status}");
    let (status, _) = get(server.1, "/api/user", Some(&basic("admin", "n3w-secret"))).unwrap();
    assert!(status.contains(" 200 "), "{status}");
    // The change is recorded with the command line as its actor, the password by name only.
    let (status, body) = get(
        server.1,
        "/api/admin/audit?action=users.password:write",
        Some(&basic("admin", "n3w-secret")),
    )
    .unwrap();
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains(r#""actorKind":"cli""#), "{body}");
    assert!(body.contains(r#""actorLogin":"cli""#), "{body}");
    assert!(body.contains(r#""targetName":"admin""#), "{body}");
    assert!(
        body.contains(r#""changes":[{"field":"password","secret":true}]"#),
        "{body}"
    );
    assert!(!body.contains("n3w-secret"), "{body}");
    assert!(server.stop().success());
}

/// One raw HTTP/1.1 exchange; returns the whole response text.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn sessions_record_the_peer_address_of_the_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let body = r#"{"user":"admin","password":"admin"}"#;
    let res = exchange(
        server.1,
        &format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nUser-Agent: curl/8.5.0\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    let token = res
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: grafana_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    // X-Forwarded-For is not trusted unless [server] client_ip_header says so.
    let res = exchange(
        server.1,
        &format!(
            "GET /api/user/auth-tokens HTTP/1.1\r\nHost: localhost\r\n\
             Cookie: grafana_session={token}\r\nX-Forwarded-For: 203.0.113.9\r\n\
             Connection: close\r\n\r\n"
        ),
    );
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.contains(r#""clientIp":"127.0.0.1""#), "{res}");
    assert!(res.contains(r#""browser":"curl""#), "{res}");
    assert!(server.stop().success());
}

/// `usher audit verify` walks the hash chain (src/store/audit.rs): intact after real changes,
/// and an edited or removed record is named, with exit status 1.
#[test]
fn audit_verify_names_the_first_broken_record() {
    let dir = tempfile::tempdir().unwrap();
    for pw in ["first-secret", "second-secret", "third-secret"] {
        let out = usher(dir.path())
            .args(["admin", "reset-admin-password", pw])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let verify = || {
        usher(dir.path())
            .args(["audit", "verify"])
            .output()
            .unwrap()
    };
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    // Three password changes, and each start's provisioning reloads (users and dashboards).
    assert!(
        text.contains("audit chain intact: 9 records checked"),
        "{text}"
    );

    let db = dir.path().join("grafana.db");
    let sql = |statement: &str| {
        let status = Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
            ])
            .arg(&db)
            .arg(statement)
            .status()
            .unwrap();
        assert!(status.success(), "{statement}");
    };
    let first_id = || {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT MIN(id) FROM audit_log').fetchone()[0])",
            ])
            .arg(&db)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    let id = first_id();
    // An edit of the oldest record's content.
    sql(&format!(
        "UPDATE audit_log SET client_ip = '10.9.9.9' WHERE id = {id}"
    ));
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("broken at record {id}: its content was changed")),
        "{text}"
    );
    // Removing it instead: the next one no longer follows the chain's anchor.
    sql(&format!("DELETE FROM audit_log WHERE id = {id}"));
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("broken at record {}", id + 1)),
        "{text}"
    );
    assert!(text.contains("removed or changed"), "{text}");
}
