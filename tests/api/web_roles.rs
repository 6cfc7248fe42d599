//! The web interface's role pages (`/admin/roles`, `/admin/roles/new`, `/admin/roles/edit/{uid}`):
//! what they show, that their forms change what the API then reports (permissions, version,
//! assignments to users and teams, deletion), that errors land next to their field, and that
//! only those the API lets read roles see them.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::web::{encode, location, WebUser};
use crate::{each_backend, TestApp};

/// Creates a role through the API (as admin).
async fn role(app: &TestApp, uid: &str, name: &str, permissions: Value) {
    let body = json!({"uid": uid, "name": name, "displayName": format!("{uid} shown"),
                      "description": "made by the test", "group": "Tests", "version": 1,
                      "permissions": permissions});
    let res = app
        .admin()
        .post("/api/access-control/roles", &body.to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

/// The role as the API reports it.
async fn api_role(app: &TestApp, uid: &str) -> Value {
    let res = app
        .admin()
        .get(&format!("/api/access-control/roles/{uid}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json
}

/// The uids of the roles the API reports for `who` (`users/{id}` or `teams/{id}`).
async fn assigned(app: &TestApp, who: &str) -> Vec<String> {
    let res = app
        .admin()
        .get(&format!("/api/access-control/{who}/roles"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn web_roles_the_admin_lists_roles_with_their_permission_counts() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let empty = web.page("/admin/roles").await;
        assert_eq!(empty.status, StatusCode::OK, "{empty:?}");
        assert!(empty.text.contains("id=\"no-roles\""), "{}", empty.text);
        assert!(empty
            .text
            .contains("href=\"/admin/roles\" aria-current=\"page\">Roles</a>"));
        role(
            &app,
            "readers",
            "custom:readers",
            json!([{"action": "users:read", "scope": "global.users:*"},
                   {"action": "teams:read", "scope": "teams:*"}]),
        )
        .await;
        let page = web.page("/admin/roles").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text
                .contains("<a href=\"/admin/roles/edit/readers\">custom:readers</a>"),
            "{}",
            page.text
        );
        assert!(page.text.contains("readers shown"));
        assert!(page.text.contains("made by the test"));
        assert!(page.text.contains(">Tests</td>"));
        assert!(page.text.contains("<td>2</td>"), "{}", page.text);
        assert!(page.text.contains("<td>This org</td>"));
        assert!(page.text.contains("id=\"new-role\""));
        assert!(!page.text.contains("id=\"no-roles\""));
    })
    .await;
}

#[tokio::test]
async fn web_roles_a_role_is_created_through_the_form_and_bad_input_named_at_the_field() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let form = web.page("/admin/roles/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text.contains("id=\"create-role\""));
        assert!(form.text.contains("id=\"role-global\""));
        let res = web
            .submit(
                "/admin/roles/new",
                &[
                    ("name", "custom:auditors"),
                    ("display_name", "Auditors"),
                    ("description", "Read users and teams"),
                    ("group", "Audit"),
                    (
                        "permissions",
                        "users:read users:*\r\n\r\n  teams:read   teams:* \nserver.stats:read\n",
                    ),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let list = app.admin().get("/api/access-control/roles").await.json;
        let made = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "custom:auditors")
            .unwrap_or_else(|| panic!("{list}"));
        let uid = made["uid"].as_str().unwrap().to_string();
        assert_eq!(location(&res), format!("/admin/roles/edit/{uid}"));
        let r = api_role(&app, &uid).await;
        assert_eq!(r["displayName"], "Auditors");
        assert_eq!(r["description"], "Read users and teams");
        assert_eq!(r["group"], "Audit");
        assert_eq!(r["global"], false);
        assert_eq!(r["version"], 1);
        assert_eq!(
            r["permissions"],
            // In the API's order (sorted), not the form's.
            json!([{"action": "server.stats:read", "scope": ""},
                   {"action": "teams:read", "scope": "teams:*"},
                   {"action": "users:read", "scope": "users:*"}])
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("Role created"));
        assert!(page
            .text
            .contains("<span id=\"role-title\">custom:auditors</span>"));
        assert!(
            page.text
                .contains(">server.stats:read\nteams:read teams:*\nusers:read users:*</textarea>"),
            "{}",
            page.text
        );

        // A global one.
        web.page("/admin/roles/new").await;
        let res = web
            .submit(
                "/admin/roles/new",
                &[
                    ("name", "custom:everywhere"),
                    ("permissions", ""),
                    ("global", "true"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let page = web.page("/admin/roles").await;
        assert!(page.text.contains("<span class=\"badge on\">Global</span>"));

        // An empty name: the form's own error, next to the name, the rest kept.
        let res = web
            .submit(
                "/admin/roles/new",
                &[
                    ("name", "  "),
                    ("group", "Kept group"),
                    ("permissions", "users:read"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text.contains("id=\"role-name-e\">Name is required"),
            "{}",
            res.text
        );
        assert!(res.text.contains("aria-describedby=\"role-name-e\""));
        assert!(res.text.contains("value=\"Kept group\""));
        // The API's refusals: a taken name, a reserved prefix, an action without a colon.
        for (name, permissions, field, message, status) in [
            (
                "custom:auditors",
                "",
                "role-name-e",
                "a role with this uid or name already exists",
                StatusCode::CONFLICT,
            ),
            (
                "fixed:mine",
                "",
                "role-name-e",
                "roles with the same prefix as Fixed roles can&#39;t be created",
                StatusCode::BAD_REQUEST,
            ),
            (
                "custom:bad",
                "nocolon",
                "role-permissions-e",
                "Failed to validate provided permissions",
                StatusCode::BAD_REQUEST,
            ),
            (
                "custom:bad",
                "a:b c d",
                "role-permissions-e",
                "Line 1: expected an action, or an action and a scope",
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let res = web
                .submit(
                    "/admin/roles/new",
                    &[("name", name), ("permissions", permissions)],
                )
                .await;
            assert_eq!(res.status, status, "{name}: {res:?}");
            let wanted = format!("id=\"{field}\">{message}");
            let alt = wanted.replace("&#39;", "&#x27;");
            assert!(
                res.text.contains(&wanted) || res.text.contains(&alt),
                "{name}: {}",
                res.text
            );
        }
        let count = app.admin().get("/api/access-control/roles").await.json;
        assert_eq!(count.as_array().unwrap().len(), 2, "{count}");
    })
    .await;
}

#[tokio::test]
async fn web_roles_a_role_is_edited_with_a_grown_version() {
    each_backend(|app| async move {
        role(
            &app,
            "editable",
            "custom:editable",
            json!([{"action": "users:read", "scope": "users:*"}]),
        )
        .await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/roles/edit/editable").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page.text.contains("value=\"custom:editable\""));
        assert!(
            page.text.contains(">users:read users:*</textarea>"),
            "{}",
            page.text
        );
        assert!(page.text.contains("Version 1"));
        let res = web
            .submit(
                "/admin/roles/edit/editable",
                &[
                    ("name", "custom:edited"),
                    ("display_name", "Edited"),
                    ("description", "changed"),
                    ("group", "New group"),
                    ("permissions", "users:read users:*\nteams:write teams:*"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/admin/roles/edit/editable");
        let r = api_role(&app, "editable").await;
        assert_eq!(r["version"], 2);
        assert_eq!(r["name"], "custom:edited");
        assert_eq!(r["displayName"], "Edited");
        assert_eq!(r["group"], "New group");
        assert_eq!(
            r["permissions"],
            json!([{"action": "teams:write", "scope": "teams:*"},
                   {"action": "users:read", "scope": "users:*"}])
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("Role updated"));
        assert!(page.text.contains("Version 2"));
        // Saved again: the version grows again.
        let res = web
            .submit(
                "/admin/roles/edit/editable",
                &[
                    ("name", "custom:edited"),
                    ("permissions", "teams:write teams:*"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(api_role(&app, "editable").await["version"], 3);
        // An empty name is named at the field; nothing changes.
        let res = web
            .submit(
                "/admin/roles/edit/editable",
                &[("name", ""), ("permissions", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text.contains("id=\"role-name-e\">Name is required"),
            "{}",
            res.text
        );
        assert_eq!(api_role(&app, "editable").await["version"], 3);
        assert_eq!(
            web.page("/admin/roles/edit/no-such-role").await.status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn web_roles_a_role_is_assigned_to_and_taken_from_a_user_and_a_team() {
    each_backend(|app| async move {
        role(
            &app,
            "helpers",
            "custom:helpers",
            json!([{"action": "users:read", "scope": "users:*"}]),
        )
        .await;
        let bob = app.create_user("bob", "bob-pass-1").await;
        let team = app
            .admin()
            .post("/api/teams", r#"{"name":"Helpdesk"}"#)
            .await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        let team = team.json["teamId"].as_i64().unwrap();
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/roles/edit/helpers").await;
        for id in [
            "assign-user",
            "unassign-user",
            "assign-team",
            "unassign-team",
        ] {
            assert!(page.text.contains(&format!("id=\"{id}\"")), "{id}");
        }
        let path = "/admin/roles/edit/helpers";

        // By email, then an unknown login, named at the field.
        let res = web
            .submit(&format!("{path}/users"), &[("login", "bob@example.com")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            assigned(&app, &format!("users/{bob}")).await,
            vec!["helpers"]
        );
        assert!(web
            .follow(&res)
            .await
            .text
            .contains("Role assigned to bob@example.com"));
        let res = web
            .submit(&format!("{path}/users"), &[("login", "nobody")])
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert!(
            res.text
                .contains("id=\"user-add-login-e\">No user has that login or email"),
            "{}",
            res.text
        );
        assert!(res.text.contains("value=\"nobody\""));

        let res = web
            .submit(&format!("{path}/teams"), &[("name", "Helpdesk")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            assigned(&app, &format!("teams/{team}")).await,
            vec!["helpers"]
        );
        let res = web
            .submit(&format!("{path}/teams"), &[("name", "Help")])
            .await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "only the exact name: {res:?}"
        );
        assert!(res
            .text
            .contains("id=\"team-add-name-e\">No team of this organization has that name"));

        let res = web
            .submit(&format!("{path}/users/remove"), &[("login", "bob")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(assigned(&app, &format!("users/{bob}")).await.is_empty());
        assert!(web.follow(&res).await.text.contains("Role taken from bob"));
        let res = web
            .submit(&format!("{path}/teams/remove"), &[("name", "Helpdesk")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(assigned(&app, &format!("teams/{team}")).await.is_empty());
        let res = web
            .submit(&format!("{path}/teams/remove"), &[("name", "")])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res
            .text
            .contains("id=\"team-remove-name-e\">Team name is required"));
    })
    .await;
}

#[tokio::test]
async fn web_roles_an_assigned_role_is_deleted_after_the_confirmation() {
    each_backend(|app| async move {
        role(&app, "doomed", "custom:doomed", json!([])).await;
        let bob = app.create_user("bob", "bob-pass-1").await;
        let res = app
            .admin()
            .post(&format!("/api/access-control/users/{bob}/roles"), r#"{"roleUid":"doomed"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/admin/roles/edit/doomed").await;
        assert!(
            page.text.contains("data-confirm=\"Delete the role custom:doomed? It is also taken from every user and team it is assigned to.\""),
            "{}",
            page.text
        );
        let res = web.submit("/admin/roles/edit/doomed/delete", &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/admin/roles");
        assert_eq!(
            app.admin().get("/api/access-control/roles/doomed").await.status,
            StatusCode::NOT_FOUND
        );
        assert!(assigned(&app, &format!("users/{bob}")).await.is_empty());
        let list = web.follow(&res).await;
        assert!(list.text.contains("Role custom:doomed deleted"));
        assert!(!list.text.contains(">custom:doomed</a>"));
    })
    .await;
}

#[tokio::test]
async fn web_roles_an_org_viewer_gets_403_and_no_roles_link() {
    each_backend(|app| async move {
        role(&app, "secret", "custom:secret", json!([])).await;
        app.create_user("vic", "vic-pass-1").await;
        let web = WebUser::sign_in(&app, "vic", "vic-pass-1").await;
        let profile = web.page("/profile").await;
        assert_eq!(profile.status, StatusCode::OK);
        assert!(!profile.text.contains("/admin/roles\""), "no link to them");
        for path in [
            "/admin/roles",
            "/admin/roles/new",
            "/admin/roles/edit/secret",
        ] {
            let res = web.page(path).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
            assert!(!res.text.contains("custom:secret"), "{path}");
        }
        for (path, fields) in [
            ("/admin/roles/new", vec![("name", "custom:mine")]),
            ("/admin/roles/edit/secret", vec![("name", "custom:taken")]),
            ("/admin/roles/edit/secret/delete", vec![]),
            ("/admin/roles/edit/secret/users", vec![("login", "vic")]),
        ] {
            let res = web.submit(path, &fields).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
        }
        let r = api_role(&app, "secret").await;
        assert_eq!(
            (r["name"].as_str(), r["version"].as_i64()),
            (Some("custom:secret"), Some(1))
        );
        assert_eq!(
            app.admin()
                .get("/api/access-control/roles")
                .await
                .json
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // The admin sees the link.
        let admin = WebUser::sign_in(&app, "admin", "admin").await;
        assert!(admin
            .page("/profile")
            .await
            .text
            .contains("href=\"/admin/roles\""));
    })
    .await;
}

#[tokio::test]
async fn web_roles_a_post_without_the_csrf_token_is_refused() {
    each_backend(|app| async move {
        role(&app, "kept", "custom:kept", json!([])).await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        web.page("/admin/roles/new").await;
        let res = web
            .post_raw("/admin/roles/new", &encode(&[("name", "custom:forged")]))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert!(res.text.contains("security token"), "{}", res.text);
        let res = web
            .post_raw(
                "/admin/roles/edit/kept/delete",
                &encode(&[("_csrf", "forged")]),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let list = app.admin().get("/api/access-control/roles").await.json;
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["custom:kept"]);
    })
    .await;
}

#[tokio::test]
async fn web_roles_a_role_name_is_escaped() {
    each_backend(|app| async move {
        let evil = "<script>alert(1)</script>";
        role(
            &app,
            "evil",
            evil,
            json!([{"action": "users:read", "scope": "users:\"*"}]),
        )
        .await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        for path in ["/admin/roles", "/admin/roles/edit/evil"] {
            let page = web.page(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
            assert!(!page.text.contains(evil), "{path}: {}", page.text);
            assert!(
                page.text
                    .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                    || page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{path}: {}",
                page.text
            );
        }
    })
    .await;
}
