//! Custom roles (`/api/access-control/…`, Grafana's Enterprise API as documented in
//! `docs/sources/developers/http_api/access_control.md`): role CRUD, assignments to users, teams
//! and basic roles, delegation, and their effect on every route's access check.

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_backend, TestApp};

async fn create_role(app: &TestApp, uid: &str, permissions: serde_json::Value, global: bool) {
    let body = json!({"uid": uid, "name": format!("custom:{uid}"), "displayName": uid,
                      "description": "test role", "group": "Tests", "version": 1,
                      "global": global, "permissions": permissions});
    let res = app
        .admin()
        .post("/api/access-control/roles", &body.to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

#[tokio::test]
async fn roles_are_created_read_updated_and_deleted() {
    each_backend(|app| async move {
        create_role(
            &app,
            "readers",
            json!([{"action": "users:read", "scope": "global.users:*"}]),
            false,
        )
        .await;
        let admin = app.admin();
        let res = admin.get("/api/access-control/roles/readers").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = &res.json;
        assert_eq!(r["uid"], "readers");
        assert_eq!(r["name"], "custom:readers");
        assert_eq!(r["displayName"], "readers");
        assert_eq!(r["group"], "Tests");
        assert_eq!(r["version"], 1);
        assert_eq!(r["global"], false);
        assert_eq!(
            r["permissions"],
            json!([{"action": "users:read", "scope": "global.users:*"}])
        );
        // The list omits permissions.
        let list = admin.get("/api/access-control/roles").await.json;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(list[0].get("permissions").is_none());

        // Bad input.
        for (body, status) in [
            (
                json!({"uid": "readers", "name": "other"}),
                StatusCode::CONFLICT,
            ),
            (json!({"name": "custom:readers"}), StatusCode::CONFLICT),
            (json!({"name": "fixed:mine"}), StatusCode::BAD_REQUEST),
            (json!({"name": ""}), StatusCode::BAD_REQUEST),
            (
                json!({"name": "x", "permissions": [{"action": ""}]}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"name": "x", "uid": "no spaces"}),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let res = admin
                .post("/api/access-control/roles", &body.to_string())
                .await;
            assert_eq!(res.status, status, "{body}: {res:?}");
        }
        assert_message(
            &admin.get("/api/access-control/roles/nope").await,
            StatusCode::NOT_FOUND,
            "Role not found.",
        );

        // Updates must raise the version and replace the permissions.
        let update = |version: i64| {
            json!({"name": "custom:readers", "version": version,
                   "permissions": [{"action": "orgs:read", "scope": ""}]})
            .to_string()
        };
        let res = admin
            .put("/api/access-control/roles/readers", &update(1))
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let res = admin
            .put("/api/access-control/roles/readers", &update(2))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["version"], 2);
        assert_eq!(
            res.json["permissions"],
            json!([{"action": "orgs:read", "scope": ""}])
        );
        assert_message(
            &admin
                .put("/api/access-control/roles/nope", &update(9))
                .await,
            StatusCode::NOT_FOUND,
            "Role was not found to update.",
        );

        // An assigned role is deleted only with force=true.
        let id = app.create_user("rita", "password1").await;
        admin
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "readers"}"#,
            )
            .await;
        let res = admin.delete("/api/access-control/roles/readers").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let res = admin
            .delete("/api/access-control/roles/readers?force=true")
            .await;
        assert_message(&res, StatusCode::OK, "Role deleted");
        assert_eq!(
            admin
                .get(&format!("/api/access-control/users/{id}/roles"))
                .await
                .json,
            json!([])
        );
    })
    .await;
}

