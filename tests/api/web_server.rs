//! The web interface's Administration → Server pages (`/admin/settings`, `/admin/stats`): they
//! show what `GET /api/admin/settings` and `GET /api/admin/stats` report (secrets redacted as
//! the API redacts them, markup as text), the settings filter works without JavaScript, and a
//! person the API refuses gets the API's refusal and no links to them.

use axum::http::StatusCode;

use crate::web::{location, WebUser};
use crate::{each_backend, each_backend_with, TestApp};

/// Text as askama escapes it.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The settings page's row for `key`: its value cell.
fn row(key: &str, value: &str) -> String {
    format!(
        "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
        escaped(key),
        escaped(value)
    )
}

fn heading(html: &str, section: &str) -> bool {
    html.contains(&format!("\">{}</h2>", escaped(section)))
}

/// The value the stats page shows for the API field `key`.
fn stat(html: &str, key: &str) -> Option<String> {
    let marker = format!("id=\"stat-{key}\">");
    let rest = &html[html.find(&marker)? + marker.len()..];
    let rest = &rest[rest.find("<dd>")? + 4..];
    Some(rest[..rest.find("</dd>")?].to_string())
}

async fn api_users(app: &TestApp) -> i64 {
    let res = app.admin().get("/api/admin/stats").await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["users"].as_i64().unwrap()
}

const SETTINGS: [(&str, &str, &str); 4] = [
    ("security", "secret_key", "s3cr3t-value"),
    ("database", "password", "dbpass"),
    ("auth.generic_oauth", "client_id", "usher-client"),
    ("auth.generic_oauth", "name", "<script>alert(1)</script>"),
];

#[tokio::test]
async fn the_settings_page_shows_every_section_with_secrets_redacted() {
    each_backend_with(&SETTINGS, |app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/settings").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let html = &page.text;
        // Every section and key of the API, in tables that scroll at 390 px.
        let api = app.admin().get("/api/admin/settings").await.json;
        for (section, keys) in api.as_object().unwrap() {
            assert!(heading(html, section), "[{section}] missing");
            for (key, value) in keys.as_object().unwrap() {
                assert!(
                    html.contains(&row(key, value.as_str().unwrap())),
                    "[{section}] {key} missing"
                );
            }
        }
        assert!(html.contains(&row("http_port", "3000")));
        assert!(html.contains(&row("client_id", "usher-client")));
        assert!(html.contains("<div class=\"table-wrap\"><table class=\"settings\">"));
        // Secrets as the API redacts them, never the values.
        assert!(html.contains(&row("secret_key", "*********")), "{html}");
        assert!(html.contains(&row("admin_password", "*********")));
        assert!(html.contains(&row("password", "*********")));
        assert!(!html.contains("s3cr3t-value") && !html.contains("dbpass"));
        // Markup in a value is text.
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        // The frame links to both pages, this one current.
        assert!(html.contains("href=\"/admin/settings\" aria-current=\"page\">Settings</a>"));
        assert!(html.contains("href=\"/admin/stats\">Stats</a>"));
        assert!(html.contains("<h2>Administration</h2>"));
    })
    .await;
}

#[tokio::test]
async fn the_settings_filter_keeps_matching_rows_only() {
    each_backend_with(&SETTINGS, |app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        // By key, case-insensitively: other keys of the section and other sections go.
        let page = web.page("/admin/settings?query=HTTP_PORT").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let html = &page.text;
        assert!(html.contains("value=\"HTTP_PORT\""), "the query is kept");
        assert!(heading(html, "server"));
        assert!(html.contains(&row("http_port", "3000")));
        assert!(!html.contains("<th scope=\"row\">protocol</th>"), "{html}");
        assert!(!heading(html, "security") && !heading(html, "database"));
        // By value.
        let html = web.page("/admin/settings?query=usher-CLIENT").await.text;
        assert!(html.contains(&row("client_id", "usher-client")));
        assert!(!html.contains("<th scope=\"row\">client_secret</th>"));
        assert!(!heading(html.as_str(), "server"));
        // By section name: the whole section.
        let html = web.page("/admin/settings?query=secur").await.text;
        assert!(heading(&html, "security"));
        assert!(html.contains(&row("secret_key", "*********")));
        assert!(html.contains(&row("admin_user", "admin")));
        assert!(!heading(&html, "server"));
        // A redacted secret is not found by its real value.
        let html = web.page("/admin/settings?query=s3cr3t").await.text;
        assert!(
            !html.contains("<th scope=\"row\">secret_key</th>"),
            "{html}"
        );
        assert!(html.contains("No settings match “s3cr3t”."), "{html}");
        // The query is text.
        let html = web.page("/admin/settings?query=%3Cb%3Ex").await.text;
        assert!(html.contains("value=\"&#60;b&#62;x\"") && !html.contains("<b>x"));
    })
    .await;
}

