//! The web interface's organization pages: the server admin's `/admin/orgs`, `/admin/orgs/new`
//! and `/admin/orgs/edit/{id}` (rename, members and roles, delete), and the current org's
//! `/org` (name, default preferences) and `/org/users` (members for org Admins). Each form
//! changes what the API then reports; each refusal is the API's; names render as text.

use axum::http::StatusCode;
use serde_json::json;

use crate::web::{encode, location, WebUser};
use crate::{each_backend, TestApp};

/// Creates an org through the API (as admin) and returns its id.
async fn org(app: &TestApp, name: &str) -> i64 {
    let res = app
        .admin()
        .post("/api/orgs", &json!({ "name": name }).to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["orgId"].as_i64().unwrap()
}

/// The members of an org as the API reports them: (login, role).
async fn members(app: &TestApp, org: i64) -> Vec<(String, String)> {
    let res = app.admin().get(&format!("/api/orgs/{org}/users")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let mut all: Vec<(String, String)> = res
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["login"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn pair(login: &str, role: &str) -> (String, String) {
    (login.to_string(), role.to_string())
}

#[tokio::test]
async fn the_admin_lists_searches_and_pages_orgs() {
    each_backend(|app| async move {
        let acme = org(&app, "Acme").await;
        org(&app, "Globex").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/orgs").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page
            .text
            .contains(&format!("<a href=\"/admin/orgs/edit/{acme}\">Acme</a>")));
        assert!(page.text.contains(">Globex</a>") && page.text.contains(">Main Org.</a>"));
        assert!(page.text.contains("id=\"new-org\""));
        assert!(page
            .text
            .contains("href=\"/admin/orgs\" aria-current=\"page\""));
        // Grafana matches a prefix of the name, with the database's case rules (case-sensitive on
        // PostgreSQL, pkg/services/org/orgimpl/store.go).
        let found = web.page("/admin/orgs?query=Glo").await;
        assert!(found.text.contains(">Globex</a>") && !found.text.contains(">Acme</a>"));
        assert!(found.text.contains("value=\"Glo\""));
        // Grafana's org search does not count: a full page has a next link, the last none.
        for n in 0..30 {
            org(&app, &format!("Many {n:02}")).await;
        }
        let first = web.page("/admin/orgs?query=Many").await;
        assert!(first.text.contains(">Many 29</a>"), "{}", first.text);
        assert!(first
            .text
            .contains("href=\"/admin/orgs?query=Many&#38;page=2\""));
        let second = web.page("/admin/orgs?query=Many&page=2").await;
        assert!(!second.text.contains(">Many 00</a>"), "{}", second.text);
        assert!(!second.text.contains("id=\"page-next\""));
        assert!(second.text.contains("id=\"page-prev\""));
        org(&app, "Many 30").await;
        let second = web.page("/admin/orgs?query=Many&page=2").await;
        assert!(second.text.contains(">Many 30</a>"), "{}", second.text);
    })
    .await;
}

#[tokio::test]
async fn a_new_org_is_created_and_renamed_and_a_taken_name_is_named_at_the_field() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        assert_eq!(web.page("/admin/orgs/new").await.status, StatusCode::OK);
        let empty = web.submit("/admin/orgs/new", &[("name", " ")]).await;
        assert_eq!(empty.status, StatusCode::BAD_REQUEST);
        assert!(empty.text.contains("id=\"org-name-e\">Name is required"));

        let res = web.submit("/admin/orgs/new", &[("name", "Initech")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let api = app.admin().get("/api/orgs/name/Initech").await;
        assert_eq!(api.status, StatusCode::OK);
        let id = api.json["id"].as_i64().unwrap();
        assert_eq!(location(&res), format!("/admin/orgs/edit/{id}"));
        let page = web.follow(&res).await;
        assert!(page.text.contains("Organization created"));
        assert!(page.text.contains("<h1>Initech</h1>"));

        // Grafana's 409 "Organization name taken", next to the name.
        let taken = web.submit("/admin/orgs/new", &[("name", "Initech")]).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert!(
            taken
                .text
                .contains("id=\"org-name-e\">Organization name taken"),
            "{}",
            taken.text
        );
        assert!(taken.text.contains("value=\"Initech\""));

        let renamed = web
            .submit(&format!("/admin/orgs/edit/{id}"), &[("name", "Initrode")])
            .await;
        assert_eq!(renamed.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.admin().get(&format!("/api/orgs/{id}")).await.json["name"],
            "Initrode"
        );
        // Renaming to a taken name is a 400 in Grafana, not a 409 as creating is
        // (pkg/api/org.go, updateOrgHelper).
        let clash = web
            .submit(&format!("/admin/orgs/edit/{id}"), &[("name", "Main Org.")])
            .await;
        assert_eq!(clash.status, StatusCode::BAD_REQUEST);
        assert!(clash.text.contains("Organization name taken"));
        assert!(
            clash.text.contains("value=\"Main Org.\""),
            "the sent name is kept"
        );
    })
    .await;
}

#[tokio::test]
async fn the_admin_org_page_adds_members_changes_roles_removes_and_deletes() {
    each_backend(|app| async move {
        let id = org(&app, "Hooli").await;
        let gavin = app.create_user("gavin", "gavin-pass-1").await;
        app.create_user("jared", "jared-pass-1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let href = format!("/admin/orgs/edit/{id}");
        let page = web.page(&href).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("id=\"add-user\"") && page.text.contains("id=\"delete-org\""));

        // By login, then by email.
        let res = web
            .submit(
                &format!("{href}/users"),
                &[("login", "gavin"), ("role", "Editor")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), href);
        let res = web
            .submit(
                &format!("{href}/users"),
                &[("login", "jared@example.com"), ("role", "Viewer")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            members(&app, id).await,
            vec![
                pair("admin", "Admin"),
                pair("gavin", "Editor"),
                pair("jared", "Viewer")
            ]
        );
        let page = web.page(&href).await;
        assert!(page.text.contains(&format!("data-member=\"{gavin}\"")));
        assert!(page.text.contains(&format!("id=\"change-role-{gavin}\"")));

        // An unknown login: the API's 404 next to the field, the login kept.
        let missing = web
            .submit(
                &format!("{href}/users"),
                &[("login", "nobody"), ("role", "Viewer")],
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(
            missing.text.contains("id=\"add-login-e\">User not found"),
            "{}",
            missing.text
        );
        assert!(missing.text.contains("value=\"nobody\""));
        // Already a member: the API's 409.
        let again = web
            .submit(
                &format!("{href}/users"),
                &[("login", "gavin"), ("role", "Viewer")],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again
            .text
            .contains("User is already member of this organization"));

        let res = web
            .submit(&format!("{href}/users/{gavin}/role"), &[("role", "Admin")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(web
            .follow(&res)
            .await
            .text
            .contains("Organization user updated"));
        assert!(members(&app, id).await.contains(&pair("gavin", "Admin")));
        // A role Grafana does not know: the API's 400 as the next page's message.
        let bad = web
            .submit(&format!("{href}/users/{gavin}/role"), &[("role", "Owner")])
            .await;
        assert_eq!(bad.status, StatusCode::SEE_OTHER);
        assert!(web.follow(&bad).await.text.contains("flash-error"));
        assert!(members(&app, id).await.contains(&pair("gavin", "Admin")));

        let res = web
            .submit(&format!("{href}/users/{gavin}/remove"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(!members(&app, id)
            .await
            .iter()
            .any(|(login, _)| login == "gavin"));

        let res = web.submit(&format!("{href}/delete"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/admin/orgs");
        assert!(web
            .follow(&res)
            .await
            .text
            .contains("Organization Hooli deleted"));
        assert_eq!(
            app.admin().get(&format!("/api/orgs/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(web.page(&href).await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn an_org_admin_manages_the_org_users_and_sees_no_server_administration() {
    each_backend(|app| async move {
        let olga = app.create_user("olga", "olga-pass-1").await;
        app.set_org_role(olga, "Admin").await;
        let paul = app.create_user("paul", "paul-pass-1").await;
        // Paul is in another org only.
        let other = org(&app, "Elsewhere").await;
        let res = app
            .admin()
            .post(
                &format!("/api/orgs/{other}/users"),
                &json!({"loginOrEmail": "paul", "role": "Viewer"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app
            .admin()
            .delete(&format!("/api/orgs/1/users/{paul}"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "olga", "olga-pass-1").await;
        let home = web.page("/").await;
        assert_eq!(location(&home), "/org/users");
        let page = web.follow(&home).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page
            .text
            .contains("href=\"/org/users\" aria-current=\"page\""));
        assert!(
            page.text.contains("href=\"/org\""),
            "Default preferences link"
        );
        assert!(!page.text.contains("href=\"/admin/orgs\""));
        assert!(!page.text.contains("href=\"/admin/users\""));
        assert!(page.text.contains(">olga</td>") && page.text.contains(">admin</td>"));
        assert_eq!(
            web.page("/admin/orgs").await.status,
            StatusCode::FORBIDDEN,
            "the server's org list is the server admin's"
        );
        assert_eq!(
            web.page(&format!("/admin/orgs/edit/{other}")).await.status,
            StatusCode::FORBIDDEN
        );

        let res = web
            .submit(
                "/org/users",
                &[("login", "paul@example.com"), ("role", "Editor")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(web
            .follow(&res)
            .await
            .text
            .contains("User added to organization"));
        assert!(members(&app, 1).await.contains(&pair("paul", "Editor")));
        let found = web.page("/org/users?query=pau").await;
        assert!(found.text.contains(">paul</td>") && !found.text.contains(">olga</td>"));

        let res = web
            .submit(&format!("/org/users/{paul}/role"), &[("role", "Viewer")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(members(&app, 1).await.contains(&pair("paul", "Viewer")));
        let res = web.submit(&format!("/org/users/{paul}/remove"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(!members(&app, 1)
            .await
            .iter()
            .any(|(login, _)| login == "paul"));
    })
    .await;
}

#[tokio::test]
async fn the_current_org_page_renames_and_sets_default_preferences() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/org").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("value=\"Main Org.\""));
        assert!(page.text.contains("id=\"save-org-preferences\""));
        let res = web.submit("/org", &[("name", "Pied Piper")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(app.admin().get("/api/org").await.json["name"], "Pied Piper");
        let empty = web.submit("/org", &[("name", "")]).await;
        assert!(empty.status.is_client_error(), "{empty:?}");
        assert!(empty.text.contains("id=\"org-name-e\"") || empty.text.contains("flash-error"));
        assert_eq!(app.admin().get("/api/org").await.json["name"], "Pied Piper");

        // A preference the form does not show survives the form's save.
        let res = app
            .admin()
            .patch(
                "/api/org/preferences",
                &json!({"language": "fr-FR"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = web
            .submit(
                "/org/preferences",
                &[
                    ("theme", "light"),
                    ("timezone", "Europe/Paris"),
                    ("week_start", "monday"),
                    ("home_dashboard_uid", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let prefs = app.admin().get("/api/org/preferences").await.json;
        assert_eq!(prefs["theme"], "light");
        assert_eq!(prefs["timezone"], "Europe/Paris");
        assert_eq!(prefs["weekStart"], "monday");
        assert_eq!(prefs["language"], "fr-FR");
        let bad = web
            .submit(
                "/org/preferences",
                &[
                    ("theme", ""),
                    ("timezone", "Mars/Olympus"),
                    ("week_start", ""),
                    ("home_dashboard_uid", ""),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(
            bad.text.contains("value=\"Mars/Olympus\""),
            "the sent zone is kept"
        );
        assert_eq!(
            app.admin().get("/api/org/preferences").await.json["timezone"],
            "Europe/Paris"
        );
    })
    .await;
}

#[tokio::test]
async fn an_org_viewer_gets_the_apis_refusals_from_the_org_pages() {
    each_backend(|app| async move {
        app.create_user("vera", "vera-pass-1").await;
        let web = WebUser::sign_in(&app, "vera", "vera-pass-1").await;
        let profile = web.page("/profile").await;
        for link in [
            "href=\"/org\"",
            "href=\"/admin/orgs\"",
            "href=\"/org/users\"",
        ] {
            assert!(!profile.text.contains(link), "{link}");
        }
        for path in ["/admin/orgs", "/admin/orgs/new"] {
            assert_eq!(web.page(path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        // The org's page shows what the API lets a Viewer read of their own org, and no form.
        let api = app.as_user("vera", "vera-pass-1").get("/api/orgs/1").await;
        let page = web.page("/admin/orgs/edit/1").await;
        assert_eq!(page.status, api.status);
        for control in [
            "id=\"rename-org\"",
            "id=\"delete-org\"",
            "id=\"add-user\"",
            "id=\"members\"",
        ] {
            assert!(!page.text.contains(control), "{control}");
        }
        // What the API answers a Viewer, the page answers.
        let api = app
            .as_user("vera", "vera-pass-1")
            .get("/api/org/users/search")
            .await;
        assert_eq!(web.page("/org/users").await.status, api.status);
        let res = web.submit("/org", &[("name", "Mine now")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(app.admin().get("/api/org").await.json["name"], "Main Org.");
        let res = web
            .submit("/org/users", &[("login", "admin"), ("role", "Viewer")])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = web.submit("/admin/orgs/new", &[("name", "Sneaky")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.admin().get("/api/orgs/name/Sneaky").await.status,
            StatusCode::NOT_FOUND
        );
        let res = web.submit("/admin/orgs/edit/1/delete", &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(app.admin().get("/api/orgs/1").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn org_forms_without_the_csrf_token_change_nothing() {
    each_backend(|app| async move {
        let id = org(&app, "Vandelay").await;
        app.create_user("art", "art-pass-1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page("/org").await;
        let body = encode(&[("login", "art"), ("role", "Admin")]);
        let res = web
            .post_raw(&format!("/admin/orgs/edit/{id}/users"), &body)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let res = web.post_raw("/org/users", &body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = web
            .post_raw(&format!("/admin/orgs/edit/{id}/delete"), "")
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = web
            .post_raw("/org", &encode(&[("_csrf", "forged"), ("name", "Forged")]))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(members(&app, id).await, vec![pair("admin", "Admin")]);
        assert!(members(&app, 1).await.contains(&pair("art", "Viewer")));
        assert_eq!(app.admin().get("/api/org").await.json["name"], "Main Org.");
        assert_eq!(
            app.admin().get(&format!("/api/orgs/{id}")).await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn markup_in_org_and_user_names_renders_as_text() {
    each_backend(|app| async move {
        let evil = "<script>alert(1)</script>";
        let escaped = |html: &str| {
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        };
        let id = org(&app, evil).await;
        let body = json!({
            "name": evil, "login": "mallory", "email": "mallory@example.com",
            "password": "mallory-pass-1", "OrgId": id,
        });
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        for path in ["/admin/orgs".to_string(), format!("/admin/orgs/edit/{id}")] {
            let page = web.page(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(escaped(&page.text), "{path}: {}", page.text);
            assert!(!page.text.contains(evil), "{path}");
        }
        let mallory = app
            .admin()
            .get("/api/users/lookup?loginOrEmail=mallory")
            .await;
        let mallory = mallory.json["id"].as_i64().unwrap();
        app.admin()
            .post(
                "/api/org/users",
                &json!({"loginOrEmail": "mallory", "role": "Viewer"}).to_string(),
            )
            .await;
        let page = web.page("/org/users").await;
        assert!(page.text.contains(&format!("data-member=\"{mallory}\"")));
        assert!(escaped(&page.text) && !page.text.contains(evil));
    })
    .await;
}
