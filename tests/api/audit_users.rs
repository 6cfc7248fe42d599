//! The audit records of the user-facing writers: profile and org-switch changes (`/api/user`,
//! `/api/users/{id}`), passwords, sessions (revocations, sign-out of every device, rotation,
//! sign-out), lockouts and their clearing, stars, preferences, and sign-in success and failure
//! through the API and the web form. Each record names the right actor, target and changes;
//! no record holds a password; a refused change leaves no `success` record.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::web::WebUser;
use crate::{each_backend, each_db, Browser, TestApp};

const PASSWORD: &str = "kim-Secret-Pa55";
const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";

/// The records `GET /api/admin/audit?{query}` answers (newest first), and the response text.
async fn records(app: &TestApp, query: &str) -> (Vec<Value>, String) {
    let res = app.admin().get(&format!("/api/admin/audit?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let list = res.json["records"].as_array().cloned().unwrap_or_default();
    (list, res.text)
}

/// The records of `action` (exactly) on a target, newest first.
async fn of_target(app: &TestApp, action: &str, kind: &str, id: &str) -> Vec<Value> {
    let (list, _) = records(
        app,
        &format!("action={action}&targetKind={kind}&targetId={id}"),
    )
    .await;
    list.into_iter().filter(|r| r["action"] == action).collect()
}

#[track_caller]
fn assert_actor(record: &Value, kind: &str, login: &str, method: &str) {
    assert_eq!(record["actorKind"], kind, "{record}");
    assert_eq!(record["actorLogin"], login, "{record}");
    assert_eq!(record["authMethod"], method, "{record}");
}

#[tokio::test]
async fn profile_changes_and_org_switches_name_their_actor_and_what_changed() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", PASSWORD).await;
        app.create_user("lee", PASSWORD).await;
        let id = kim.to_string();
        let me = app.as_user("kim", PASSWORD);

        let res = me
            .put(
                "/api/user",
                r#"{"name": "Kim K", "email": "kim@example.com", "login": "kim"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "users:write", "user", &id).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "kim", "password");
        assert_eq!(list[0]["actorId"], kim);
        assert_eq!(list[0]["targetName"], "kim");
        assert_eq!(list[0]["outcome"], "success");
        assert_eq!(
            list[0]["changes"],
            json!([{"field": "name", "old": "kim name", "new": "Kim K"}])
        );

        let res = app
            .admin()
            .put(
                &format!("/api/users/{kim}"),
                r#"{"email": "kim2@example.com", "login": "kim"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "users:write", "user", &id).await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_eq!(
            list[0]["changes"],
            json!([{"field": "email", "old": "kim@example.com", "new": "kim2@example.com"}])
        );

        // Refused changes (an email of another user, a login of another user) record nothing.
        let res = app
            .admin()
            .put(
                &format!("/api/users/{kim}"),
                r#"{"email": "lee@example.com"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        let res = me.put("/api/user", r#"{"login": "lee"}"#).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        assert_eq!(of_target(&app, "users:write", "user", &id).await.len(), 2);

        // Switching the current org: to one of the user's orgs, by themselves and by an admin.
        let res = me.post("/api/user/using/1", "").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app
            .admin()
            .post(&format!("/api/users/{kim}/using/1"), "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "users:write", "user", &id).await;
        assert_eq!(list.len(), 4, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_actor(&list[1], "user", "kim", "password");
        // Not a member: refused, and not recorded as a success.
        let res = me.post("/api/user/using/999", "").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let res = app
            .admin()
            .post(&format!("/api/users/{kim}/using/999"), "")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let list = of_target(&app, "users:write", "user", &id).await;
        assert_eq!(list.len(), 4, "{list:?}");
        assert!(list.iter().all(|r| r["outcome"] == "success"));
    })
    .await;
}

#[tokio::test]
async fn a_password_change_records_its_name_only_and_a_wrong_old_password_nothing() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", PASSWORD).await;
        let id = kim.to_string();
        let me = app.as_user("kim", PASSWORD);
        let res = me
            .put(
                "/api/user/password",
                r#"{"oldPassword": "not-it-at-all", "newPassword": "Another-Pa55"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(of_target(&app, "users.password:write", "user", &id)
            .await
            .is_empty());

        let body = json!({"oldPassword": PASSWORD, "newPassword": "Another-Pa55"}).to_string();
        let res = me.put("/api/user/password", &body).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app
            .admin()
            .put(
                &format!("/api/admin/users/{kim}/password"),
                r#"{"password": "Third-Pa55word"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        let list = of_target(&app, "users.password:write", "user", &id).await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_actor(&list[1], "user", "kim", "password");
        for r in &list {
            assert_eq!(r["changes"], json!([{"field": "password", "secret": true}]));
        }
        let (_, text) = records(&app, "limit=500").await;
        for secret in [PASSWORD, "Another-Pa55", "Third-Pa55word", "not-it-at-all"] {
            assert!(!text.contains(secret), "{secret} in the audit log");
        }
    })
    .await;
}

#[tokio::test]
async fn sign_ins_record_their_outcome_and_reason_and_never_the_password() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", PASSWORD).await;
        let id = kim.to_string();

        let b = Browser::new(&app, AGENT, None);
        let res = b.login("kim", PASSWORD).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let tokens = b.get("/api/user/auth-tokens").await;
        let session = tokens.json[0]["id"].as_i64().unwrap();
        let list = of_target(&app, "users:login", "user", &id).await;
        assert_eq!(list.len(), 1, "{list:?}");
        let r = &list[0];
        assert_actor(r, "user", "kim", "password");
        assert_eq!(r["actorId"], kim);
        assert_eq!(r["userAgent"], AGENT);
        assert_eq!(r["outcome"], "success");
        assert_eq!(r["reason"], "");
        assert_eq!(r["targetName"], "kim");
        assert_eq!(
            r["changes"],
            json!([{"field": "sessionId", "new": session}])
        );
        assert!(!r["requestId"].as_str().unwrap().is_empty(), "{r}");

        // A wrong password: as the name typed, with the reason.
        let res = Browser::new(&app, AGENT, None)
            .login("kim", "Wrong-Guess-77")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let list = of_target(&app, "users:login", "user", &id).await;
        assert_eq!(list.len(), 2, "{list:?}");
        let r = &list[0];
        assert_actor(r, "anonymous", "kim", "password");
        assert_eq!(r["actorId"], Value::Null);
        assert_eq!(r["outcome"], "failure");
        assert_eq!(r["reason"], "wrong password");

        // Nobody's name: the target is the name typed.
        let res = Browser::new(&app, AGENT, None)
            .login("nobody-here", "Wrong-Guess-88")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let (list, _) = records(&app, "action=users:login&outcome=failure").await;
        let r = &list[0];
        assert_actor(r, "anonymous", "nobody-here", "password");
        assert_eq!(r["targetId"], "");
        assert_eq!(r["targetName"], "nobody-here");
        assert_eq!(r["reason"], "unknown user");

        // The right password of a disabled user.
        let res = app
            .admin()
            .post(&format!("/api/admin/users/{kim}/disable"), "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = Browser::new(&app, AGENT, None).login("kim", PASSWORD).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let list = of_target(&app, "users:login", "user", &id).await;
        assert_eq!(list[0]["outcome"], "failure");
        assert_eq!(list[0]["reason"], "user disabled");
        let res = app
            .admin()
            .post(&format!("/api/admin/users/{kim}/enable"), "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        // The web form signs in through the same code, in a scope of its own.
        WebUser::sign_in(&app, "kim", PASSWORD).await;
        let res = WebUser::new(&app)
            .try_sign_in("kim", "Wrong-Guess-99")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let list = of_target(&app, "users:login", "user", &id).await;
        assert_eq!(list[0]["outcome"], "failure");
        assert_eq!(list[0]["reason"], "wrong password");
        assert_actor(&list[0], "anonymous", "kim", "password");
        assert!(!list[0]["requestId"].as_str().unwrap().is_empty());
        assert_eq!(list[1]["outcome"], "success");
        assert_actor(&list[1], "user", "kim", "password");

        let (_, text) = records(&app, "limit=500").await;
        for secret in [
            PASSWORD,
            "Wrong-Guess-77",
            "Wrong-Guess-88",
            "Wrong-Guess-99",
        ] {
            assert!(!text.contains(secret), "{secret} in the audit log");
        }
    })
    .await;
}

