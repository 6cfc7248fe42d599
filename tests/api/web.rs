//! The web interface through the real router: sign-in form, session-bound CSRF tokens, the
//! security headers, escaping, and that pages answer what the API would. [`WebUser`] is the
//! helper every page test uses: a browser that signs in with the form, keeps the cookies, and
//! posts forms with the CSRF token of the last page it loaded.

use axum::http::{Method, StatusCode};

use crate::{each_backend, each_backend_with, TestApp, TestResponse};

/// A person using the web interface: cookies like a browser, forms with the page's token.
pub struct WebUser<'a> {
    pub app: &'a TestApp,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
    csrf: std::sync::Mutex<String>,
    pub agent: String,
}

/// The value of the hidden `_csrf` field of a page, if it has one.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn encode(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

impl<'a> WebUser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        WebUser {
            app,
            cookies: Default::default(),
            csrf: Default::default(),
            agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36".into(),
        }
    }

    /// Signs in with the form (`GET /login`, then `POST /login`); panics unless it worked.
    pub async fn sign_in(app: &'a TestApp, login: &str, password: &str) -> WebUser<'a> {
        let web = WebUser::new(app);
        let res = web.try_sign_in(login, password).await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "sign-in of {login}: {res:?}"
        );
        web
    }

    /// The form sign-in, answered as it is.
    pub async fn try_sign_in(&self, login: &str, password: &str) -> TestResponse {
        self.page("/login").await;
        self.submit("/login", &[("user", login), ("password", password)])
            .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, res: &TestResponse) {
        let mut jar = self.cookies.lock().unwrap();
        for c in res.set_cookies() {
            let first = c.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let gone = c.contains("Max-Age=0") || value.is_empty();
            jar.retain(|(k, _)| k != name);
            if !gone {
                jar.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The CSRF token of the last page that had one.
    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
    ) -> TestResponse {
        let cookie = self.cookie_header();
        let mut headers = vec![("user-agent", self.agent.as_str())];
        if !cookie.is_empty() {
            headers.push(("cookie", cookie.as_str()));
        }
        headers.extend_from_slice(extra);
        let res = self.app.request_with(method, path, &headers, body).await;
        self.keep_cookies(&res);
        if let Some(token) = csrf_of(&res.text) {
            *self.csrf.lock().unwrap() = token;
        }
        res
    }

    /// `GET path`, as a browser loads a page.
    pub async fn page(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, &[], None).await
    }

    /// Posts a form with the CSRF token of the last page loaded.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf();
        let mut all = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &encode(&all)).await
    }

    /// Posts a form body as given (no token added).
    pub async fn post_raw(&self, path: &str, body: &str) -> TestResponse {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(body),
        )
        .await
    }

    /// Follows a 303 to the page it names.
    pub async fn follow(&self, res: &TestResponse) -> TestResponse {
        let to = location(res);
        self.page(&to).await
    }
}