#[tokio::test]
async fn the_stats_page_shows_the_apis_counts() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        // Signing in marks the admin seen in a task of its own (`AppState::note_seen`): wait
        // for it, or the page and the API below could count the active admins either side of
        // that write.
        for _ in 0..100 {
            let stats = app.admin().get("/api/admin/stats").await.json;
            if stats["activeAdmins"] == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let page = web.page("/admin/stats").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let before = api_users(&app).await;
        assert_eq!(stat(&page.text, "users"), Some(before.to_string()));
        assert!(page.text.contains("<dt>Total users</dt>"));
        // Every field of the API, labelled.
        let api = app.admin().get("/api/admin/stats").await.json;
        for (key, value) in api.as_object().unwrap() {
            assert_eq!(
                stat(&page.text, key),
                Some(value.to_string()),
                "{key}: {}",
                page.text
            );
        }
        for label in [
            "Active users (last 30 days)",
            "Organizations",
            "Teams",
            "Dashboards",
            "Active sessions (last 30 days)",
            "Data sources",
            "Alerts",
        ] {
            assert!(page.text.contains(&format!("<dt>{label}</dt>")), "{label}");
        }
        assert!(!page.text.contains("<h2 id=\"stats-7\">Other</h2>"));
        app.create_user("nina", "nina-pass-1").await;
        app.create_user("omar", "omar-pass-1").await;
        assert_eq!(api_users(&app).await, before + 2);
        let page = web.page("/admin/stats").await;
        assert_eq!(stat(&page.text, "users"), Some((before + 2).to_string()));
        assert!(page
            .text
            .contains("href=\"/admin/stats\" aria-current=\"page\">Stats</a>"));
    })
    .await;
}

#[tokio::test]
async fn only_those_the_api_answers_see_the_pages_and_their_links() {
    each_backend(|app| async move {
        let vera = app.create_user("vera", "vera-pass-1").await;
        let _ = vera;
        let oscar = app.create_user("oscar", "oscar-pass-1").await;
        app.set_org_role(oscar, "Admin").await;
        for (login, password) in [("vera", "vera-pass-1"), ("oscar", "oscar-pass-1")] {
            let web = WebUser::sign_in(&app, login, password).await;
            for (page, api) in [
                ("/admin/settings", "/api/admin/settings"),
                ("/admin/stats", "/api/admin/stats"),
            ] {
                let answer = app.as_user(login, password).get(api).await;
                let res = web.page(page).await;
                assert_eq!(res.status, answer.status, "{login} {page}: {res:?}");
                let link = format!("href=\"{page}\"");
                if answer.status == StatusCode::OK {
                    assert!(res.text.contains(&link));
                } else {
                    // The API's own message, and no link to the page.
                    let message = answer.json["message"].as_str().unwrap();
                    assert!(!message.is_empty());
                    assert!(
                        res.text.contains(&escaped(message)),
                        "{login} {page}: {message} not in {}",
                        res.text
                    );
                    assert!(!res.text.contains(&link), "{login} {page}: link shown");
                    assert!(!res.text.contains("<dt>Total users</dt>"));
                    assert!(!res.text.contains("http_port"));
                    let profile = web.page("/profile").await;
                    assert!(!profile.text.contains(&link), "{login}: link on profile");
                }
            }
        }
        // An ordinary user (org Viewer) is refused both.
        let viewer = app.as_user("vera", "vera-pass-1");
        assert_eq!(
            viewer.get("/api/admin/settings").await.status,
            StatusCode::FORBIDDEN
        );
        let web = WebUser::sign_in(&app, "vera", "vera-pass-1").await;
        for page in ["/admin/settings", "/admin/stats"] {
            assert_eq!(web.page(page).await.status, StatusCode::FORBIDDEN, "{page}");
        }
        assert!(!web
            .page("/profile")
            .await
            .text
            .contains("<h2>Administration</h2>"));
    })
    .await;
}

#[tokio::test]
async fn a_stranger_is_sent_to_sign_in() {
    each_backend(|app| async move {
        let web = WebUser::new(&app);
        let res = web.page("/admin/settings?query=http").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            "/login?redirectTo=%2Fadmin%2Fsettings%3Fquery%3Dhttp"
        );
        let res = web.page("/admin/stats").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/login?redirectTo=%2Fadmin%2Fstats");
        assert!(!res.text.contains("Total users"));
    })
    .await;
}