#[tokio::test]
async fn a_lockout_its_refusals_and_its_clearing_are_recorded() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", PASSWORD).await;
        let id = kim.to_string();
        // Grafana's default: five failures of a login from one address lock it there.
        for _ in 0..5 {
            let res = Browser::new(&app, AGENT, None)
                .login("kim", "Wrong-Guess-55")
                .await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        }
        let list = of_target(&app, "users:lockout", "user", &id).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "anonymous", "kim", "password");
        assert_eq!(
            list[0]["changes"][0],
            json!({"field": "limit", "new": "login from address"})
        );
        // Locked out: the right password is refused, and recorded as such.
        let res = Browser::new(&app, AGENT, None).login("kim", PASSWORD).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
        let list = of_target(&app, "users:login", "user", &id).await;
        assert_eq!(list.len(), 6, "{list:?}");
        assert_eq!(list[0]["reason"], "locked out: too many failed attempts");
        assert!(list.iter().all(|r| r["outcome"] == "failure"));

        let res = app
            .admin()
            .delete(&format!("/api/admin/users/{kim}/lockout"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "users:unlock", "user", &id).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_eq!(
            list[0]["changes"],
            json!([{"field": "failedAttempts", "old": 5, "new": 0}])
        );
        let res = Browser::new(&app, AGENT, None).login("kim", PASSWORD).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let (_, text) = records(&app, "limit=500").await;
        assert!(!text.contains(PASSWORD) && !text.contains("Wrong-Guess-55"));
    })
    .await;
}

