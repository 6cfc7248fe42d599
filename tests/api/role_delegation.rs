//! Delegated role management (`permissions:type:delegate`) stays inside the reach of what the
//! caller holds. Grafana keeps custom roles for Enterprise, whose documentation
//! (`docs/sources/developers/http_api/access_control.md`) states the rule — only roles with the
//! same permissions as the caller's, or a subset, may be created, assigned or unassigned — but
//! not how orgs bound it; Usher's rule (issue 12): a global role or a global assignment takes
//! effect in every org and so needs the permissions globally (server admin or global custom
//! roles), an org's role or assignment needs them in that org, and nobody edits, deletes or
//! unassigns a role they could not have created.
//!
//! The attack these tests replay: an org Admin of Acme, given the delegate actions in Acme by the
//! server admin, tried to reach every other org through global roles and assignments.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{assert_message, basic, each_backend, TestApp, TestResponse};

/// The delegate actions, as the server admin would give them to an org Admin.
const DELEGATE_ACTIONS: &[&str] = &[
    "roles:write",
    "roles:delete",
    "users.roles:add",
    "users.roles:remove",
    "teams.roles:add",
    "teams.roles:remove",
    "roles.builtin:add",
    "roles.builtin:remove",
];

/// Org-level actions an org Admin holds in their own org (Grafana's `fixed:organization:writer`
/// and `fixed:org.users:writer`).
fn org_manager_permissions() -> Value {
    json!([{"action": "orgs:write", "scope": ""},
           {"action": "org.users:read", "scope": "users:*"},
           {"action": "org.users:write", "scope": "users:*"}])
}

/// Requests with one set of credentials acting in one org (`X-Grafana-Org-Id`).
struct InOrg<'a> {
    app: &'a TestApp,
    auth: String,
    org: String,
}

impl<'a> InOrg<'a> {
    fn new(app: &'a TestApp, login: &str, password: &str, org: i64) -> Self {
        InOrg {
            app,
            auth: basic(login, password),
            org: org.to_string(),
        }
    }
    async fn send(&self, method: Method, path: &str, body: Option<&str>) -> TestResponse {
        let headers = [
            ("authorization", self.auth.as_str()),
            ("x-grafana-org-id", self.org.as_str()),
        ];
        self.app.request_with(method, path, &headers, body).await
    }
    async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::POST, path, Some(&body.to_string())).await
    }
    async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::PUT, path, Some(&body.to_string())).await
    }
    async fn delete(&self, path: &str) -> TestResponse {
        self.send(Method::DELETE, path, None).await
    }
}

/// Grafana's access-denied body naming what was missing.
#[track_caller]
fn assert_denied(res: &TestResponse, needed: &str) {
    assert_message(
        res,
        StatusCode::FORBIDDEN,
        &format!(
            "You'll need additional permissions to perform this action. Permissions needed: {needed}"
        ),
    );
    assert_eq!(res.json["title"], "Access denied", "{res:?}");
    assert!(res.json["accessErrorId"].is_string(), "{res:?}");
}

fn role_body(uid: &str, global: bool, version: i64, permissions: Value) -> Value {
    json!({"uid": uid, "name": format!("custom:{uid}"), "version": version,
           "global": global, "permissions": permissions})
}

