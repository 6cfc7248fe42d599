//! The audit records of orgs, memberships, teams, quotas, dashboards and provisioning: each
//! writer (the API, a provisioning reload, provisioning at start-up) records who changed what,
//! in which org, old → new; a refused change leaves no success record.

use std::path::Path;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{basic, each_backend, each_backend_with, each_db, Client, TestApp, TestDb};

/// Records matching `query` (`action=orgs:&targetId=2` …), newest first.
async fn records(client: &Client<'_>, query: &str) -> Vec<Value> {
    let res = client.get(&format!("/api/admin/audit?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["records"].as_array().unwrap().clone()
}

/// The only record matching `query`.
#[track_caller]
fn only(found: Vec<Value>, query: &str) -> Value {
    assert_eq!(found.len(), 1, "{query}: {found:#?}");
    found.into_iter().next().unwrap()
}

async fn one(client: &Client<'_>, query: &str) -> Value {
    only(records(client, query).await, query)
}

/// A record's change of `field`: (old, new), `Null` where absent.
#[track_caller]
fn change(record: &Value, field: &str) -> (Value, Value) {
    let c = record["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field}: {record:#}"));
    (c["old"].clone(), c["new"].clone())
}

#[track_caller]
fn by(record: &Value, kind: &str, login: &str) {
    assert_eq!(record["actorKind"], kind, "{record:#}");
    assert_eq!(record["actorLogin"], login, "{record:#}");
    assert_eq!(record["outcome"], "success", "{record:#}");
}

#[track_caller]
fn target(record: &Value, kind: &str, id: impl ToString, name: &str) {
    assert_eq!(record["targetKind"], kind, "{record:#}");
    assert_eq!(record["targetId"], id.to_string(), "{record:#}");
    assert_eq!(record["targetName"], name, "{record:#}");
}

/// A request as `login` in org `org` (`X-Grafana-Org-Id`).
async fn in_org(
    app: &TestApp,
    login: &str,
    org: i64,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> crate::TestResponse {
    let auth = basic(login, "pw-secret-1");
    let org = org.to_string();
    app.request_with(
        method,
        path,
        &[("authorization", &auth), ("x-grafana-org-id", &org)],
        body,
    )
    .await
}

#[tokio::test]
async fn org_and_membership_changes_are_recorded() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin.post("/api/orgs", r#"{"name": "Audited"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let org = res.json["orgId"].as_i64().unwrap();
        let q = format!("action=orgs:create&targetId={org}");
        let r = one(&admin, &q).await;
        by(&r, "user", "admin");
        assert_eq!(r["actorId"], 1);
        assert_eq!(r["authMethod"], "password");
        target(&r, "org", org, "Audited");
        assert_eq!(r["orgId"], org);
        assert_eq!(r["action"], "orgs:create");
        assert_eq!(change(&r, "name"), (Value::Null, json!("Audited")));

        // A taken name: 409 and no record.
        let res = admin.post("/api/orgs", r#"{"name": "Audited"}"#).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        let creates = records(&admin, "action=orgs:create").await;
        assert_eq!(
            creates
                .iter()
                .filter(|r| r["targetName"] == "Audited")
                .count(),
            1,
            "{creates:#?}"
        );

        let res = admin
            .put(&format!("/api/orgs/{org}"), r#"{"name": "Audited Two"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin
            .put(
                &format!("/api/orgs/{org}/address"),
                r#"{"city": "Lyon", "country": "FR"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let writes = records(&admin, &format!("action=orgs:write&targetId={org}")).await;
        assert_eq!(writes.len(), 2, "{writes:#?}");
        let (address, rename) = (&writes[0], &writes[1]);
        by(rename, "user", "admin");
        target(rename, "org", org, "Audited");
        assert_eq!(rename["orgId"], org);
        assert_eq!(
            change(rename, "name"),
            (json!("Audited"), json!("Audited Two"))
        );
        target(address, "org", org, "Audited Two");
        assert_eq!(change(address, "city"), (json!(""), json!("Lyon")));
        assert_eq!(change(address, "country"), (json!(""), json!("FR")));
        assert_eq!(address["changes"].as_array().unwrap().len(), 2);

        // Memberships: target org_user (the member), in the org, role old → new.
        let kim = app.create_user("kim", "pw-secret-1").await;
        let olga = app.create_user("olga", "pw-secret-1").await;
        for (login, role) in [("kim", "Viewer"), ("olga", "Admin")] {
            let body = json!({"loginOrEmail": login, "role": role}).to_string();
            let res = admin.post(&format!("/api/orgs/{org}/users"), &body).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        let r = one(&admin, &format!("action=org.users:add&targetId={kim}")).await;
        by(&r, "user", "admin");
        target(&r, "org_user", kim, "kim");
        assert_eq!(r["orgId"], org);
        assert_eq!(change(&r, "role"), (Value::Null, json!("Viewer")));

        let res = admin
            .patch(
                &format!("/api/orgs/{org}/users/{kim}"),
                r#"{"role": "Editor"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, &format!("action=org.users:write&targetId={kim}")).await;
        target(&r, "org_user", kim, "kim");
        assert_eq!(r["orgId"], org);
        assert_eq!(change(&r, "role"), (json!("Viewer"), json!("Editor")));

        // The last Admin of Main Org. stays: refused, and no record of it.
        let res = admin.delete("/api/orgs/1/users/1").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let res = admin
            .patch("/api/org/users/1", r#"{"role": "Viewer"}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(records(&admin, "action=org.users:remove&targetId=1")
            .await
            .is_empty());
        assert!(records(&admin, "action=org.users:write&targetId=1")
            .await
            .is_empty());

        // An org Admin acting in their org is the actor; /api/org/audit shows that org only.
        let res = in_org(
            &app,
            "olga",
            org,
            Method::DELETE,
            &format!("/api/org/users/{kim}"),
            None,
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, &format!("action=org.users:remove&targetId={kim}")).await;
        by(&r, "user", "olga");
        assert_eq!(r["actorId"], olga);
        target(&r, "org_user", kim, "kim");
        assert_eq!(r["orgId"], org);
        assert_eq!(change(&r, "role"), (json!("Editor"), Value::Null));
        let res = in_org(&app, "olga", org, Method::GET, "/api/org/audit", None).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let mine = res.json["records"].as_array().unwrap();
        assert!(mine.iter().all(|r| r["orgId"] == org), "{mine:#?}");
        for action in [
            "orgs:create",
            "orgs:write",
            "org.users:add",
            "org.users:remove",
        ] {
            assert!(
                mine.iter().any(|r| r["action"] == action),
                "{action}: {mine:#?}"
            );
        }
        // Main Org.'s records are not theirs to read.
        assert!(!mine.iter().any(|r| r["action"] == "users:create"));

        let res = admin.delete(&format!("/api/orgs/{org}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, &format!("action=orgs:delete&targetId={org}")).await;
        by(&r, "user", "admin");
        target(&r, "org", org, "Audited Two");
        assert_eq!(r["orgId"], org);
    })
    .await;
}

#[tokio::test]
async fn team_changes_are_recorded() {
    each_backend(|app| async move {
        let admin = app.admin();
        let kim = app.create_user("kim", "pw-secret-1").await;
        let res = admin
            .post("/api/teams", r#"{"name": "Ops", "email": "ops@x.io"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let team = res.json["teamId"].as_i64().unwrap();
        let r = one(&admin, &format!("action=teams:create&targetId={team}")).await;
        by(&r, "user", "admin");
        target(&r, "team", team, "Ops");
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "name"), (Value::Null, json!("Ops")));
        assert_eq!(change(&r, "email"), (Value::Null, json!("ops@x.io")));

        // A taken name, on create (409) and on update (400): no record.
        let res = admin.post("/api/teams", r#"{"name": "Ops"}"#).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        assert_eq!(records(&admin, "action=teams:create").await.len(), 1);
        let res = admin.post("/api/teams", r#"{"name": "Dev"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin
            .put(&format!("/api/teams/{team}"), r#"{"name": "Dev"}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(records(&admin, "action=teams:write").await.is_empty());

        let res = admin
            .put(
                &format!("/api/teams/{team}"),
                r#"{"name": "Ops Team", "email": "ops@y.io"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, "action=teams:write").await;
        target(&r, "team", team, "Ops");
        assert_eq!(change(&r, "name"), (json!("Ops"), json!("Ops Team")));
        assert_eq!(change(&r, "email"), (json!("ops@x.io"), json!("ops@y.io")));

        // Members: target team_member (the member), permission old → new.
        let members = format!("/api/teams/{team}/members");
        let res = admin
            .post(&members, &json!({"userId": kim}).to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin
            .put(&format!("{members}/{kim}"), r#"{"permission": 4}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin.delete(&format!("{members}/{kim}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let found = records(
            &admin,
            &format!("action=teams.permissions:write&targetId={kim}"),
        )
        .await;
        assert_eq!(found.len(), 3, "{found:#?}");
        let (removed, promoted, added) = (&found[0], &found[1], &found[2]);
        for r in &found {
            by(r, "user", "admin");
            target(r, "team_member", kim, "kim");
            assert_eq!(r["orgId"], 1);
            assert_eq!(change(r, "teamId"), (Value::Null, json!(team)));
            assert_eq!(change(r, "team"), (Value::Null, json!("Ops Team")));
        }
        assert_eq!(change(added, "permission"), (Value::Null, json!("Member")));
        assert_eq!(
            change(promoted, "permission"),
            (json!("Member"), json!("Admin"))
        );
        assert_eq!(change(removed, "permission"), (json!("Admin"), Value::Null));
        // Removing a non-member: 404, no record.
        let res = admin.delete(&format!("{members}/{kim}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(
            records(
                &admin,
                &format!("action=teams.permissions:write&targetId={kim}")
            )
            .await
            .len(),
            3
        );

        let res = admin.delete(&format!("/api/teams/{team}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, &format!("action=teams:delete&targetId={team}")).await;
        by(&r, "user", "admin");
        target(&r, "team", team, "Ops Team");
        assert_eq!(r["orgId"], 1);
    })
    .await;
}

#[tokio::test]
async fn quota_and_dashboard_changes_are_recorded() {
    each_backend_with(&[("quota", "enabled", "true")], |app| async move {
        let admin = app.admin();
        let res = admin
            .put("/api/orgs/1/quotas/dashboard", r#"{"limit": 5}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, "action=orgs.quotas:write").await;
        by(&r, "user", "admin");
        target(&r, "quota", "org:1:dashboard", "dashboard");
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "limit"), (json!(100), json!(5)));
        let kim = app.create_user("kim", "pw-secret-1").await;
        let res = admin
            .put(
                &format!("/api/admin/users/{kim}/quotas/org_user"),
                r#"{"limit": 3}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, "action=users.quotas:write").await;
        target(&r, "quota", format!("user:{kim}:org_user"), "org_user");
        assert_eq!(change(&r, "limit"), (json!(10), json!(3)));
        // An unknown target: 400, no record.
        let res = admin
            .put("/api/orgs/1/quotas/nothing", r#"{"limit": 3}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(records(&admin, "action=orgs.quotas:").await.len(), 1);

        // Dashboards: created, then saved over (title and version old → new), then deleted.
        let res = admin
            .post(
                "/api/dashboards/db",
                r#"{"dashboard": {"uid": "aud-1", "title": "First"}}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, "action=dashboards:create").await;
        by(&r, "user", "admin");
        target(&r, "dashboard", "aud-1", "First");
        assert_eq!(r["orgId"], 1);
        assert_eq!(change(&r, "version"), (Value::Null, json!(1)));
        let body = r#"{"dashboard": {"uid": "aud-1", "title": "Second", "version": 1}}"#;
        let res = admin.post("/api/dashboards/db", body).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // A stale version: 412, no record.
        let res = admin.post("/api/dashboards/db", body).await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{res:?}");
        let r = one(&admin, "action=dashboards:write").await;
        target(&r, "dashboard", "aud-1", "Second");
        assert_eq!(change(&r, "title"), (json!("First"), json!("Second")));
        assert_eq!(change(&r, "version"), (json!(1), json!(2)));
        let res = admin.delete("/api/dashboards/uid/aud-1").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = one(&admin, "action=dashboards:delete").await;
        by(&r, "user", "admin");
        target(&r, "dashboard", "aud-1", "Second");
        assert_eq!(r["orgId"], 1);
    })
    .await;
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn users_file(team_email: &str) -> String {
    format!(
        "apiVersion: 1\norgs:\n  - name: Provisioned\nusers:\n  - login: pia\n    email: pia@example.com\n    password: pia-secret-password\n    orgs:\n      - name: Provisioned\n        role: Editor\nteams:\n  - name: Crew\n    org: Provisioned\n    email: {team_email}\n    members: [pia]\n"
    )
}

async fn start(db: &TestDb, root: &Path) -> TestApp {
    let dir = root.display().to_string();
    TestApp::start(db, &[("paths", "provisioning", &dir)]).await
}

#[tokio::test]
async fn provisioning_records_its_changes_and_its_runs() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(&root.join("users/all.yaml"), &users_file("crew@x.io"));
        write(
            &root.join("dashboards/main.yaml"),
            &format!(
                "apiVersion: 1\nproviders:\n  - name: main\n    orgId: 1\n    options:\n      path: {}\n",
                root.join("main").display()
            ),
        );
        write(
            &root.join("main/a.json"),
            r#"{"uid": "prov-a", "title": "Provisioned A"}"#,
        );

        // At start-up: every change by the provisioning actor, and each run recorded.
        let app = start(&db, root).await;
        let admin = app.admin();
        let org = admin.get("/api/orgs/name/Provisioned").await.json["id"]
            .as_i64()
            .unwrap();
        let r = one(&admin, "action=orgs:create&actor=provisioning").await;
        by(&r, "provisioning", "provisioning");
        assert_eq!(r["actorId"], Value::Null);
        target(&r, "org", org, "Provisioned");
        let pia = admin.get("/api/users/lookup?loginOrEmail=pia").await.json["id"]
            .as_i64()
            .unwrap();
        let r = one(&admin, "action=users:create&actor=provisioning").await;
        target(&r, "user", pia, "pia");
        // Created straight into their first org: no separate membership record.
        assert_eq!(r["orgId"], org);
        assert_eq!(change(&r, "role"), (Value::Null, json!("Editor")));
        let json = r.to_string();
        assert!(!json.contains("pia-secret-password"), "{json}");
        let r = one(&admin, "action=teams:create").await;
        by(&r, "provisioning", "provisioning");
        assert_eq!(r["orgId"], org);
        let r = one(&admin, &format!("action=teams.permissions:write&targetId={pia}")).await;
        by(&r, "provisioning", "provisioning");
        let r = one(&admin, "action=dashboards:create").await;
        by(&r, "provisioning", "provisioning");
        target(&r, "dashboard", "prov-a", "Provisioned A");
        assert_eq!(change(&r, "provisioner"), (Value::Null, json!("main")));
        let runs = records(&admin, "action=provisioning:reload").await;
        assert_eq!(runs.len(), 2, "{runs:#?}");
        let (dashboards, users) = (&runs[0], &runs[1]);
        by(users, "provisioning", "provisioning");
        target(users, "provisioning", "users", "users");
        assert_eq!(change(users, "trigger"), (Value::Null, json!("system")));
        assert!(change(users, "changes").1.as_i64().unwrap() > 0);
        target(dashboards, "provisioning", "dashboards", "dashboards");
        assert_eq!(change(dashboards, "saved"), (Value::Null, json!(1)));

        // A reload through the API that changes nothing: 200, and one record of the run.
        let res = admin
            .post("/api/admin/provisioning/users/reload", "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let request_id = res.headers["x-request-id"].to_str().unwrap().to_string();
        let r = records(&admin, "action=provisioning:reload&targetId=users").await;
        assert_eq!(r.len(), 2, "{r:#?}");
        let r = &r[0];
        by(r, "provisioning", "provisioning");
        assert_eq!(r["requestId"], request_id.as_str());
        assert_eq!(change(r, "trigger"), (Value::Null, json!("admin")));
        assert_eq!(change(r, "changes"), (Value::Null, json!(0)));
        let res = admin
            .post("/api/admin/provisioning/dashboards/reload", "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let r = &records(&admin, "action=provisioning:reload&targetId=dashboards").await[0];
        by(r, "provisioning", "provisioning");
        assert_eq!(change(r, "trigger"), (Value::Null, json!("admin")));
        assert_eq!(change(r, "saved"), (Value::Null, json!(0)));
        assert_eq!(change(r, "unchanged"), (Value::Null, json!(1)));

        // A reload that changes something records the change by provisioning, in that request.
        write(&root.join("users/all.yaml"), &users_file("crew@y.io"));
        let res = admin
            .post("/api/admin/provisioning/users/reload", "")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let request_id = res.headers["x-request-id"].to_str().unwrap().to_string();
        let r = one(&admin, "action=teams:write").await;
        by(&r, "provisioning", "provisioning");
        assert_eq!(r["requestId"], request_id.as_str());
        assert_eq!(r["orgId"], org);
        assert_eq!(change(&r, "email"), (json!("crew@x.io"), json!("crew@y.io")));

        // A refused file: 400, nothing changed, the run recorded as failed.
        write(
            &root.join("users/all.yaml"),
            "apiVersion: 1\nteams:\n  - name: Crew\n    org: Nowhere\n",
        );
        let res = admin
            .post("/api/admin/provisioning/users/reload", "")
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let r = one(
            &admin,
            "action=provisioning:reload&targetId=users&outcome=failure",
        )
        .await;
        by_failed(&r);
        assert_eq!(
            records(&admin, "action=provisioning:reload&targetId=users&outcome=success")
                .await
                .len(),
            3
        );
        drop(app);
        db
    })
    .await;
}

#[track_caller]
fn by_failed(r: &Value) {
    assert_eq!(r["actorKind"], "provisioning", "{r:#}");
    assert_eq!(r["outcome"], "failure", "{r:#}");
    assert!(
        r["reason"].as_str().unwrap().starts_with("not reloaded: "),
        "{r:#}"
    );
}