#[tokio::test]
async fn revocations_sign_outs_and_rotations_name_the_session() {
    each_backend(|app| async move {
        let kim = app.create_user("kim", PASSWORD).await;
        let id = kim.to_string();
        let one = app.login("kim", PASSWORD, AGENT).await;
        let two = app.login("kim", PASSWORD, AGENT).await;
        let three = app.login("kim", PASSWORD, AGENT).await;
        let four = app.login("kim", PASSWORD, AGENT).await;
        let tokens = one.get("/api/user/auth-tokens").await.json;
        let ids: Vec<i64> = tokens
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 4, "{tokens}");

        // The user ends one of their sessions; an admin ends another.
        let res = one
            .post(
                "/api/user/revoke-auth-token",
                &json!({"authTokenId": ids[1]}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(
            &app,
            "users.authtoken:write",
            "session",
            &ids[1].to_string(),
        )
        .await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "kim", "session");
        assert_eq!(list[0]["targetName"], "kim");
        let res = app
            .admin()
            .post(
                &format!("/api/admin/users/{kim}/revoke-auth-token"),
                &json!({"authTokenId": ids[2]}).to_string(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(
            &app,
            "users.authtoken:write",
            "session",
            &ids[2].to_string(),
        )
        .await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        // An unknown session: refused, nothing recorded.
        let res = one
            .post("/api/user/revoke-auth-token", r#"{"authTokenId": 99999}"#)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        let (list, _) = records(&app, "action=users.authtoken:write").await;
        assert_eq!(list.len(), 2, "{list:?}");
        drop((two, three));

        // A rotation through the frontend's endpoint.
        app.clock.advance(chrono::Duration::minutes(1));
        let res = one.post("/api/user/auth-tokens/rotate", "").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(
            &app,
            "users.authtoken:rotate",
            "session",
            &ids[0].to_string(),
        )
        .await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "kim", "session");
        // Rotated a moment ago: nothing to do, nothing recorded.
        let res = one.post("/api/user/auth-tokens/rotate", "").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let (list, _) = records(&app, "action=users.authtoken:rotate").await;
        assert_eq!(list.len(), 1, "{list:?}");

        // Signing out ends the session of the cookie.
        let res = four.get("/logout").await;
        assert_eq!(res.status, StatusCode::FOUND, "{res:?}");
        let list = of_target(&app, "users:logout", "session", &ids[3].to_string()).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "kim", "session");
        assert_eq!(list[0]["actorId"], kim);

        // An admin signs the user out everywhere: one session is left.
        let res = app
            .admin()
            .post(&format!("/api/admin/users/{kim}/logout"), "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "users.logout", "user", &id).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_eq!(
            list[0]["changes"],
            json!([{"field": "sessionsEnded", "new": 1}])
        );
        // Refused (the admin themselves): nothing recorded.
        let res = app.admin().post("/api/admin/users/1/logout", "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(of_target(&app, "users.logout", "user", "1")
            .await
            .is_empty());
        // No record holds a token.
        let (_, text) = records(&app, "limit=500").await;
        assert!(
            !text.contains(&one.token()),
            "a session token in the audit log"
        );
    })
    .await;
}

#[tokio::test]
async fn stars_and_preferences_record_what_changed() {
    each_db(|db| async move {
        let app = TestApp::start(&db, &[]).await;
        db.execute(
            "INSERT INTO dashboard (version, slug, title, data, org_id, created, updated, uid) \
             VALUES (1, 'ops', 'Ops', '{}', 1, '2026-01-15 10:00:00', '2026-01-15 10:00:00', \
             'ops-uid')",
        )
        .await;
        let kim = app.create_user("kim", PASSWORD).await;
        let me = app.as_user("kim", PASSWORD);

        for _ in 0..2 {
            let res = me.post("/api/user/stars/dashboard/uid/ops-uid", "").await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        let list = of_target(&app, "dashboards:star", "star", "ops-uid").await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert_actor(&list[1], "user", "kim", "password");
        assert_eq!(list[1]["targetName"], "Ops");
        assert_eq!(list[1]["orgId"], 1);
        let starred = json!({"field": "starred", "old": false, "new": true});
        assert!(list[1]["changes"].as_array().unwrap().contains(&starred));
        // Starred already: recorded, with nothing changed.
        assert!(!list[0]["changes"].as_array().unwrap().contains(&starred));
        let res = me.delete("/api/user/stars/dashboard/uid/ops-uid").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "dashboards:unstar", "star", "ops-uid").await;
        assert_eq!(list.len(), 1, "{list:?}");
        let unstarred = json!({"field": "starred", "old": true, "new": false});
        assert!(list[0]["changes"].as_array().unwrap().contains(&unstarred));
        // An unknown dashboard: refused, nothing recorded.
        let res = me.post("/api/user/stars/dashboard/uid/nope", "").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        let (list, _) = records(&app, "action=dashboards:star").await;
        assert_eq!(list.len(), 2, "{list:?}");

        // The user's own preferences: PUT, then a PATCH of one field.
        let res = me
            .put(
                "/api/user/preferences",
                r#"{"theme": "dark", "timezone": "utc"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = me
            .patch("/api/user/preferences", r#"{"theme": "light"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let target = format!("user:{kim}");
        let list = of_target(&app, "users.preferences:write", "preferences", &target).await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert_actor(&list[0], "user", "kim", "password");
        assert_eq!(list[0]["targetName"], "kim");
        assert_eq!(
            list[0]["changes"],
            json!([{"field": "theme", "old": "dark", "new": "light"}])
        );
        assert_eq!(
            list[1]["changes"],
            json!([
                {"field": "theme", "old": "", "new": "dark"},
                {"field": "timezone", "old": "", "new": "utc"},
            ])
        );
        // Refused values change nothing and record nothing.
        let res = me
            .put("/api/user/preferences", r#"{"theme": "pink"}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let res = me
            .patch("/api/user/preferences", r#"{"timezone": "Mars/Olympus"}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let list = of_target(&app, "users.preferences:write", "preferences", &target).await;
        assert_eq!(list.len(), 2, "{list:?}");

        // The org's preferences, by an org Admin.
        let res = app
            .admin()
            .patch(
                "/api/org/preferences",
                r#"{"weekStart": "monday", "homeDashboardUID": "ops-uid"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let list = of_target(&app, "orgs.preferences:write", "preferences", "org:1").await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_actor(&list[0], "user", "admin", "password");
        assert_eq!(
            list[0]["changes"],
            json!([
                {"field": "weekStart", "old": "", "new": "monday"},
                {"field": "homeDashboardUID", "old": "", "new": "ops-uid"},
            ])
        );
        db
    })
    .await;
}
