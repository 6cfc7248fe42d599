//! The audit log's pages (`/admin/audit`, `/org/audit`, src/web/audit.rs) and a user's recent
//! events on their page: what `GET /api/admin/audit` and `GET /api/org/audit` answer the person,
//! with the filters as a form, the cursor as an "Older" link, a refused filter shown beside the
//! form, and no link or page for whoever the API refuses.

use axum::http::StatusCode;
use serde_json::json;

use crate::each_backend;
use crate::web::WebUser;

#[tokio::test]
async fn a_server_admin_reads_filters_and_pages_the_audit_log() {
    each_backend(|app| async move {
        for i in 0..55 {
            let body = json!({"login": format!("p{i:02}"), "email": format!("p{i:02}@example.com"), "password": "a-Secret-pw1"});
            let res = app.admin().post("/api/admin/users", &body.to_string()).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/users").await;
        assert!(page.text.contains("/admin/audit\""), "no nav link: {}", page.text);
        let page = web.page("/admin/audit?action=users:create").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let html = &page.text;
        assert_eq!(html.matches("data-audit-id=").count(), 50, "a page holds 50");
        assert!(html.contains("p54"), "newest first");
        assert!(!html.contains(">user p00<"), "the oldest is on the next page");
        assert!(html.contains("login = &#34;p54&#34;"), "changes in words: {html}");
        assert!(html.contains("password changed"));
        assert!(!html.contains("a-Secret-pw1"));
        // The "Older" link carries the filter and the cursor.
        let start = html.find("id=\"older\"").expect("an Older link");
        let href_at = html[..start].rfind("href=\"").unwrap() + 6;
        let href = html[href_at..start].trim_end_matches("\" ").trim_end_matches('"');
        let href = href.replace("&#38;", "&").replace("&amp;", "&");
        assert!(href.contains("action=users%3Acreate") && href.contains("cursor="), "{href}");
        let path = href.trim_start_matches("http://localhost:3000");
        let older = web.page(path).await;
        assert_eq!(older.status, StatusCode::OK, "{older:?}");
        assert_eq!(older.text.matches("data-audit-id=").count(), 5, "{}", older.text);
        assert!(older.text.contains("id=\"newest\""));
        // A filter the API refuses is shown beside the form, in its words.
        let page = web.page("/admin/audit?outcome=maybe").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("outcome must be success, failure or denied"), "{}", page.text);
        // A user's page lists their recent events, with a link to all of them.
        let page = web.page("/admin/users/edit/2").await;
        assert!(page.text.contains("Recent events"), "{}", page.text);
        assert!(page.text.contains("users:create"));
    })
    .await;
}

#[tokio::test]
async fn an_ordinary_user_gets_no_audit_page_or_link() {
    each_backend(|app| async move {
        app.create_user("kim", "password1").await;
        let web = WebUser::sign_in(&app, "kim", "password1").await;
        let page = web.page("/profile").await;
        assert!(!page.text.contains("/admin/audit"), "{}", page.text);
        assert!(!page.text.contains("/org/audit"));
        let page = web.page("/admin/audit").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{page:?}");
        let page = web.page("/org/audit").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{page:?}");
    })
    .await;
}

/// A change made through a page is the API's change, recorded with the person as the actor and
/// their session as how they authenticated.
#[tokio::test]
async fn a_change_made_in_a_page_is_recorded_as_the_persons_session() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", "password1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page(&format!("/admin/users/edit/{kim}")).await;
        let res = web
            .submit(
                &format!("/admin/users/edit/{kim}"),
                &[
                    ("name", "Kim K"),
                    ("email", "kim@example.org"),
                    ("login", "kim"),
                ],
            )
            .await;
        assert!(
            res.status.is_redirection() || res.status == StatusCode::OK,
            "{res:?}"
        );
        let res = app.admin().get("/api/admin/audit?action=users:write").await;
        let r = &res.json["records"][0];
        assert_eq!(r["actorLogin"], "admin", "{res:?}");
        assert_eq!(r["authMethod"], "session", "{res:?}");
        assert_eq!(r["targetName"], "kim");
        assert!(r["changes"].as_array().unwrap().contains(
            &json!({"field": "email", "old": "kim@example.com", "new": "kim@example.org"})
        ));
    })
    .await;
}
