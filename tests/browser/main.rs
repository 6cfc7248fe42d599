//! End-to-end tests of the web interface in a real Chromium, driven over WebDriver
//! (`chromedriver`, Debian's `chromium` and `chromium-driver` packages; `.ci/run` and `./test.sh`
//! install them). Each test starts its own server on a real port (SQLite in a temporary
//! directory; the pages call the same API the other suites test on all three databases) and its
//! own chromedriver, drives the main journeys a person takes, and saves a screenshot of each step
//! worth seeing under `target/screenshots/` (or `USHER_SCREENSHOTS`).
//!
//! Without chromedriver these tests fail, saying what to install: a missing browser is never a
//! pass.

mod journeys;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::net::TcpListener;

use usher::app::{build_router, build_state, AppState, Clock};
use usher::config::Config;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A server on a real port, and a chromedriver to drive browsers at it.
pub struct Harness {
    pub addr: SocketAddr,
    pub state: AppState,
    driver: Child,
    driver_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Harness {
    pub async fn start(extra: &[(&str, &str, &str)]) -> Harness {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the browser tests need Chromium and ChromeDriver: apt-get install chromium chromium-driver \
             (.ci/run and ./test.sh install them)"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("grafana.db").display().to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let root = format!("http://{addr}/");
        let mut overrides = vec![
            ("database", "type", "sqlite3"),
            ("database", "path", db.as_str()),
            ("server", "root_url", root.as_str()),
            ("log", "level", "warn"),
        ];
        overrides.extend_from_slice(extra);
        let config = Config::with_overrides(&overrides).expect("valid test config");
        let limits = usher::server::Limits::from_config(&config.server);
        let state = build_state(config, Clock::system())
            .await
            .expect("server starts");
        let router = build_router(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = usher::server::serve(listener, router, limits, async {
                let _ = stopped.await;
            })
            .await;
        });

        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Harness {
            addr,
            state,
            driver,
            driver_url,
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// A new browser (its own profile: no cookies) at `width` × 900.
    pub async fn browser_sized(&self, width: u32) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US",
                         format!("--window-size={width},900")],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.driver_url)
            .await
            .expect("a Chromium session");
        client.set_window_size(width, 900).await.ok();
        Browser {
            client,
            base: format!("http://{}", self.addr),
        }
    }

    pub async fn browser(&self) -> Browser {
        self.browser_sized(1280).await
    }

    /// Creates a user through the API as the admin (basic auth), returning its id.
    pub async fn create_user(&self, login: &str, name: &str, password: &str) -> i64 {
        let body = json!({"name": name, "login": login, "email": format!("{login}@example.com"), "password": password});
        let res = self.api("POST", "/api/admin/users", Some(body)).await;
        res["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("created {login}: {res}"))
    }

    /// One API call as the admin, answered as JSON.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let router = build_router(self.state.clone());
        let auth = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "admin:admin")
        );
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            ))
            .unwrap();
        let res = router.oneshot(req).await.unwrap();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One browser window.
pub struct Browser {
    pub client: Client,
    pub base: String,
}

/// Where screenshots go.
fn screenshot_dir() -> PathBuf {
    match std::env::var_os("USHER_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"),
    }
}

impl Browser {
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) of the page shown now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let text = self.client.source().await.unwrap_or_default();
                panic!("no element {css} on {}: {e}\n{text}", self.path_now().await)
            }
        }
    }

    async fn path_now(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks a button that asks for confirmation, and confirms.
    pub async fn click_confirmed(&self, css: &str) {
        self.click(css).await;
        for _ in 0..60 {
            if self.client.get_alert_text().await.is_ok() {
                self.client.accept_alert().await.unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} asked for no confirmation");
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The text of the whole page.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub async fn sign_in(&self, login: &str, password: &str) {
        self.open("/login").await;
        self.fill("#user", login).await;
        self.fill("#password", password).await;
        self.click("#login").await;
        self.client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
    }

    /// Saves a screenshot of the window as `<name>.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Whether the page is wider than the window (horizontal scrolling).
    pub async fn scrolls_sideways(&self) -> bool {
        let v = self
            .client
            .execute(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        v.as_bool().unwrap_or(true)
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
