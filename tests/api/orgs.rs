//! The Organization APIs: the current org (`/api/org…`) and the server-admin Orgs API
//! (`/api/orgs…`), Grafana's `pkg/api/org.go`, `pkg/api/org_users.go` and the route table in
//! `pkg/api/api.go` (actions `orgs:*`, `org.users:*`, evaluated in the target org).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{assert_message, basic, each_backend, each_backend_with, TestApp};

/// Creates an org through the admin API and returns its id.
async fn create_org(app: &TestApp, name: &str) -> i64 {
    let res = app
        .admin()
        .post("/api/orgs", &json!({ "name": name }).to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(res.json["message"], "Organization created");
    res.json["orgId"].as_i64().unwrap()
}

async fn add_member(app: &TestApp, org: i64, login: &str, role: &str) {
    let res = app
        .admin()
        .post(
            &format!("/api/orgs/{org}/users"),
            &json!({"loginOrEmail": login, "role": role}).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

fn logins(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn orgs_are_created_found_renamed_and_addressed() {
    each_backend(|app| async move {
        let id = create_org(&app, "Acme").await;
        let admin = app.admin();
        let res = admin.get(&format!("/api/orgs/{id}")).await;
        assert_eq!(
            res.json,
            json!({"id": id, "name": "Acme", "address": {"address1": "", "address2": "",
                   "city": "", "zipCode": "", "state": "", "country": ""}})
        );
        assert_eq!(admin.get("/api/orgs/name/Acme").await.json["id"], id);
        // The creator is the org's Admin.
        let users = admin.get(&format!("/api/orgs/{id}/users")).await;
        assert_eq!(users.json[0]["login"], "admin");
        assert_eq!(users.json[0]["role"], "Admin");

        // Duplicates: 409 on create, 400 on rename (Grafana's statuses).
        let res = admin.post("/api/orgs", r#"{"name": "Acme"}"#).await;
        assert_message(&res, StatusCode::CONFLICT, "Organization name taken");
        let res = admin
            .put(&format!("/api/orgs/{id}"), r#"{"name": "Main Org."}"#)
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "Organization name taken");
        for body in ["{}", r#"{"name": ""}"#, r#"{"name": 5}"#, "[]"] {
            let res = admin.post("/api/orgs", body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, "bad request data");
        }

        let res = admin
            .put(&format!("/api/orgs/{id}"), r#"{"name": "Acme Corp"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization updated");
        let res = admin
            .put(
                &format!("/api/orgs/{id}/address"),
                r#"{"address1": "1 Main St", "city": "Oslo", "zipcode": "0150", "country": "NO"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Address updated");
        let res = admin.get(&format!("/api/orgs/{id}")).await;
        assert_eq!(res.json["name"], "Acme Corp");
        assert_eq!(res.json["address"]["zipCode"], "0150");
        assert_eq!(res.json["address"]["city"], "Oslo");

        // Unknown ids and names.
        assert_message(
            &admin.get("/api/orgs/999").await,
            StatusCode::NOT_FOUND,
            "Organization not found",
        );
        assert_message(
            &admin.get("/api/orgs/name/nope").await,
            StatusCode::NOT_FOUND,
            "Organization not found",
        );
        assert_message(
            &admin.put("/api/orgs/999", r#"{"name": "x"}"#).await,
            StatusCode::NOT_FOUND,
            "Organization not found",
        );
        // Grafana's middleware denies an unparsable org id before the handler runs.
        assert_eq!(
            admin.get("/api/orgs/abc").await.status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn org_search_matches_name_prefixes_and_pages_from_zero() {
    each_backend(|app| async move {
        for name in ["Alpha", "Alps", "Beta", "100%_done"] {
            create_org(&app, name).await;
        }
        let names = |res: &Value| -> Vec<String> {
            res.as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect()
        };
        let admin = app.admin();
        assert_eq!(
            names(&admin.get("/api/orgs?query=Al").await.json),
            ["Alpha", "Alps"]
        );
        // A prefix, not a substring (Grafana's `name LIKE 'query%'`); wildcards are literal.
        assert!(names(&admin.get("/api/orgs?query=lp").await.json).is_empty());
        assert_eq!(
            names(&admin.get("/api/orgs?query=100%25_").await.json),
            ["100%_done"]
        );
        assert_eq!(
            names(&admin.get("/api/orgs?name=Beta").await.json),
            ["Beta"]
        );
        let all = admin.get("/api/orgs").await.json;
        assert_eq!(all.as_array().unwrap().len(), 5);
        assert_eq!(all[0], json!({"id": 1, "name": "Main Org."}));
        let page0 = names(&admin.get("/api/orgs?perpage=2&page=0").await.json);
        let page1 = names(&admin.get("/api/orgs?perpage=2&page=1").await.json);
        assert_eq!(page0, ["Main Org.", "Alpha"]);
        assert_eq!(page1, ["Alps", "Beta"]);
        let res = admin.get("/api/orgs?perpage=-1").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn members_are_added_searched_changed_and_removed() {
    each_backend(|app| async move {
        let org = create_org(&app, "Team Org").await;
        let amy = app.create_user("amy", "password1").await;
        app.create_user("bob", "password1").await;
        let admin = app.admin();
        let res = admin
            .post(
                &format!("/api/orgs/{org}/users"),
                r#"{"loginOrEmail": "amy@example.com", "role": "editor"}"#,
            )
            .await;
        assert_eq!(
            res.json,
            json!({"message": "User added to organization", "userId": amy})
        );
        let again = admin
            .post(
                &format!("/api/orgs/{org}/users"),
                r#"{"loginOrEmail": "amy", "role": "Viewer"}"#,
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(
            again.json,
            json!({"message": "User is already member of this organization", "userId": amy})
        );
        for (body, status, msg) in [
            (
                r#"{"loginOrEmail": "nobody", "role": "Viewer"}"#,
                StatusCode::NOT_FOUND,
                "User not found",
            ),
            (
                r#"{"loginOrEmail": "bob", "role": "Owner"}"#,
                StatusCode::BAD_REQUEST,
                "bad request data",
            ),
            (
                r#"{"loginOrEmail": "bob"}"#,
                StatusCode::BAD_REQUEST,
                "bad request data",
            ),
            (
                r#"{"role": "Viewer"}"#,
                StatusCode::BAD_REQUEST,
                "bad request data",
            ),
        ] {
            let res = admin.post(&format!("/api/orgs/{org}/users"), body).await;
            assert_message(&res, status, msg);
        }
        add_member(&app, org, "bob", "Viewer").await;

        let res = admin
            .get(&format!("/api/orgs/{org}/users/search?perpage=2&page=1"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["totalCount"], 3);
        assert_eq!(res.json["page"], 1);
        assert_eq!(res.json["perPage"], 2);
        assert_eq!(logins(&res.json["orgUsers"]), ["admin", "amy"]);
        let hit = &res.json["orgUsers"][1];
        for field in [
            "orgId",
            "userId",
            "uid",
            "email",
            "name",
            "avatarUrl",
            "login",
            "role",
            "lastSeenAt",
            "lastSeenAtAge",
            "isDisabled",
            "authLabels",
            "isExternallySynced",
            "isProvisioned",
        ] {
            assert!(hit.get(field).is_some(), "{field} missing: {hit}");
        }
        assert_eq!(hit["role"], "Editor");
        let res = admin
            .get(&format!("/api/orgs/{org}/users/search?query=bo"))
            .await;
        assert_eq!(logins(&res.json["orgUsers"]), ["bob"]);
        let res = admin
            .get(&format!("/api/orgs/{org}/users/search?sort=login-desc"))
            .await;
        assert_eq!(logins(&res.json["orgUsers"]), ["bob", "amy", "admin"]);

        let res = admin
            .patch(
                &format!("/api/orgs/{org}/users/{amy}"),
                r#"{"role": "Admin"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Organization user updated");
        let res = admin
            .patch(
                &format!("/api/orgs/{org}/users/999"),
                r#"{"role": "Admin"}"#,
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User not found");

        // Removing from an org keeps the user (the admin API).
        let res = admin.delete(&format!("/api/orgs/{org}/users/{amy}")).await;
        assert_message(&res, StatusCode::OK, "User removed from organization");
        assert_eq!(
            admin.get(&format!("/api/users/{amy}")).await.status,
            StatusCode::OK
        );
        let orgs = admin.get(&format!("/api/users/{amy}/orgs")).await.json;
        assert_eq!(orgs.as_array().unwrap().len(), 1, "{orgs}");
    })
    .await;
}

#[tokio::test]
async fn an_org_always_keeps_an_admin() {
    each_backend(|app| async move {
        let org = create_org(&app, "Solo").await;
        let admin = app.admin();
        // The creator (admin, id 1) is the only Admin.
        let res = admin
            .patch(&format!("/api/orgs/{org}/users/1"), r#"{"role": "Viewer"}"#)
            .await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot change role so that there is no organization admin left",
        );
        let res = admin.delete(&format!("/api/orgs/{org}/users/1")).await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot remove last organization admin",
        );
        // With a second Admin both work.
        app.create_user("cat", "password1").await;
        add_member(&app, org, "cat", "Admin").await;
        let res = admin
            .patch(&format!("/api/orgs/{org}/users/1"), r#"{"role": "Viewer"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn the_current_org_api_acts_in_the_callers_org() {
    each_backend(|app| async move {
        app.create_user("eve", "password1").await;
        let eve_c = app.as_user("eve", "password1");
        // eve is a Viewer of Main Org.: she may read it, not change it.
        let res = eve_c.get("/api/org").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["name"], "Main Org.");
        assert_eq!(
            eve_c.put("/api/org", r#"{"name": "Mine"}"#).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            eve_c.get("/api/org/users").await.status,
            StatusCode::FORBIDDEN
        );

        // Her own org, where she is Admin.
        let org = create_org(&app, "Eve's").await;
        add_member(&app, org, "eve", "Admin").await;
        let res = eve_c.post(&format!("/api/user/using/{org}"), "").await;
        assert_message(&res, StatusCode::OK, "Active organization changed");
        assert_eq!(eve_c.get("/api/org").await.json["id"], org);
        let res = eve_c.put("/api/org", r#"{"name": "Eve Inc"}"#).await;
        assert_message(&res, StatusCode::OK, "Organization updated");
        let res = eve_c.put("/api/org/address", r#"{"city": "Bergen"}"#).await;
        assert_message(&res, StatusCode::OK, "Address updated");
        assert_eq!(
            eve_c.get("/api/org").await.json["address"]["city"],
            "Bergen"
        );

        app.create_user("fin", "password1").await;
        let res = eve_c
            .post(
                "/api/org/users",
                r#"{"loginOrEmail": "fin", "role": "Editor"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let fin = res.json["userId"].as_i64().unwrap();
        assert_eq!(
            logins(&eve_c.get("/api/org/users").await.json),
            ["admin", "eve", "fin"]
        );
        assert_eq!(
            logins(&eve_c.get("/api/org/users?query=fi").await.json),
            ["fin"]
        );
        assert_eq!(
            eve_c
                .get("/api/org/users?limit=1")
                .await
                .json
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let res = eve_c.get("/api/org/users/lookup?query=fin").await;
        assert_eq!(
            res.json,
            json!([{"userId": fin, "uid": res.json[0]["uid"], "login": "fin",
                    "avatarUrl": res.json[0]["avatarUrl"]}])
        );
        let res = eve_c.get("/api/org/users/search?perpage=10").await;
        assert_eq!(res.json["totalCount"], 3);

        let res = eve_c
            .patch(&format!("/api/org/users/{fin}"), r#"{"role": "Viewer"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization user updated");
        // fin is also in Main Org., so removing him from Eve's org keeps him.
        let res = eve_c.delete(&format!("/api/org/users/{fin}")).await;
        assert_message(&res, StatusCode::OK, "User removed from organization");

        // A user whose only org this is gets deleted (Grafana's current-org removal).
        app.create_user("gus", "password1").await;
        eve_c
            .post(
                "/api/org/users",
                r#"{"loginOrEmail": "gus", "role": "Viewer"}"#,
            )
            .await;
        let gus = app
            .admin()
            .get("/api/users/lookup?loginOrEmail=gus")
            .await
            .json["id"]
            .as_i64()
            .unwrap();
        app.admin()
            .delete(&format!("/api/orgs/1/users/{gus}"))
            .await;
        let res = eve_c.delete(&format!("/api/org/users/{gus}")).await;
        assert_message(&res, StatusCode::OK, "User deleted");
        assert_eq!(
            app.admin().get(&format!("/api/users/{gus}")).await.status,
            StatusCode::NOT_FOUND
        );

        // Admin routes are evaluated in the target org (Grafana's authorizeInOrg): in Main Org.
        // eve is a Viewer (may read, not write); an org she is not in is closed to her.
        assert_eq!(eve_c.get("/api/orgs/1").await.status, StatusCode::OK);
        assert_eq!(
            eve_c.put("/api/orgs/1", r#"{"name": "Hers"}"#).await.status,
            StatusCode::FORBIDDEN
        );
        let other = create_org(&app, "Other").await;
        assert_eq!(
            eve_c.get(&format!("/api/orgs/{other}")).await.status,
            StatusCode::FORBIDDEN
        );
        // Nor may she search or create orgs.
        assert_eq!(eve_c.get("/api/orgs").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            eve_c.post("/api/orgs", r#"{"name": "More"}"#).await.status,
            StatusCode::FORBIDDEN
        );
        // …but may use the admin routes for her own org, as in Grafana (authorizeInOrg).
        assert_eq!(
            eve_c.get(&format!("/api/orgs/{org}/users")).await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn editors_cannot_manage_org_users() {
    // Grafana 12 grants org-user management to org Admins only (fixed:org.users:writer); the
    // "Cannot assign a role higher than user's role" rule matters once custom roles exist.
    each_backend(|app| async move {
        let org = create_org(&app, "Grant").await;
        app.create_user("hal", "password1").await;
        app.create_user("ian", "password1").await;
        add_member(&app, org, "hal", "Editor").await;
        // Editors cannot manage org users at all in Grafana 12; a server admin can do anything.
        let hal = app.as_user("hal", "password1");
        let res = hal
            .post(
                &format!("/api/orgs/{org}/users"),
                r#"{"loginOrEmail": "ian", "role": "Admin"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_org_header_selects_the_org_of_the_request() {
    each_backend(|app| async move {
        let org = create_org(&app, "Header Org").await;
        app.create_user("jo", "password1").await;
        add_member(&app, org, "jo", "Admin").await;
        let auth = basic("jo", "password1");
        let header = org.to_string();
        let res = app
            .request_with(
                Method::GET,
                "/api/org",
                &[("authorization", &auth), ("x-grafana-org-id", &header)],
                None,
            )
            .await;
        assert_eq!(res.json["id"], org, "{res:?}");
        // Not a member: the request acts in no org and org routes deny it.
        let res = app
            .request_with(
                Method::GET,
                "/api/org",
                &[("authorization", &auth), ("x-grafana-org-id", "999")],
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        // Garbage is ignored.
        let res = app
            .request_with(
                Method::GET,
                "/api/org",
                &[("authorization", &auth), ("x-grafana-org-id", "x")],
                None,
            )
            .await;
        assert_eq!(res.json["id"], 1);
    })
    .await;
}

#[tokio::test]
async fn deleting_an_org_removes_its_memberships_and_teams_and_moves_its_users() {
    each_backend(|app| async move {
        let org = create_org(&app, "Doomed").await;
        let kim = app.create_user("kim", "password1").await;
        add_member(&app, org, "kim", "Viewer").await;
        let team = app
            .state
            .store
            .create_team(org, "Red", "", app.state.now())
            .await
            .unwrap();
        app.state
            .store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: org,
                    team_id: team,
                    user_id: kim,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                app.state.now(),
            )
            .await
            .unwrap();
        let kim_c = app.as_user("kim", "password1");
        assert_message(
            &kim_c.post(&format!("/api/user/using/{org}"), "").await,
            StatusCode::OK,
            "Active organization changed",
        );
        // Not the org the admin is using.
        let admin = app.admin();
        assert_message(
            &admin.delete("/api/orgs/1").await,
            StatusCode::BAD_REQUEST,
            "Can not delete org for current user",
        );
        let res = admin.delete(&format!("/api/orgs/{org}")).await;
        assert_message(&res, StatusCode::OK, "Organization deleted");
        assert_message(
            &admin.delete(&format!("/api/orgs/{org}")).await,
            StatusCode::NOT_FOUND,
            "Failed to delete organization. ID not found",
        );
        // kim is back in Main Org., her only org now, and her team is gone.
        let me = kim_c.get("/api/user").await;
        assert_eq!(me.json["orgId"], 1, "{me:?}");
        assert_eq!(
            kim_c
                .get("/api/user/orgs")
                .await
                .json
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            admin.get(&format!("/api/users/{kim}/teams")).await.json,
            json!([])
        );
    })
    .await;
}

#[tokio::test]
async fn allow_org_create_lets_every_user_create_an_org() {
    each_backend_with(&[("users", "allow_org_create", "true")], |app| async move {
        app.create_user("lea", "password1").await;
        let lea = app.as_user("lea", "password1");
        let res = lea.post("/api/orgs", r#"{"name": "Lea's"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let org = res.json["orgId"].as_i64().unwrap();
        // She is its Admin.
        let res = lea.get(&format!("/api/orgs/{org}/users")).await;
        assert_eq!(res.json[0]["login"], "lea");
        assert_eq!(res.json[0]["role"], "Admin");
    })
    .await;
}

#[tokio::test]
async fn new_users_join_the_auto_assign_org_or_get_their_own() {
    // Grafana's getOrCreateOrg (pkg/services/user/userimpl/user.go).
    each_backend_with(
        &[
            ("users", "auto_assign_org_id", "2"),
            ("users", "auto_assign_org_role", "Editor"),
        ],
        |app| async move {
            let org = create_org(&app, "Landing").await;
            assert_eq!(org, 2);
            let id = app.create_user("newbie", "password1").await;
            let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await.json;
            assert_eq!(
                orgs,
                json!([{"orgId": 2, "name": "Landing", "role": "Editor"}])
            );
            assert_eq!(
                app.as_user("newbie", "password1")
                    .get("/api/user")
                    .await
                    .json["orgId"],
                2
            );
        },
    )
    .await;
    each_backend_with(&[("users", "auto_assign_org", "false")], |app| async move {
        let id = app.create_user("solo", "password1").await;
        let orgs = app.admin().get(&format!("/api/users/{id}/orgs")).await.json;
        assert_eq!(orgs[0]["name"], "solo");
        assert_eq!(orgs[0]["role"], "Admin");
        assert_eq!(orgs.as_array().unwrap().len(), 1);
        // The org name is taken: nothing is created.
        create_org(&app, "taken").await;
        let res = app
            .admin()
            .post(
                "/api/admin/users",
                r#"{"login": "taken", "email": "t@example.com", "password": "password1"}"#,
            )
            .await;
        assert_message(&res, StatusCode::CONFLICT, "Organization name taken");
        let res = app.admin().get("/api/users/lookup?loginOrEmail=taken").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        // An explicit OrgId still joins that org.
        let res = app
            .admin()
            .post(
                "/api/admin/users",
                r#"{"login": "joiner", "email": "j@example.com", "password": "password1", "OrgId": 1}"#,
            )
            .await;
        let joiner = res.json["id"].as_i64().unwrap();
        let orgs = app.admin().get(&format!("/api/users/{joiner}/orgs")).await.json;
        assert_eq!(orgs, json!([{"orgId": 1, "name": "Main Org.", "role": "Viewer"}]));
    })
    .await;
}

#[tokio::test]
async fn removing_the_last_server_admin_from_their_last_org_keeps_them() {
    each_backend(|app| async move {
        app.create_user("deputy", "password1").await;
        app.admin()
            .patch("/api/org/users/2", r#"{"role": "Admin"}"#)
            .await;
        // A user left in no org is deleted, but never a server admin (Grafana's fix below).
        let res = app.admin().delete("/api/org/users/1").await;
        assert_message(&res, StatusCode::OK, "User removed from organization");
        let me = app.admin().get("/api/user").await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        assert_eq!(me.json["isGrafanaAdmin"], true);
        assert_eq!(app.admin().get("/api/user/orgs").await.json, json!([]));
    })
    .await;
}

/// Grafana's fix of the org-user removal (`RemoveOrgUser` in `pkg/services/org/orgimpl/store.go`
/// deletes a user left in no org only when `ShouldDeleteOrphanedUser && !usr.IsAdmin`): an org
/// Admin removing a server admin from their only org removes the membership, never the account,
/// and answers as for any removal.
#[tokio::test]
async fn an_org_admin_cannot_delete_a_server_admin_by_removing_them_from_their_only_org() {
    each_backend(|app| async move {
        let org = create_org(&app, "Acme").await;
        app.create_user("eve", "password1").await;
        add_member(&app, org, "eve", "Admin").await;
        // A second server admin, in Acme only (so not the last one, whom another rule keeps).
        let root = app.create_user("root", "password1").await;
        let admin = app.admin();
        let res = admin
            .put(
                &format!("/api/admin/users/{root}/permissions"),
                r#"{"isGrafanaAdmin": true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        add_only_to(&app, org, "root").await;

        let eve = app.as_user("eve", "password1");
        eve.post(&format!("/api/user/using/{org}"), "").await;
        let res = eve.delete(&format!("/api/org/users/{root}")).await;
        assert_message(&res, StatusCode::OK, "User removed from organization");
        let res = admin.get(&format!("/api/users/{root}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["isGrafanaAdmin"], true);
        let me = app.as_user("root", "password1").get("/api/user").await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        assert_eq!(
            admin.get(&format!("/api/users/{root}/orgs")).await.json,
            json!([])
        );

        // An ordinary user in no other org is deleted, as in Grafana.
        app.create_user("gil", "password1").await;
        let gil = add_only_to(&app, org, "gil").await;
        let res = eve.delete(&format!("/api/org/users/{gil}")).await;
        assert_message(&res, StatusCode::OK, "User deleted");
        // A service account is no org user here: not found, and it stays.
        let res = eve
            .post(
                "/api/serviceaccounts",
                r#"{"name": "deploy", "role": "Viewer"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let sa = res.json["id"].as_i64().unwrap();
        let res = eve.delete(&format!("/api/org/users/{sa}")).await;
        assert_message(&res, StatusCode::NOT_FOUND, "User not found");
        let res = eve.get(&format!("/api/serviceaccounts/{sa}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

/// Moves `login` from Main Org. into `org` alone and returns their id.
async fn add_only_to(app: &TestApp, org: i64, login: &str) -> i64 {
    add_member(app, org, login, "Viewer").await;
    let id = app
        .admin()
        .get(&format!("/api/users/lookup?loginOrEmail={login}"))
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let res = app.admin().delete(&format!("/api/orgs/1/users/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    id
}

/// The org `[users] auto_assign_org_id` names (Main Org. by default) is where new users go:
/// deleting it would leave user creation failing with "organization not found", so it is refused
/// (beyond Grafana, whose `DeleteOrgByID` in `pkg/api/org.go` refuses only the caller's current
/// org, and whose `GetOrCreate` in `pkg/services/org/orgimpl/org.go` then recreates a missing
/// org 1 as "Main Org." but fails for any other id).
#[tokio::test]
async fn the_org_new_users_join_cannot_be_deleted() {
    each_backend(|app| async move {
        let other = create_org(&app, "Other").await;
        let admin = app.admin();
        // Not the admin's current org, so only the new rule stands in the way.
        admin.post(&format!("/api/user/using/{other}"), "").await;
        let res = admin.delete("/api/orgs/1").await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot delete the organization new users join ([users] auto_assign_org_id)",
        );
        assert_eq!(admin.get("/api/orgs/1").await.status, StatusCode::OK);
        let id = app.create_user("newbie", "password1").await;
        let orgs = admin.get(&format!("/api/users/{id}/orgs")).await.json;
        assert_eq!(orgs[0]["orgId"], 1);
    })
    .await;
    // The configured org is the one kept, whatever its id; Main Org. is then an ordinary org.
    each_backend_with(&[("users", "auto_assign_org_id", "2")], |app| async move {
        let landing = create_org(&app, "Landing").await;
        let admin = app.admin();
        let res = admin.delete(&format!("/api/orgs/{landing}")).await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot delete the organization new users join ([users] auto_assign_org_id)",
        );
        admin.post(&format!("/api/user/using/{landing}"), "").await;
        let res = admin.delete("/api/orgs/1").await;
        assert_message(&res, StatusCode::OK, "Organization deleted");
        app.create_user("newbie", "password1").await;
    })
    .await;
}