/// The scene: org Acme, whose Admin mallory (in no other org) was given the delegate actions in
/// Acme by the server admin, who is Admin of Acme too. Returns Acme's id and mallory's.
async fn delegating_org_admin(app: &TestApp) -> (i64, i64) {
    let admin = app.admin();
    let acme = admin.post("/api/orgs", r#"{"name": "Acme"}"#).await.json["orgId"]
        .as_i64()
        .unwrap();
    let mallory = app.create_user("mallory", "password1").await;
    let res = admin
        .post(
            &format!("/api/orgs/{acme}/users"),
            r#"{"loginOrEmail": "mallory", "role": "Admin"}"#,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    // Out of Main Org.: mallory has no business there at all.
    let res = admin.delete(&format!("/api/orgs/1/users/{mallory}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");

    let mut permissions: Vec<Value> = DELEGATE_ACTIONS
        .iter()
        .map(|a| json!({"action": a, "scope": "permissions:type:delegate"}))
        .collect();
    permissions.push(json!({"action": "roles:read", "scope": "roles:*"}));
    let admin_in_acme = InOrg::new(app, "admin", "admin", acme);
    let res = admin_in_acme
        .post(
            "/api/access-control/roles",
            role_body("delegator", false, 1, Value::Array(permissions)),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let res = admin_in_acme
        .post(
            &format!("/api/access-control/users/{mallory}/roles"),
            json!({"roleUid": "delegator"}),
        )
        .await;
    assert_message(&res, StatusCode::OK, "Role added to the user.");
    (acme, mallory)
}

/// A global role made by the server admin.
async fn global_role(app: &TestApp, uid: &str, permissions: Value) {
    let res = app
        .admin()
        .post(
            "/api/access-control/roles",
            &role_body(uid, true, 1, permissions).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

#[tokio::test]
async fn a_delegating_org_admin_cannot_create_a_global_role() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let res = mallory
            .post(
                "/api/access-control/roles",
                role_body("everywhere", true, 1, org_manager_permissions()),
            )
            .await;
        assert_denied(&res, "roles:write (global)");
        assert_message(
            &app.admin()
                .get("/api/access-control/roles/everywhere")
                .await,
            StatusCode::NOT_FOUND,
            "Role not found.",
        );
    })
    .await;
}

#[tokio::test]
async fn a_delegating_org_admin_cannot_take_a_role_globally() {
    each_backend(|app| async move {
        let (acme, mallory_id) = delegating_org_admin(&app).await;
        global_role(&app, "org-managers", org_manager_permissions()).await;
        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let res = mallory
            .post(
                &format!("/api/access-control/users/{mallory_id}/roles"),
                json!({"roleUid": "org-managers", "global": true}),
            )
            .await;
        assert_denied(&res, "users.roles:add (global)");
        let res = mallory
            .put(
                &format!("/api/access-control/users/{mallory_id}/roles"),
                json!({"roleUids": ["org-managers"], "global": true}),
            )
            .await;
        assert_denied(&res, "users.roles:add (global)");
        // So Main Org. stays out of her reach: no renaming it, no listing its users.
        let res = mallory.put("/api/orgs/1", json!({"name": "Taken"})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let res = mallory.get("/api/orgs/1/users").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            app.admin().get("/api/orgs/1").await.json["name"],
            "Main Org."
        );
    })
    .await;
}

#[tokio::test]
async fn a_delegating_org_admin_cannot_give_a_role_to_the_viewers_of_every_org() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        global_role(&app, "org-managers", org_manager_permissions()).await;
        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let res = mallory
            .post(
                "/api/access-control/builtin-roles",
                json!({"roleUid": "org-managers", "builtinRole": "Viewer", "global": true}),
            )
            .await;
        assert_denied(&res, "roles.builtin:add (global)");
        // A Viewer of Main Org. cannot demote its Admin.
        app.create_user("vic", "password1").await;
        let res = app
            .as_user("vic", "password1")
            .patch("/api/org/users/1", r#"{"role": "Viewer"}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let users = app.admin().get("/api/orgs/1/users").await.json;
        let admin = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == "admin")
            .unwrap();
        assert_eq!(admin["role"], "Admin");
    })
    .await;
}

#[tokio::test]
async fn a_delegating_org_admin_cannot_rewrite_or_delete_a_global_role() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        // Only what mallory holds in Acme too: still not hers to change, being global.
        global_role(
            &app,
            "org-readers",
            json!([{"action": "orgs:read", "scope": ""}]),
        )
        .await;
        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let res = mallory
            .put(
                "/api/access-control/roles/org-readers",
                role_body("org-readers", true, 2, json!([])),
            )
            .await;
        assert_denied(&res, "roles:write (global)");
        let res = mallory
            .delete("/api/access-control/roles/org-readers?force=true")
            .await;
        assert_denied(&res, "roles:delete (global)");
        let role = app
            .admin()
            .get("/api/access-control/roles/org-readers")
            .await
            .json;
        assert_eq!(role["version"], 1);
        assert_eq!(
            role["permissions"],
            json!([{"action": "orgs:read", "scope": ""}])
        );
    })
    .await;
}

