//! The audit records of custom roles and their assignments, service accounts, their tokens and
//! legacy API keys: each change writes its record in its own transaction, as the request's actor
//! (a user, or a service account by its token), and a change that fails leaves none.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{each_backend, each_db, TestApp};

/// The records of `GET /api/admin/audit?<query>`, newest first.
async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.admin().get(&format!("/api/admin/audit?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["records"].as_array().unwrap().clone()
}

/// The successful records of actions starting with `action`, newest first.
async fn successes(app: &TestApp, action: &str) -> Vec<Value> {
    records(app, &format!("action={action}&outcome=success")).await
}

/// The one newest successful record of exactly `action`.
async fn newest(app: &TestApp, action: &str) -> Value {
    let all = successes(app, action).await;
    all.into_iter()
        .find(|r| r["action"] == action)
        .unwrap_or_else(|| panic!("no {action} record"))
}

/// The `(old, new)` a record's changes give `field`.
#[track_caller]
fn change(record: &Value, field: &str) -> (Value, Value) {
    let c = record["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {record}"));
    (c["old"].clone(), c["new"].clone())
}

fn has_change(record: &Value, field: &str) -> bool {
    record["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == field)
}

/// The record was made by the built-in admin with basic auth.
#[track_caller]
fn by_admin(record: &Value) {
    assert_eq!(record["actorKind"], "user", "{record}");
    assert_eq!(record["actorId"], 1, "{record}");
    assert_eq!(record["actorLogin"], "admin", "{record}");
    assert_eq!(record["authMethod"], "password", "{record}");
    assert_eq!(record["tokenId"], Value::Null, "{record}");
    assert_eq!(record["outcome"], "success", "{record}");
}

#[tokio::test]
async fn custom_role_changes_are_audited() {
    each_backend(|app| async move {
        let admin = app.admin();
        let body = json!({"uid": "auditors", "name": "custom:auditors", "version": 1,
                          "group": "Tests",
                          "permissions": [{"action": "users:read", "scope": "global.users:*"},
                                          {"action": "teams:read"}]});
        let res = admin
            .post("/api/access-control/roles", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles:write").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (
                &json!("role"),
                &json!("auditors"),
                &json!("custom:auditors")
            )
        );
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "name"), (Value::Null, json!("custom:auditors")));
        assert_eq!(change(&r, "version"), (Value::Null, json!(1)));
        assert_eq!(change(&r, "global"), (Value::Null, json!(false)));
        assert_eq!(
            change(&r, "permissions"),
            (
                Value::Null,
                json!(["teams:read", "users:read global.users:*"])
            )
        );

        // A taken uid, a taken name: refused, and no record of a change.
        let before = successes(&app, "roles:").await.len();
        for body in [
            json!({"uid": "auditors", "name": "other"}),
            json!({"name": "custom:auditors"}),
        ] {
            let res = admin
                .post("/api/access-control/roles", &body.to_string())
                .await;
            assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        }
        // A version that does not grow: refused too.
        let res = admin
            .put(
                "/api/access-control/roles/auditors",
                &json!({"name": "custom:auditors", "version": 1}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(successes(&app, "roles:").await.len(), before);

        // An update: version, name and permissions, old → new; what stayed is not listed.
        let body = json!({"name": "custom:auditors-2", "version": 2, "group": "Tests",
                          "permissions": [{"action": "users:read", "scope": "global.users:*"}]});
        let res = admin
            .put("/api/access-control/roles/auditors", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles:write").await;
        by_admin(&r);
        assert_eq!(r["targetId"], "auditors");
        assert_eq!(r["targetName"], "custom:auditors-2");
        assert_eq!(change(&r, "version"), (json!(1), json!(2)));
        assert_eq!(
            change(&r, "name"),
            (json!("custom:auditors"), json!("custom:auditors-2"))
        );
        assert_eq!(
            change(&r, "permissions"),
            (
                json!(["teams:read", "users:read global.users:*"]),
                json!(["users:read global.users:*"])
            )
        );
        assert!(!has_change(&r, "group"), "{r}");
        assert!(!has_change(&r, "hidden"), "{r}");

        // A global role is recorded in org 0.
        let res = admin
            .post(
                "/api/access-control/roles",
                &json!({"uid": "everywhere", "name": "custom:everywhere", "global": true})
                    .to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles:write").await;
        assert_eq!(
            (&r["targetId"], &r["orgId"]),
            (&json!("everywhere"), &json!(0))
        );

        // A delete.
        let res = admin.delete("/api/access-control/roles/auditors").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles:delete").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (
                &json!("role"),
                &json!("auditors"),
                &json!("custom:auditors-2")
            )
        );
        assert_eq!(change(&r, "version"), (json!(2), Value::Null));
        // Deleting it again fails: no second record.
        let res = admin.delete("/api/access-control/roles/auditors").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        let deletes = successes(&app, "roles:delete").await;
        assert_eq!(deletes.len(), 1, "{deletes:?}");
    })
    .await;
}