#[tokio::test]
async fn a_role_given_to_a_user_opens_its_routes_and_taking_it_closes_them() {
    each_backend(|app| async move {
        create_role(
            &app,
            "user-readers",
            json!([{"action": "users:read", "scope": "global.users:*"}]),
            false,
        )
        .await;
        let id = app.create_user("uma", "password1").await;
        let uma = app.as_user("uma", "password1");
        assert_eq!(
            uma.get("/api/users/search").await.status,
            StatusCode::FORBIDDEN
        );
        let admin = app.admin();
        let res = admin
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "user-readers"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the user.");
        assert_eq!(uma.get("/api/users/search").await.status, StatusCode::OK);
        let roles = admin
            .get(&format!("/api/access-control/users/{id}/roles"))
            .await
            .json;
        assert_eq!(roles[0]["uid"], "user-readers");
        // Still nothing more than the role grants.
        assert_eq!(
            uma.post("/api/admin/users", "{}").await.status,
            StatusCode::FORBIDDEN
        );

        let res = admin
            .delete(&format!(
                "/api/access-control/users/{id}/roles/user-readers"
            ))
            .await;
        assert_message(&res, StatusCode::OK, "Role removed from user.");
        assert_eq!(
            uma.get("/api/users/search").await.status,
            StatusCode::FORBIDDEN
        );

        // PUT sets the whole list.
        let res = admin
            .put(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUids": ["user-readers"]}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User roles have been updated.");
        assert_eq!(uma.get("/api/users/search").await.status, StatusCode::OK);
        admin
            .put(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUids": []}"#,
            )
            .await;
        assert_eq!(
            uma.get("/api/users/search").await.status,
            StatusCode::FORBIDDEN
        );

        // Unknown roles and users.
        let res = admin
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "nope"}"#,
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "Role not found.");
        let res = admin
            .post(
                "/api/access-control/users/99999/roles",
                r#"{"roleUid": "user-readers"}"#,
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User not found");
    })
    .await;
}

