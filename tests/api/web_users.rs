//! Administration → Users pages (`/admin/users`, `/admin/users/new`, `/admin/users/edit/{uid}`)
//! through the real router: what they show for a Server admin, that each form changes what the
//! API then reports, that failures show the API's message next to the field, that a Viewer is
//! refused, and that markup in names is escaped.

use axum::http::StatusCode;
use serde_json::json;

use crate::web::{location, WebUser};
use crate::{each_backend, each_backend_with, TestApp};

/// The uid of user `id`, as the API answers it.
async fn uid_of(app: &TestApp, id: i64) -> String {
    let res = app.admin().get(&format!("/api/users/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["uid"].as_str().unwrap().to_string()
}

/// How many `<tr data-user=` rows a list page has.
fn rows(html: &str) -> usize {
    html.matches("<tr data-user=").count()
}

#[tokio::test]
async fn the_list_shows_users_and_finds_them_by_login_email_and_name() {
    each_backend(|app| async move {
        app.create_user("alice", "alice-pass-1").await;
        let bob = app.create_user("bob", "bob-pass-1").await;
        let res = app
            .admin()
            .put(
                &format!("/api/users/{bob}"),
                &json!({"name": "Robert Tables", "email": "bobby@corp.example", "login": "bob"})
                    .to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/users").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert_eq!(rows(&page.text), 3, "{}", page.text);
        assert!(page.text.contains("alice@example.com"));
        assert!(page.text.contains("Robert Tables"));
        assert!(
            page.text
                .contains("<span class=\"badge on\">Server admin</span>"),
            "admin is a Server admin"
        );
        assert!(
            page.text.contains("id=\"new-user\""),
            "a Server admin may create users"
        );
        assert!(page.text.contains("data-live role=\"search\""));
        // Never signed in: Grafana's "Never".
        assert!(
            page.text.contains("<span class=\"muted\">Never</span>"),
            "{}",
            page.text
        );
        // The admin was just seen (noted in the background): an age.
        for _ in 0..100 {
            let me = app.admin().get("/api/users/search?query=admin").await;
            if me.json["users"][0]["lastSeenAtAge"] != "10 years" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let seen = web.page("/admin/users?query=admin").await;
        assert!(seen.text.contains("&#60; 1 minute"), "{}", seen.text);
        let bob_uid = uid_of(&app, bob).await;
        assert!(page
            .text
            .contains(&format!("href=\"/admin/users/edit/{bob_uid}\"")));
        // By login, by email, by name.
        for query in ["alic", "bobby@corp", "Robert"] {
            let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let found = web.page(&format!("/admin/users?query={encoded}")).await;
            assert_eq!(found.status, StatusCode::OK);
            assert_eq!(rows(&found.text), 1, "{query}: {}", found.text);
            assert!(
                found.text.contains(&format!("value=\"{query}\"")),
                "the query is kept: {query}"
            );
        }
        let none = web.page("/admin/users?query=nobody-at-all").await;
        assert_eq!(rows(&none.text), 0);
        assert!(none.text.contains("No users found."));
        assert!(none.text.contains("Page 1 of 1 · 0 users"));
    })
    .await;
}

#[tokio::test]
async fn the_list_pages_and_sorts_by_the_apis_options() {
    each_backend(|app| async move {
        for i in 0..52 {
            app.create_user(&format!("u{i:02}"), "some-pass-1").await;
        }
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let first = web.page("/admin/users?query=u&sort=login-asc").await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(rows(&first.text), 50);
        assert!(
            first.text.contains("Page 1 of 2 · 52 users"),
            "{}",
            first.text
        );
        assert!(
            first
                .text
                .contains("href=\"/admin/users?query=u&#38;sort=login-asc&#38;page=2\""),
            "next keeps query and sort: {}",
            first.text
        );
        assert!(!first.text.contains("id=\"prev-page\""));
        assert!(
            first.text.find("u00@example.com").unwrap()
                < first.text.find("u01@example.com").unwrap()
        );
        // The header of the sorted column sorts the other way next, keeping the query.
        assert!(
            first.text.contains(
                "aria-sort=\"ascending\"><a href=\"/admin/users?query=u&#38;sort=login-desc\""
            ),
            "{}",
            first.text
        );
        let second = web.page("/admin/users?query=u&sort=login-asc&page=2").await;
        assert_eq!(rows(&second.text), 2);
        assert!(second.text.contains("u50@example.com") && second.text.contains("u51@example.com"));
        assert!(second.text.contains("Page 2 of 2"));
        assert!(second.text.contains("id=\"prev-page\""));
        let desc = web.page("/admin/users?query=u&sort=login-desc").await;
        assert!(
            desc.text.find("u51@example.com").unwrap() < desc.text.find("u50@example.com").unwrap()
        );
        assert!(
            !desc.text.contains("u00@example.com"),
            "u00 is on page 2 now"
        );
        let by_email = web.page("/admin/users?sort=email-desc").await;
        assert_eq!(by_email.status, StatusCode::OK);
        assert!(
            by_email.text.find("u51@example.com").unwrap()
                < by_email.text.find("u50@example.com").unwrap()
        );
        // An option the API lacks is the default order, not an error.
        assert_eq!(
            web.page("/admin/users?sort=password-asc").await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_user_is_created_and_a_taken_login_is_named_next_to_the_field() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let form = web.page("/admin/users/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text.contains("id=\"create-user\""));
        let res = web
            .submit(
                "/admin/users/new",
                &[
                    ("name", "Nora New"),
                    ("email", "nora@example.com"),
                    ("login", "nora"),
                    ("password", "nora-pass-1"),
                    ("org_id", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let found = app.admin().get("/api/users/lookup?loginOrEmail=nora").await;
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.json["name"], "Nora New");
        let uid = found.json["uid"].as_str().unwrap();
        assert_eq!(location(&res), format!("/admin/users/edit/{uid}"));
        let page = web.follow(&res).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("User created"));
        assert!(page.text.contains("value=\"Nora New\""));
        // The new user can sign in.
        WebUser::sign_in(&app, "nora", "nora-pass-1").await;

        web.page("/admin/users/new").await;
        let res = web
            .submit(
                "/admin/users/new",
                &[
                    ("name", "Other"),
                    ("email", "other@example.com"),
                    ("login", "nora"),
                    ("password", "other-pass-1"),
                    ("org_id", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{res:?}");
        assert!(
            res.text.contains("id=\"n-login-e\">User with email"),
            "{}",
            res.text
        );
        assert!(res.text.contains("already exists"));
        assert!(
            res.text.contains("value=\"other@example.com\""),
            "the values are kept"
        );
        // A too short password: next to the password.
        let res = web
            .submit(
                "/admin/users/new",
                &[
                    ("name", ""),
                    ("email", "p@example.com"),
                    ("login", "p"),
                    ("password", "x"),
                    ("org_id", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(
            res.text
                .contains("id=\"n-password-e\">Password is missing or too short"),
            "{}",
            res.text
        );
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=p")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn the_user_page_edits_the_profile_and_shows_conflicts_next_to_the_field() {
    each_backend(|app| async move {
        let id = app.create_user("edith", "edith-pass-1").await;
        app.create_user("taken", "taken-pass-1").await;
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/admin/users/edit/{uid}")).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page.text.contains("value=\"edith name\""));
        assert!(
            page.text.contains("id=\"set-password\"") && page.text.contains("id=\"grant-admin\"")
        );
        assert!(
            page.text.contains("id=\"disable-user\"") && page.text.contains("id=\"delete-user\"")
        );
        // The numeric id works as well.
        assert_eq!(
            web.page(&format!("/admin/users/edit/{id}")).await.status,
            StatusCode::OK
        );
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}"),
                &[
                    ("name", "Edith Piaf"),
                    ("email", "edith@paris.example"),
                    ("login", "edith"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), format!("/admin/users/edit/{uid}"));
        let user = app.admin().get(&format!("/api/users/{id}")).await;
        assert_eq!(user.json["name"], "Edith Piaf");
        assert_eq!(user.json["email"], "edith@paris.example");
        assert!(web.follow(&res).await.text.contains("User updated"));
        // Another user's login: the API's 409, next to the login, values kept.
        web.page(&format!("/admin/users/edit/{uid}")).await;
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}"),
                &[
                    ("name", "Edith"),
                    ("email", "edith@paris.example"),
                    ("login", "taken"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        assert!(
            res.text
                .contains("id=\"u-login-e\">Update would result in user login conflict"),
            "{}",
            res.text
        );
        assert!(res.text.contains("value=\"taken\""));
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["login"],
            "edith"
        );
        // Unknown users are the API's 404.
        assert_eq!(
            web.page("/admin/users/edit/no-such-uid").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            web.page("/admin/users/edit/99999").await.status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn an_admin_sets_a_password_and_the_user_signs_in_with_it() {
    each_backend(|app| async move {
        let id = app.create_user("pat", "old-pass-1").await;
        let uid = uid_of(&app, id).await;
        let pat = WebUser::sign_in(&app, "pat", "old-pass-1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page(&format!("/admin/users/edit/{uid}")).await;
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/password"),
                &[("password", "x")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(
            res.text
                .contains("id=\"u-password-e\">New password too short"),
            "{}",
            res.text
        );
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/password"),
                &[("password", "new-pass-2")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let again = WebUser::new(&app);
        assert_eq!(
            again.try_sign_in("pat", "old-pass-1").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            again.try_sign_in("pat", "new-pass-2").await.status,
            StatusCode::SEE_OTHER
        );
        // Pat's earlier session ended with the change.
        assert_eq!(pat.page("/profile").await.status, StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn server_admin_is_granted_and_revoked() {
    each_backend(|app| async move {
        let id = app.create_user("gina", "gina-pass-1").await;
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page(&format!("/admin/users/edit/{uid}")).await;
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/permissions"),
                &[("is_grafana_admin", "true")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["isGrafanaAdmin"],
            true
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("Server admin granted"));
        assert!(page.text.contains("id=\"revoke-admin\""));
        // Gina now sees the administration.
        let gina = WebUser::sign_in(&app, "gina", "gina-pass-1").await;
        assert_eq!(gina.page("/admin/users").await.status, StatusCode::OK);
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/permissions"),
                &[("is_grafana_admin", "false")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["isGrafanaAdmin"],
            false
        );
        assert_eq!(
            gina.page("/admin/users").await.status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_until_enabled() {
    each_backend(|app| async move {
        let id = app.create_user("dora", "dora-pass-1").await;
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page(&format!("/admin/users/edit/{uid}")).await;
        let res = web
            .submit(&format!("/admin/users/edit/{uid}/disable"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["isDisabled"],
            true
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("User disabled"));
        assert!(
            page.text.contains("id=\"enable-user\"") && !page.text.contains("id=\"disable-user\"")
        );
        let list = web.page("/admin/users?query=dora").await;
        assert!(
            list.text
                .contains("<span class=\"badge warn\">Disabled</span>"),
            "{}",
            list.text
        );
        let dora = WebUser::new(&app);
        let res = dora.try_sign_in("dora", "dora-pass-1").await;
        assert_ne!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(
            res.text.contains("id=\"login-error\""),
            "the form shows an error: {}",
            res.text
        );
        assert!(dora.cookie("grafana_session").is_none());
        let res = web
            .submit(&format!("/admin/users/edit/{uid}/enable"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            dora.try_sign_in("dora", "dora-pass-1").await.status,
            StatusCode::SEE_OTHER
        );
    })
    .await;
}

#[tokio::test]
async fn a_deleted_user_is_gone_and_the_list_says_so() {
    each_backend(|app| async move {
        let id = app.create_user("dan", "dan-pass-1").await;
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/admin/users/edit/{uid}")).await;
        assert!(page.text.contains("data-confirm=\"Delete dan for good?\""));
        let res = web
            .submit(&format!("/admin/users/edit/{uid}/delete"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/admin/users");
        let list = web.follow(&res).await;
        assert!(list.text.contains("User deleted"));
        assert!(!list.text.contains("dan@example.com"));
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        // Your own page offers no way to delete or disable yourself.
        let me = web.page("/admin/users/edit/1").await;
        assert_eq!(me.status, StatusCode::OK);
        assert!(
            !me.text.contains("id=\"delete-user\"") && !me.text.contains("id=\"disable-user\"")
        );
    })
    .await;
}

#[tokio::test]
async fn org_memberships_are_changed_added_and_removed() {
    each_backend(|app| async move {
        let id = app.create_user("olga", "olga-pass-1").await;
        let uid = uid_of(&app, id).await;
        let org = app
            .admin()
            .post("/api/orgs", &json!({"name": "Second Org"}).to_string())
            .await;
        assert_eq!(org.status, StatusCode::OK, "{org:?}");
        let org_id = org.json["orgId"].as_i64().unwrap();
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/admin/users/edit/{uid}")).await;
        assert!(
            page.text.contains("<tr data-org=\"1\"><td>Main Org.</td>"),
            "{}",
            page.text
        );
        assert!(
            page.text
                .contains(&format!("<option value=\"{org_id}\">Second Org</option>")),
            "the other org can be joined: {}",
            page.text
        );
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/orgs/1/role"),
                &[("role", "Editor")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await;
        assert_eq!(orgs.json[0]["role"], "Editor");
        // A role the API does not know: its message, as a flash on the page.
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/orgs/1/role"),
                &[("role", "Emperor")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let page = web.follow(&res).await;
        assert!(page.text.contains("flash-error"), "{}", page.text);
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/orgs/add"),
                &[("org_id", &org_id.to_string()), ("role", "Admin")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await;
        let second = orgs
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["orgId"] == org_id)
            .expect("added");
        assert_eq!(second["role"], "Admin");
        let page = web.follow(&res).await;
        assert!(page.text.contains("Added to the organization"));
        assert!(page
            .text
            .contains(&format!("<tr data-org=\"{org_id}\"><td>Second Org</td>")));
        let res = web
            .submit(&format!("/admin/users/edit/{uid}/orgs/1/remove"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await;
        assert_eq!(orgs.json.as_array().unwrap().len(), 1);
        assert_eq!(orgs.json[0]["orgId"], org_id);
    })
    .await;
}

#[tokio::test]
async fn sessions_are_revoked_one_by_one_or_all_at_once() {
    each_backend(|app| async move {
        let id = app.create_user("sam", "sam-pass-1").await;
        let uid = uid_of(&app, id).await;
        let laptop = WebUser::sign_in(&app, "sam", "sam-pass-1").await;
        let mut phone = WebUser::new(&app);
        phone.agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1".into();
        assert_eq!(phone.try_sign_in("sam", "sam-pass-1").await.status, StatusCode::SEE_OTHER);
        let tablet = WebUser::sign_in(&app, "sam", "sam-pass-1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/admin/users/edit/{uid}")).await;
        assert_eq!(page.text.matches("<tr data-session=").count(), 3, "{}", page.text);
        assert!(page.text.contains("iOS"));
        assert!(page.text.contains("id=\"logout-all\""));
        let tokens = app.admin().get(&format!("/api/admin/users/{id}/auth-tokens")).await;
        let phone_id = tokens.json.as_array().unwrap().iter().find(|t| t["os"] == "iOS").unwrap()["id"].as_i64().unwrap();
        let res = web.submit(&format!("/admin/users/edit/{uid}/sessions/{phone_id}/revoke"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(web.follow(&res).await.text.contains("Session revoked"));
        assert_eq!(phone.page("/profile").await.status, StatusCode::SEE_OTHER);
        assert_eq!(laptop.page("/profile").await.status, StatusCode::OK);
        let res = web.submit(&format!("/admin/users/edit/{uid}/sessions/logout"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(laptop.page("/profile").await.status, StatusCode::SEE_OTHER);
        assert_eq!(tablet.page("/profile").await.status, StatusCode::SEE_OTHER);
        let tokens = app.admin().get(&format!("/api/admin/users/{id}/auth-tokens")).await;
        assert_eq!(tokens.json.as_array().unwrap().len(), 0);
        // On your own page, your own session is marked and "sign out all" is not offered (the
        // API refuses to sign out the caller).
        let me = web.page("/admin/users/edit/1").await;
        assert!(me.text.contains("This device"));
        assert!(!me.text.contains("id=\"logout-all\""));
    })
    .await;
}

#[tokio::test]
async fn a_locked_out_user_is_unlocked() {
    each_backend_with(
        &[("security", "brute_force_login_protection_max_attempts", "2")],
        |app| async move {
            let id = app.create_user("lou", "lou-pass-1").await;
            let uid = uid_of(&app, id).await;
            let lou = WebUser::new(&app);
            for _ in 0..3 {
                assert_eq!(
                    lou.try_sign_in("lou", "wrong").await.status,
                    StatusCode::UNAUTHORIZED
                );
            }
            assert_eq!(
                lou.try_sign_in("lou", "lou-pass-1").await.status,
                StatusCode::UNAUTHORIZED,
                "locked"
            );
            let web = WebUser::sign_in(&app, "admin", "admin").await;
            let page = web.page(&format!("/admin/users/edit/{uid}")).await;
            assert!(
                page.text.contains("id=\"locked\">Locked out"),
                "{}",
                page.text
            );
            assert!(page.text.contains("failed logins in the last"));
            assert!(page.text.contains("id=\"unlock\">Unlock"));
            let res = web
                .submit(&format!("/admin/users/edit/{uid}/lockout/clear"), &[])
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
            let lockout = app
                .admin()
                .get(&format!("/api/admin/users/{id}/lockout"))
                .await;
            assert_eq!(lockout.json["locked"], false);
            assert_eq!(lockout.json["failedAttempts"], 0);
            let page = web.follow(&res).await;
            assert!(!page.text.contains("id=\"locked\""));
            assert!(!page.text.contains("id=\"unlock\""));
            assert_eq!(
                lou.try_sign_in("lou", "lou-pass-1").await.status,
                StatusCode::SEE_OTHER
            );
        },
    )
    .await;
}

#[tokio::test]
async fn quotas_are_shown_and_set_when_enabled() {
    each_backend_with(&[("quota", "enabled", "true")], |app| async move {
        let id = app.create_user("quin", "quin-pass-1").await;
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/admin/users/edit/{uid}")).await;
        assert!(
            page.text.contains("<tr data-quota=\"org_user\">"),
            "{}",
            page.text
        );
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/quotas/org_user"),
                &[("limit", "lots")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(
            res.text.contains("id=\"quota-org_user-e\">"),
            "{}",
            res.text
        );
        assert!(res.text.contains("value=\"lots\""));
        let res = web
            .submit(
                &format!("/admin/users/edit/{uid}/quotas/org_user"),
                &[("limit", "3")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let quotas = app
            .admin()
            .get(&format!("/api/admin/users/{id}/quotas"))
            .await;
        let q = quotas
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["target"] == "org_user")
            .unwrap()
            .clone();
        assert_eq!(q["limit"], 3);
    })
    .await;
}

#[tokio::test]
async fn without_quotas_the_section_is_hidden() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/users/edit/1").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("id=\"quotas\""));
    })
    .await;
}

#[tokio::test]
async fn a_viewer_is_refused_the_pages_and_sees_no_admin_links() {
    each_backend(|app| async move {
        let vera = app.create_user("vera", "vera-pass-1").await;
        let other = app.create_user("otto", "otto-pass-1").await;
        let otto_uid = uid_of(&app, other).await;
        let web = WebUser::sign_in(&app, "vera", "vera-pass-1").await;
        for path in [
            "/admin/users".to_string(),
            "/admin/users/new".to_string(),
            format!("/admin/users/edit/{otto_uid}"),
            format!("/admin/users/edit/{other}"),
        ] {
            let res = web.page(&path).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
            assert!(
                !res.text.contains("href=\"/admin/users\""),
                "{path}: no administration link"
            );
            assert!(!res.text.contains("otto@example.com"));
        }
        // Forms posted anyway are the API's refusals and change nothing.
        web.page("/profile").await;
        let res = web
            .submit(
                &format!("/admin/users/edit/{otto_uid}/permissions"),
                &[("is_grafana_admin", "true")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.admin().get(&format!("/api/users/{other}")).await.json["isGrafanaAdmin"],
            false
        );
        let res = web
            .submit(
                "/admin/users/new",
                &[
                    ("login", "sneaky"),
                    ("email", "s@example.com"),
                    ("password", "sneaky-pass-1"),
                    ("name", ""),
                    ("org_id", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=sneaky")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let _ = vera;
    })
    .await;
}

#[tokio::test]
async fn markup_in_a_name_is_escaped_in_the_list_and_on_the_user_page() {
    each_backend(|app| async move {
        let evil = "<script>alert(1)</script>";
        let id = app.create_user("mal", "mal-pass-1").await;
        let res = app
            .admin()
            .put(
                &format!("/api/users/{id}"),
                &json!({"name": evil, "email": "mal@example.com", "login": "mal"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let uid = uid_of(&app, id).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        for path in [
            "/admin/users?query=mal".to_string(),
            format!("/admin/users/edit/{uid}"),
        ] {
            let page = web.page(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.text.contains(evil), "{path}");
            assert!(
                page.text
                    .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
                "{path}: {}",
                page.text
            );
            assert!(
                !page.text.contains("<script>") && !page.text.contains("style="),
                "{path}"
            );
        }
    })
    .await;
}