/// The `Location` of a redirect.
#[track_caller]
pub fn location(res: &TestResponse) -> String {
    res.headers
        .get("location")
        .unwrap_or_else(|| panic!("no Location: {res:?}"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_page_sends_a_stranger_to_sign_in_and_back_afterwards() {
    each_backend(|app| async move {
        let web = WebUser::new(&app);
        let res = web.page("/admin/users?query=a").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            "/login?redirectTo=%2Fadmin%2Fusers%3Fquery%3Da"
        );
        let form = web.page(&location(&res)).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.text
                .contains("name=\"redirectTo\" value=\"/admin/users?query=a\""),
            "{}",
            form.text
        );
        let res = web
            .submit(
                "/login",
                &[
                    ("user", "admin"),
                    ("password", "admin"),
                    ("redirectTo", "/admin/users?query=a"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/admin/users?query=a");
        assert!(web.cookie("grafana_session").is_some());
        // Never on to another site.
        let res = web
            .submit(
                "/login",
                &[
                    ("user", "admin"),
                    ("password", "admin"),
                    ("redirectTo", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(location(&res), "/");
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_and_a_locked_login_get_the_same_answer() {
    each_backend_with(
        &[("security", "brute_force_login_protection_max_attempts", "2")],
        |app| async move {
            let web = WebUser::new(&app);
            let res = web.try_sign_in("admin", "wrong").await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED);
            // Grafana's wording (pkg/services/authn/clients/password.go: errInvalidPassword).
            assert!(
                res.text.contains("Invalid username or password"),
                "{}",
                res.text
            );
            assert!(
                res.text.contains("value=\"admin\""),
                "the login is kept: {}",
                res.text
            );
            for _ in 0..3 {
                web.try_sign_in("admin", "wrong").await;
            }
            // Locked now: the right password is answered like a wrong one.
            let res = web.try_sign_in("admin", "admin").await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
            assert!(res.text.contains("Invalid username or password"));
            assert!(web.cookie("grafana_session").is_none());
        },
    )
    .await;
}

#[tokio::test]
async fn empty_fields_are_named_next_to_the_field() {
    each_backend(|app| async move {
        let web = WebUser::new(&app);
        web.page("/login").await;
        let res = web
            .submit("/login", &[("user", ""), ("password", "")])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(
            res.text
                .contains("id=\"user-error\">Email or username is required"),
            "{}",
            res.text
        );
        assert!(res
            .text
            .contains("id=\"password-error\">Password is required"));
    })
    .await;
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_token_and_origin() {
    each_backend(|app| async move {
        let web = WebUser::new(&app);
        // Posted from a page that never loaded the form (a login CSRF): refused.
        let res = web
            .post_raw(
                "/login",
                &encode(&[("user", "admin"), ("password", "admin")]),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert!(web.cookie("grafana_session").is_none());
        web.page("/login").await;
        let body = encode(&[
            ("_csrf", &web.csrf()),
            ("user", "admin"),
            ("password", "admin"),
        ]);
        let res = web
            .send(
                Method::POST,
                "/login",
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("origin", "https://evil.example"),
                    ("host", "localhost:3000"),
                ],
                Some(&body),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(web.cookie("grafana_session").is_none());
    })
    .await;
}

#[tokio::test]
async fn the_json_login_of_the_api_is_unchanged() {
    each_backend(|app| async move {
        let browser = app.login("admin", "admin", "curl/8").await;
        assert!(!browser.token().is_empty());
        let res = app
            .request(
                Method::POST,
                "/login",
                None,
                Some(r#"{"user":"admin","password":"nope"}"#),
            )
            .await;
        crate::assert_message(
            &res,
            StatusCode::UNAUTHORIZED,
            "Invalid username or password",
        );
    })
    .await;
}

#[tokio::test]
async fn login_form_off_shows_no_form_and_refuses_posts() {
    each_backend_with(
        &[("auth", "disable_login_form", "true")],
        |app| async move {
            let web = WebUser::new(&app);
            let res = web.page("/login").await;
            assert_eq!(res.status, StatusCode::OK);
            assert!(!res.text.contains("<form"), "{}", res.text);
            let res = web
                .submit("/login", &[("user", "admin"), ("password", "admin")])
                .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(web.cookie("grafana_session").is_none());
        },
    )
    .await;
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_are_not_cached() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        for path in ["/login", "/profile"] {
            let res = web.page(path).await;
            let csp = res.headers["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
                "{csp}"
            );
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"));
            assert_eq!(res.headers["x-frame-options"], "DENY");
            assert_eq!(res.headers["cache-control"], "no-store");
            // No inline script or style that the policy would block.
            assert!(
                !res.text.contains("<script>") && !res.text.contains("style="),
                "{path}"
            );
        }
        let css = web.page("/public/usher.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
    })
    .await;
}

#[tokio::test]
async fn a_form_without_the_sessions_token_is_refused_and_changes_nothing() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page("/profile").await;
        let res = web
            .post_raw(
                "/profile",
                &encode(&[
                    ("name", "Mallory"),
                    ("email", "admin@localhost"),
                    ("login", "admin"),
                ]),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let res = web
            .post_raw(
                "/profile",
                &encode(&[
                    ("_csrf", "0000"),
                    ("name", "Mallory"),
                    ("email", "admin@localhost"),
                    ("login", "admin"),
                ]),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // Another session's token does not do either.
        let other = WebUser::sign_in(&app, "admin", "admin").await;
        other.page("/profile").await;
        let body = encode(&[
            ("_csrf", &other.csrf()),
            ("name", "Mallory"),
            ("email", "admin@localhost"),
            ("login", "admin"),
        ]);
        let res = web.post_raw("/profile", &body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let me = app.admin().get("/api/user").await;
        assert_eq!(me.json["name"], "");
        // With the token it works.
        let res = web
            .submit(
                "/profile",
                &[
                    ("name", "Ada"),
                    ("email", "admin@localhost"),
                    ("login", "admin"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(app.admin().get("/api/user").await.json["name"], "Ada");
        let page = web.follow(&res).await;
        assert!(page.text.contains("Profile saved"));
    })
    .await;
}

#[tokio::test]
async fn profile_shows_devices_and_revokes_one() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let phone = WebUser::new(&app);
        let phone = WebUser { agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1".into(), ..phone };
        assert_eq!(phone.try_sign_in("admin", "admin").await.status, StatusCode::SEE_OTHER);
        let page = web.page("/profile").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("This device"));
        assert!(page.text.contains("iOS"), "{}", page.text);
        let tokens = app.admin().get("/api/admin/users/1/auth-tokens").await;
        let phone_id = tokens.json.as_array().unwrap().iter().find(|t| t["os"] == "iOS").unwrap()["id"].as_i64().unwrap();
        let res = web.submit(&format!("/profile/sessions/{phone_id}/revoke"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        // The phone is signed out: its next page asks it to sign in.
        let res = phone.page("/profile").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with("/login"));
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let other = WebUser::sign_in(&app, "admin", "admin").await;
        web.page("/profile").await;
        let res = web
            .submit(
                "/profile/password",
                &[
                    ("old_password", "wrong"),
                    ("new_password", "n3w-secret!"),
                    ("confirm_new", "n3w-secret!"),
                ],
            )
            .await;
        // The API's status and message for a wrong old password.
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text
                .contains("id=\"old-password-e\">Invalid old password"),
            "{}",
            res.text
        );
        assert!(
            res.text.contains("field-error"),
            "the API's message is next to the field: {}",
            res.text
        );
        let res = web
            .submit(
                "/profile/password",
                &[
                    ("old_password", "admin"),
                    ("new_password", "n3w-secret!"),
                    ("confirm_new", "n3w-secret!"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(web.page("/profile").await.status, StatusCode::OK);
        assert_eq!(other.page("/profile").await.status, StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn the_theme_preference_applies_to_the_pages() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        // Grafana's default theme ([users] default_theme = dark).
        assert!(web
            .page("/profile")
            .await
            .text
            .contains("data-theme=\"dark\""));
        let res = web
            .submit(
                "/profile/preferences",
                &[
                    ("theme", "light"),
                    ("timezone", "utc"),
                    ("week_start", "monday"),
                    ("home_dashboard_uid", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let page = web.page("/profile").await;
        assert!(page.text.contains("data-theme=\"light\""));
        let prefs = app.admin().get("/api/user/preferences").await;
        assert_eq!(prefs.json["weekStart"], "monday");
        assert_eq!(prefs.json["timezone"], "utc");
    })
    .await;
}

#[tokio::test]
async fn markup_in_names_renders_as_text() {
    each_backend(|app| async move {
        let evil = "<script>alert(1)</script>";
        let res = app
            .admin()
            .put(
                "/api/user",
                &serde_json::json!({"name": evil, "email": "admin@localhost", "login": "admin"})
                    .to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/profile").await;
        assert!(!page.text.contains(evil));
        // askama escapes `<` as `&#60;`.
        assert!(
            page.text
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            page.text
        );
    })
    .await;
}

#[tokio::test]
async fn avatars_are_images_for_any_hash() {
    each_backend(|app| async move {
        let res = app
            .anonymous()
            .get("/avatar/0cc175b9c0f1b6a831c399e269772661")
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.headers["content-type"], "image/svg+xml");
        assert!(res.text.starts_with("<svg"));
        let res = app.anonymous().get("/avatar/not-a-hash").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn the_start_page_goes_where_the_person_may_go() {
    each_backend(|app| async move {
        let admin = WebUser::sign_in(&app, "admin", "admin").await;
        assert_eq!(location(&admin.page("/").await), "/admin/users");
        app.create_user("vera", "vera-pass-1").await;
        let vera = WebUser::sign_in(&app, "vera", "vera-pass-1").await;
        let res = vera.page("/").await;
        assert_eq!(location(&res), "/profile");
        let profile = vera.page("/profile").await;
        assert!(
            !profile.text.contains("/admin/users\""),
            "a Viewer sees no administration links"
        );
    })
    .await;
}

#[tokio::test]
async fn a_form_whose_body_breaks_off_is_a_400_not_a_413() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page("/profile").await;
        // What the server's body reader yields when `read_timeout` passes mid-body.
        let broken = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"_csrf=")),
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "read timeout",
            )),
        ]);
        let req = axum::http::Request::post("/profile")
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "cookie",
                format!("grafana_session={}", web.cookie("grafana_session").unwrap()),
            )
            .body(Body::from_stream(broken))
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let text = res.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&text).contains("The form could not be read"));
        let oversized = web
            .post_raw("/profile", &"a".repeat(crate::web::BODY_LIMIT_PLUS))
            .await;
        assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
}

/// One byte over the server's 1 MiB body limit.
pub const BODY_LIMIT_PLUS: usize = 1024 * 1024 + 1;

#[tokio::test]
async fn an_unserved_method_on_a_page_is_grafanas_404_without_allow() {
    each_backend(|app| async move {
        for method in [Method::OPTIONS, Method::PUT, Method::DELETE] {
            let res = app.request(method.clone(), "/login", None, None).await;
            crate::assert_message(&res, StatusCode::NOT_FOUND, "Not found");
            assert!(
                res.headers.get("allow").is_none(),
                "{method} /login: {:?}",
                res.headers
            );
        }
        let res = app.request(Method::DELETE, "/profile", None, None).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert!(res.headers.get("allow").is_none());
    })
    .await;
}