#[tokio::test]
async fn team_and_basic_role_assignments_apply_to_their_members() {
    each_backend(|app| async move {
        create_role(
            &app,
            "org-writers",
            json!([{"action": "orgs:write", "scope": ""}]),
            false,
        )
        .await;
        let id = app.create_user("tom", "password1").await;
        let tom = app.as_user("tom", "password1");
        let rename = r#"{"name": "Main Org."}"#;
        assert_eq!(
            tom.put("/api/org", rename).await.status,
            StatusCode::FORBIDDEN
        );
        let admin = app.admin();
        let team = admin
            .post("/api/teams", r#"{"name": "Writers"}"#)
            .await
            .json["teamId"]
            .as_i64()
            .unwrap();
        admin
            .post(
                &format!("/api/teams/{team}/members"),
                &json!({"userId": id}).to_string(),
            )
            .await;
        let res = admin
            .post(
                &format!("/api/access-control/teams/{team}/roles"),
                r#"{"roleUid": "org-writers"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the team.");
        assert_eq!(tom.put("/api/org", rename).await.status, StatusCode::OK);
        let res = admin
            .delete(&format!(
                "/api/access-control/teams/{team}/roles/org-writers"
            ))
            .await;
        assert_message(&res, StatusCode::OK, "Role removed from team.");
        assert_eq!(
            tom.put("/api/org", rename).await.status,
            StatusCode::FORBIDDEN
        );

        // Given to the Viewer basic role, every Viewer of the org holds it.
        let res = admin
            .post(
                "/api/access-control/builtin-roles",
                r#"{"roleUid": "org-writers", "builtinRole": "Viewer"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Built-in role grant added");
        assert_eq!(tom.put("/api/org", rename).await.status, StatusCode::OK);
        let map = admin.get("/api/access-control/builtin-roles").await.json;
        assert_eq!(map["Viewer"][0]["uid"], "org-writers");
        let res = admin
            .delete("/api/access-control/builtin-roles/Viewer/roles/org-writers")
            .await;
        assert_message(&res, StatusCode::OK, "Built-in role grant removed");
        assert_eq!(
            tom.put("/api/org", rename).await.status,
            StatusCode::FORBIDDEN
        );
        let res = admin
            .post(
                "/api/access-control/builtin-roles",
                r#"{"roleUid": "org-writers", "builtinRole": "Owner"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn global_roles_count_on_server_wide_routes() {
    each_backend(|app| async move {
        create_role(
            &app,
            "org-browser",
            json!([{"action": "orgs:read", "scope": ""}]),
            true,
        )
        .await;
        let id = app.create_user("gia", "password1").await;
        let gia = app.as_user("gia", "password1");
        assert_eq!(gia.get("/api/orgs").await.status, StatusCode::FORBIDDEN);
        app.admin()
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "org-browser", "global": true}"#,
            )
            .await;
        assert_eq!(gia.get("/api/orgs").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn only_held_permissions_can_be_delegated() {
    each_backend(|app| async move {
        create_role(
            &app,
            "role-maker",
            json!([{"action": "roles:write", "scope": "permissions:type:delegate"},
                   {"action": "roles:read", "scope": "roles:*"}]),
            false,
        )
        .await;
        let id = app.create_user("dee", "password1").await;
        app.admin()
            .post(&format!("/api/access-control/users/{id}/roles"), r#"{"roleUid": "role-maker"}"#)
            .await;
        let dee = app.as_user("dee", "password1");
        // dee is a Viewer: orgs:read is hers to hand on, users:read is not.
        let res = dee
            .post(
                "/api/access-control/roles",
                r#"{"name": "custom:mine", "permissions": [{"action": "orgs:read"}]}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = dee
            .post(
                "/api/access-control/roles",
                r#"{"name": "custom:escalate", "permissions": [{"action": "users:read", "scope": "global.users:*"}]}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        // Without roles:write nothing at all.
        app.create_user("eli", "password1").await;
        let res = app
            .as_user("eli", "password1")
            .post("/api/access-control/roles", r#"{"name": "custom:x"}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn deleting_users_teams_and_orgs_removes_their_role_assignments() {
    each_backend(|app| async move {
        create_role(
            &app,
            "temp",
            json!([{"action": "orgs:write", "scope": ""}]),
            false,
        )
        .await;
        let id = app.create_user("ivo", "password1").await;
        let admin = app.admin();
        admin
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "temp"}"#,
            )
            .await;
        let team = admin.post("/api/teams", r#"{"name": "Tmp"}"#).await.json["teamId"]
            .as_i64()
            .unwrap();
        admin
            .post(
                &format!("/api/access-control/teams/{team}/roles"),
                r#"{"roleUid": "temp"}"#,
            )
            .await;
        admin.delete(&format!("/api/admin/users/{id}")).await;
        admin.delete(&format!("/api/teams/{team}")).await;
        // Nothing holds the role any more: it deletes without force.
        let res = admin.delete("/api/access-control/roles/temp").await;
        assert_message(&res, StatusCode::OK, "Role deleted");

        // An org's roles go with the org.
        let org = admin.post("/api/orgs", r#"{"name": "Gone"}"#).await.json["orgId"]
            .as_i64()
            .unwrap();
        admin.post(&format!("/api/user/using/{org}"), "").await;
        create_role(&app, "org-local", json!([]), false).await;
        admin.post("/api/user/using/1", "").await;
        admin.delete(&format!("/api/orgs/{org}")).await;
        // The uid is free again.
        create_role(&app, "org-local", json!([]), false).await;
    })
    .await;
}

/// A check inside a handler reads the same complete set as the route's check: a Viewer whose
/// only write on a dashboard comes from a custom role sees `canSave` (the route itself passes on
/// the basic role's read alone), and the same holds for a role given to the Viewer's team.
#[tokio::test]
async fn in_handler_checks_see_custom_role_and_team_grants() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin
            .post("/api/dashboards/db", r#"{"dashboard": {"title": "Ops"}}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let uid = res.json["uid"].as_str().unwrap().to_string();
        create_role(
            &app,
            "ops-writer",
            json!([{"action": "dashboards:write", "scope": format!("dashboards:uid:{uid}")}]),
            false,
        )
        .await;
        let id = app.create_user("vera", "password1").await;
        let vera = app.as_user("vera", "password1");
        let can_save = |res: crate::TestResponse| {
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            res.json["meta"]["canSave"].clone()
        };
        let path = format!("/api/dashboards/uid/{uid}");
        assert_eq!(can_save(vera.get(&path).await), false);

        let res = admin
            .post(
                &format!("/api/access-control/users/{id}/roles"),
                r#"{"roleUid": "ops-writer"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the user.");
        assert_eq!(can_save(vera.get(&path).await), true);
        admin
            .delete(&format!("/api/access-control/users/{id}/roles/ops-writer"))
            .await;
        assert_eq!(can_save(vera.get(&path).await), false);

        // Through the team: membership and the team's role are both read for the second check.
        let team = admin.post("/api/teams", r#"{"name": "Ops"}"#).await.json["teamId"]
            .as_i64()
            .unwrap();
        admin
            .post(
                &format!("/api/teams/{team}/members"),
                &json!({"userId": id}).to_string(),
            )
            .await;
        let res = admin
            .post(
                &format!("/api/access-control/teams/{team}/roles"),
                r#"{"roleUid": "ops-writer"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the team.");
        assert_eq!(can_save(vera.get(&path).await), true);
    })
    .await;
}