#[tokio::test]
async fn a_delegating_org_admin_cannot_change_a_role_she_could_not_have_created() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        let admin_in_acme = InOrg::new(&app, "admin", "admin", acme);
        // An Acme role with a server-wide permission mallory does not hold.
        let res = admin_in_acme
            .post(
                "/api/access-control/roles",
                role_body(
                    "auditors",
                    false,
                    1,
                    json!([{"action": "users:read", "scope": "global.users:*"}]),
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let bo = app.create_user("bo", "password1").await;
        let res = admin_in_acme
            .post(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUid": "auditors"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let needed = "users:read on global.users:*";
        let res = mallory
            .put(
                "/api/access-control/roles/auditors",
                role_body("auditors", false, 2, json!([{"action": "orgs:read"}])),
            )
            .await;
        assert_denied(&res, needed);
        assert_denied(
            &mallory
                .delete("/api/access-control/roles/auditors?force=true")
                .await,
            needed,
        );
        assert_denied(
            &mallory
                .delete(&format!("/api/access-control/users/{bo}/roles/auditors"))
                .await,
            needed,
        );
        // Setting bo's roles to none would take it away just the same.
        let res = mallory
            .put(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUids": []}),
            )
            .await;
        assert_denied(&res, needed);
        let roles = admin_in_acme
            .get(&format!("/api/access-control/users/{bo}/roles"))
            .await
            .json;
        assert_eq!(roles[0]["uid"], "auditors");
        assert_eq!(roles[0]["version"], 1);

        // Another org's roles are not even visible from Acme.
        let res = app
            .admin()
            .post(
                "/api/access-control/roles",
                &role_body("main-only", false, 1, json!([])).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_message(
            &mallory
                .put(
                    "/api/access-control/roles/main-only",
                    role_body("main-only", false, 2, json!([])),
                )
                .await,
            StatusCode::NOT_FOUND,
            "Role was not found to update.",
        );
        assert_message(
            &mallory.delete("/api/access-control/roles/main-only").await,
            StatusCode::NOT_FOUND,
            "Role not found.",
        );
    })
    .await;
}

#[tokio::test]
async fn an_org_role_is_never_assigned_globally() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        let admin_in_acme = InOrg::new(&app, "admin", "admin", acme);
        let res = admin_in_acme
            .post(
                "/api/access-control/roles",
                role_body("acme-managers", false, 1, org_manager_permissions()),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let bo = app.create_user("bo", "password1").await;
        // Not even by the server admin: Acme's role would apply in every org.
        let message = "a role of one organization cannot be assigned globally";
        let res = admin_in_acme
            .post(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUid": "acme-managers", "global": true}),
            )
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        let res = admin_in_acme
            .post(
                "/api/access-control/builtin-roles",
                json!({"roleUid": "acme-managers", "builtinRole": "Viewer", "global": true}),
            )
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, message);
        let res = app
            .as_user("bo", "password1")
            .put("/api/org", r#"{"name": "Mine"}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn delegation_inside_the_own_org_still_works() {
    each_backend(|app| async move {
        let (acme, _) = delegating_org_admin(&app).await;
        let bo = app.create_user("bo", "password1").await;
        let res = app
            .admin()
            .post(
                &format!("/api/orgs/{acme}/users"),
                r#"{"loginOrEmail": "bo", "role": "Viewer"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let mallory = InOrg::new(&app, "mallory", "password1", acme);
        let bo_in_acme = InOrg::new(&app, "bo", "password1", acme);
        let rename = || json!({"name": "Acme Renamed"});

        let res = mallory
            .post(
                "/api/access-control/roles",
                role_body("acme-renamers", false, 1, json!([{"action": "orgs:write"}])),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["global"], false);
        let res = mallory
            .put(
                "/api/access-control/roles/acme-renamers",
                role_body(
                    "acme-renamers",
                    false,
                    2,
                    json!([{"action": "orgs:write"}, {"action": "orgs:read"}]),
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["version"], 2);

        // To a user: bo may rename Acme, and only Acme.
        let res = mallory
            .post(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUid": "acme-renamers"}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the user.");
        assert_eq!(
            bo_in_acme.put("/api/org", rename()).await.status,
            StatusCode::OK
        );
        let res = bo_in_acme.put("/api/orgs/1", json!({"name": "Hers"})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let res = mallory
            .put(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUids": []}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "User roles have been updated.");
        let res = bo_in_acme.put("/api/org", rename()).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");

        // To Acme's Viewers.
        let res = mallory
            .post(
                "/api/access-control/builtin-roles",
                json!({"roleUid": "acme-renamers", "builtinRole": "Viewer"}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Built-in role grant added");
        assert_eq!(
            bo_in_acme.put("/api/org", rename()).await.status,
            StatusCode::OK
        );
        let res = mallory
            .delete("/api/access-control/builtin-roles/Viewer/roles/acme-renamers")
            .await;
        assert_message(&res, StatusCode::OK, "Built-in role grant removed");

        // To an Acme team.
        let team = mallory
            .post("/api/teams", json!({"name": "Renamers"}))
            .await
            .json["teamId"]
            .as_i64()
            .unwrap();
        let res = mallory
            .post(&format!("/api/teams/{team}/members"), json!({"userId": bo}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = mallory
            .post(
                &format!("/api/access-control/teams/{team}/roles"),
                json!({"roleUid": "acme-renamers"}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the team.");
        assert_eq!(
            bo_in_acme.put("/api/org", rename()).await.status,
            StatusCode::OK
        );
        let res = mallory
            .delete(&format!(
                "/api/access-control/teams/{team}/roles/acme-renamers"
            ))
            .await;
        assert_message(&res, StatusCode::OK, "Role removed from team.");

        // A global role that holds only what she holds in Acme may be handed on in Acme.
        global_role(
            &app,
            "org-readers",
            json!([{"action": "orgs:read", "scope": ""}]),
        )
        .await;
        let res = mallory
            .post(
                &format!("/api/access-control/users/{bo}/roles"),
                json!({"roleUid": "org-readers"}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the user.");

        let res = mallory
            .delete("/api/access-control/roles/acme-renamers?force=true")
            .await;
        assert_message(&res, StatusCode::OK, "Role deleted");
    })
    .await;
}

#[tokio::test]
async fn global_grants_delegate_globally_only_what_is_held_globally() {
    each_backend(|app| async move {
        let admin = app.admin();
        global_role(
            &app,
            "user-admins",
            json!([{"action": "roles:write", "scope": "permissions:type:delegate"},
                   {"action": "users.roles:add", "scope": "permissions:type:delegate"},
                   {"action": "users:read", "scope": "global.users:*"}]),
        )
        .await;
        // gus: Admin of Main Org., holding the delegate actions globally.
        let gus = app.create_user("gus", "password1").await;
        app.set_org_role(gus, "Admin").await;
        let res = admin
            .post(
                &format!("/api/access-control/users/{gus}/roles"),
                r#"{"roleUid": "user-admins", "global": true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let gus_c = InOrg::new(&app, "gus", "password1", 1);

        let res = gus_c
            .post(
                "/api/access-control/roles",
                role_body(
                    "user-readers",
                    true,
                    1,
                    json!([{"action": "users:read", "scope": "global.users:*"}]),
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let hal = app.create_user("hal", "password1").await;
        let res = gus_c
            .post(
                &format!("/api/access-control/users/{hal}/roles"),
                json!({"roleUid": "user-readers", "global": true}),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Role added to the user.");
        let res = app
            .as_user("hal", "password1")
            .get("/api/users/search")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        // What gus holds as Admin of Main Org. stays in Main Org.
        let res = gus_c
            .post(
                "/api/access-control/roles",
                role_body("everywhere", true, 1, json!([{"action": "orgs:write"}])),
            )
            .await;
        assert_denied(&res, "orgs:write (global)");
        let res = gus_c
            .post(
                "/api/access-control/roles",
                role_body("main-writers", false, 1, json!([{"action": "orgs:write"}])),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}