/// Creates a role (of the admin's org, or global) with one permission; returns its uid.
async fn role(app: &TestApp, uid: &str, global: bool) -> String {
    let body = json!({"uid": uid, "name": format!("custom:{uid}"), "global": global,
                      "permissions": [{"action": "users:read", "scope": "global.users:*"}]});
    let res = app
        .admin()
        .post("/api/access-control/roles", &body.to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    uid.to_string()
}

#[tokio::test]
async fn role_assignments_are_audited() {
    each_backend(|app| async move {
        let admin = app.admin();
        let alice = app.create_user("alice", "alice-password").await;
        let one = role(&app, "one", false).await;
        let two = role(&app, "two", true).await;

        // To a user: added, in the request's org.
        let path = format!("/api/access-control/users/{alice}/roles");
        let res = admin
            .post(&path, &json!({"roleUid": one}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "users.roles:add").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (&json!("user"), &json!(alice.to_string()), &json!("alice"))
        );
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "role"), (Value::Null, json!("one")));

        // Globally: recorded in org 0.
        let res = admin
            .post(&path, &json!({"roleUid": two, "global": true}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "users.roles:add").await;
        assert_eq!(r["orgId"], 0);
        assert_eq!(change(&r, "role"), (Value::Null, json!("two")));

        // Set: the org's roles before and after.
        let res = admin
            .put(&path, &json!({"roleUids": [two]}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "users.roles:add").await;
        assert_eq!(
            (&r["targetId"], &r["orgId"]),
            (&json!(alice.to_string()), &json!(1))
        );
        assert_eq!(change(&r, "roles"), (json!(["one"]), json!(["two"])));

        // Removed.
        let res = admin.delete(&format!("{path}/{two}?global=true")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "users.roles:remove").await;
        by_admin(&r);
        assert_eq!(r["targetId"], alice.to_string());
        assert_eq!(r["orgId"], 0);
        assert_eq!(change(&r, "role"), (json!("two"), Value::Null));

        // An unknown role: refused, no record.
        let before = successes(&app, "users.roles:").await.len();
        let res = admin
            .post(&path, &json!({"roleUid": "nope"}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(successes(&app, "users.roles:").await.len(), before);

        // A team (created through the store: teams are not this file's subject).
        let store = &app.state.store;
        let mut tx = store.begin().await.unwrap();
        let (team, _) = store
            .create_team_with_admin(&mut tx, 1, "ops", "", None, usher::store::DbTime::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let path = format!("/api/access-control/teams/{team}/roles");
        let res = admin
            .post(&path, &json!({"roleUid": one}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "teams.roles:add").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (&json!("team"), &json!(team.to_string()), &json!("ops"))
        );
        assert_eq!(change(&r, "role"), (Value::Null, json!("one")));
        let res = admin
            .put(&path, &json!({"roleUids": [one, two]}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "teams.roles:add").await;
        assert_eq!(change(&r, "roles"), (json!(["one"]), json!(["one", "two"])));
        let res = admin.delete(&format!("{path}/{one}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "teams.roles:remove").await;
        assert_eq!(r["targetId"], team.to_string());
        assert_eq!(change(&r, "role"), (json!("one"), Value::Null));

        // A basic role.
        let res = admin
            .post(
                "/api/access-control/builtin-roles",
                &json!({"roleUid": one, "builtinRole": "Viewer"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles.builtin:add").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"]),
            (&json!("basic_role"), &json!("Viewer"))
        );
        assert_eq!(change(&r, "role"), (Value::Null, json!("one")));
        let res = admin
            .delete(&format!(
                "/api/access-control/builtin-roles/Viewer/roles/{one}"
            ))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "roles.builtin:remove").await;
        assert_eq!(r["targetId"], "Viewer");
        assert_eq!(change(&r, "role"), (json!("one"), Value::Null));
    })
    .await;
}

/// Creates a service account as the admin; returns its id.
async fn create_sa(app: &TestApp, name: &str, role: &str) -> i64 {
    let res = app
        .admin()
        .post(
            "/api/serviceaccounts",
            &json!({"name": name, "role": role}).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
    res.json["id"].as_i64().unwrap()
}

#[tokio::test]
async fn service_account_changes_are_audited() {
    each_backend(|app| async move {
        let admin = app.admin();
        let sa = create_sa(&app, "Deployer", "Viewer").await;
        let r = newest(&app, "serviceaccounts:create").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (
                &json!("service_account"),
                &json!(sa.to_string()),
                &json!("sa-1-deployer")
            )
        );
        assert_eq!(change(&r, "role"), (Value::Null, json!("Viewer")));

        // An update: name, role and the disabled flag, old → new.
        let res = admin
            .patch(
                &format!("/api/serviceaccounts/{sa}"),
                &json!({"name": "Deployer 2", "role": "Editor", "isDisabled": true}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "serviceaccounts:write").await;
        by_admin(&r);
        assert_eq!(r["targetId"], sa.to_string());
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "name"), (json!("Deployer"), json!("Deployer 2")));
        assert_eq!(change(&r, "role"), (json!("Viewer"), json!("Editor")));
        assert_eq!(change(&r, "isDisabled"), (json!(false), json!(true)));
        // Only what was asked for and changed.
        let res = admin
            .patch(
                &format!("/api/serviceaccounts/{sa}"),
                &json!({"role": "Editor", "isDisabled": false}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "serviceaccounts:write").await;
        assert_eq!(
            r["changes"],
            json!([{"field": "isDisabled", "old": true, "new": false}])
        );

        // A token: its id and name, never its secret.
        let res = admin
            .post(
                &format!("/api/serviceaccounts/{sa}/tokens"),
                &json!({"name": "ci", "secondsToLive": 3600}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let token = res.json["id"].as_i64().unwrap();
        let secret = res.json["key"].as_str().unwrap().to_string();
        let r = newest(&app, "serviceaccounts.tokens:write").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (&json!("token"), &json!(token.to_string()), &json!("ci"))
        );
        assert_eq!(change(&r, "serviceAccountId"), (Value::Null, json!(sa)));
        let key = r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == "key")
            .unwrap()
            .clone();
        assert_eq!(key, json!({"field": "key", "secret": true}));

        // A token name taken: refused, no record.
        let before = successes(&app, "serviceaccounts.tokens:").await.len();
        let res = admin
            .post(
                &format!("/api/serviceaccounts/{sa}/tokens"),
                &json!({"name": "ci"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        // An unknown token: refused, no record.
        let res = admin
            .delete(&format!("/api/serviceaccounts/{sa}/tokens/999999"))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(
            successes(&app, "serviceaccounts.tokens:").await.len(),
            before
        );

        // The token deleted.
        let res = admin
            .delete(&format!("/api/serviceaccounts/{sa}/tokens/{token}"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "serviceaccounts.tokens:delete").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (&json!("token"), &json!(token.to_string()), &json!("ci"))
        );

        // The account deleted; an unknown one is refused without a record.
        let res = admin.delete(&format!("/api/serviceaccounts/{sa}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "serviceaccounts:delete").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (
                &json!("service_account"),
                &json!(sa.to_string()),
                &json!("sa-1-deployer")
            )
        );
        let res = admin.delete(&format!("/api/serviceaccounts/{sa}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(successes(&app, "serviceaccounts:delete").await.len(), 1);

        // No record anywhere holds the secret.
        let all = app.admin().get("/api/admin/audit?limit=1000").await;
        assert_eq!(all.status, StatusCode::OK);
        assert!(!all.text.contains(&secret), "{}", all.text);
        assert!(!all.text.contains("glsa_"), "{}", all.text);
    })
    .await;
}

/// A change made with a service-account token is recorded as that account, with the token.
#[tokio::test]
async fn changes_made_by_a_token_name_the_service_account_and_token() {
    each_backend(|app| async move {
        let robot = create_sa(&app, "robot", "Admin").await;
        let res = app
            .admin()
            .post(
                &format!("/api/serviceaccounts/{robot}/tokens"),
                &json!({"name": "robot-token"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let token = res.json["id"].as_i64().unwrap();
        let secret = res.json["key"].as_str().unwrap().to_string();
        let bot = app.bearer(&secret);

        let by_token = |r: &Value| {
            assert_eq!(r["actorKind"], "service_account", "{r}");
            assert_eq!(r["actorId"], robot, "{r}");
            assert_eq!(r["actorLogin"], "sa-1-robot", "{r}");
            assert_eq!(r["tokenId"], token, "{r}");
            assert_eq!(r["authMethod"], "token", "{r}");
            assert_eq!(r["orgId"], 1, "{r}");
        };

        // The token creates another service account, gives it a token, and a role.
        let res = bot
            .post(
                "/api/serviceaccounts",
                &json!({"name": "minion", "role": "Viewer"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let minion = res.json["id"].as_i64().unwrap();
        let r = newest(&app, "serviceaccounts:create").await;
        by_token(&r);
        assert_eq!(r["targetId"], minion.to_string());
        assert_eq!(r["targetName"], "sa-1-minion");

        let res = bot
            .post(
                &format!("/api/serviceaccounts/{minion}/tokens"),
                &json!({"name": "minion-token"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let minion_secret = res.json["key"].as_str().unwrap().to_string();
        let r = newest(&app, "serviceaccounts.tokens:write").await;
        by_token(&r);
        assert_eq!(r["targetName"], "minion-token");

        let res = bot
            .patch(
                &format!("/api/serviceaccounts/{minion}"),
                &json!({"role": "Editor"}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "serviceaccounts:write").await;
        by_token(&r);
        assert_eq!(change(&r, "role"), (json!("Viewer"), json!("Editor")));

        // Neither secret is in any audit answer.
        for path in ["/api/admin/audit?limit=1000", "/api/org/audit?limit=1000"] {
            let res = app.admin().get(path).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            assert!(!res.text.contains(&secret), "{}", res.text);
            assert!(!res.text.contains(&minion_secret), "{}", res.text);
        }
    })
    .await;
}

/// Legacy keys: a delete is recorded; the start-up migration records each account it creates
/// as the server itself (`system`).
#[tokio::test]
async fn legacy_api_keys_deleted_and_migrated_are_audited() {
    each_db(|db| async move {
        let app = TestApp::start(&db, &[]).await;
        db.execute(
            "INSERT INTO api_key (org_id, name, {key}, role, created, updated, expires) \
             VALUES (1, 'old', 'not-a-real-hash', 'Viewer', '2025-01-01 00:00:00', \
             '2025-01-01 00:00:00', NULL)",
        )
        .await;
        let res = app.admin().get("/api/auth/keys").await;
        let id = res.json[0]["id"].as_i64().unwrap();
        let res = app.admin().delete(&format!("/api/auth/keys/{id}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = newest(&app, "apikeys:delete").await;
        by_admin(&r);
        assert_eq!(
            (&r["targetKind"], &r["targetId"], &r["targetName"]),
            (&json!("api_key"), &json!(id.to_string()), &json!("old"))
        );
        assert_eq!(change(&r, "role"), (json!("Viewer"), Value::Null));
        // Gone: a second delete fails without a record.
        let res = app.admin().delete(&format!("/api/auth/keys/{id}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(successes(&app, "apikeys:").await.len(), 1);
        drop(app);

        db.execute(
            "INSERT INTO api_key (org_id, name, {key}, role, created, updated, expires) \
             VALUES (1, 'ci-key', 'another-fake-hash', 'Editor', '2025-01-01 00:00:00', \
             '2025-01-01 00:00:00', NULL)",
        )
        .await;
        let app = TestApp::start(&db, &[]).await;
        let r = newest(&app, "serviceaccounts:create").await;
        assert_eq!(r["actorKind"], "system", "{r}");
        assert_eq!(r["actorLogin"], "system", "{r}");
        assert_eq!(r["actorId"], Value::Null, "{r}");
        assert_eq!(r["targetKind"], "service_account");
        assert_eq!(r["targetName"], "sa-autogen-1-ci-key");
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "role"), (Value::Null, json!("Editor")));
        assert_eq!(change(&r, "apiKeyName"), (Value::Null, json!("ci-key")));
        assert!(!app
            .admin()
            .get("/api/admin/audit?limit=1000")
            .await
            .text
            .contains("another-fake-hash"));
        // A second start migrates, and records, nothing more.
        let again = TestApp::start(&db, &[]).await;
        assert_eq!(successes(&again, "serviceaccounts:create").await.len(), 1);
        db
    })
    .await;
}
