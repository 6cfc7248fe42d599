//! The audit log's core (src/audit, src/store/audit.rs, src/api/audit.rs): a record per change
//! in the change's transaction, refused changes recorded, the reader's filters and cursor, the
//! hash chain, retention, `[audit] enabled` and the JSON-lines sink. The records of each area's
//! writers are tested beside them (audit_*.rs).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{assert_message, each_backend, each_backend_with, Backend, TestApp, TestDb};

async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.admin().get(&format!("/api/admin/audit?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["records"].as_array().unwrap().clone()
}

async fn create(app: &TestApp, login: &str) -> TestResponseId {
    let body = json!({"login": login, "email": format!("{login}@example.com"), "password": "a-Secret-pw1"});
    let res = app
        .admin()
        .post("/api/admin/users", &body.to_string())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["id"].as_i64().unwrap()
}
type TestResponseId = i64;

#[tokio::test]
async fn a_change_is_recorded_with_who_what_and_from_where() {
    each_backend(|app| async move {
        let id = create(&app, "kim").await;
        let found = records(&app, "action=users:create").await;
        assert_eq!(found.len(), 1, "{found:?}");
        let r = &found[0];
        assert_eq!(r["actorKind"], "user");
        assert_eq!(r["actorLogin"], "admin");
        assert_eq!(r["actorId"], 1);
        assert_eq!(r["authMethod"], "password");
        assert_eq!(r["targetKind"], "user");
        assert_eq!(r["targetId"], id.to_string());
        assert_eq!(r["targetName"], "kim");
        assert_eq!(r["outcome"], "success");
        assert_eq!(r["orgId"], 1);
        assert_eq!(r["requestId"].as_str().unwrap().len(), 24, "{r}");
        assert_eq!(r["hash"].as_str().unwrap().len(), 64);
        let changes = r["changes"].as_array().unwrap();
        assert!(
            changes.contains(&json!({"field": "login", "new": "kim"})),
            "{changes:?}"
        );
        assert!(
            changes.contains(&json!({"field": "password", "secret": true})),
            "{changes:?}"
        );
        // The password is nowhere in what the reader answers.
        let res = app.admin().get("/api/admin/audit").await;
        assert!(!res.text.contains("a-Secret-pw1"), "{}", res.text);
        // A client's request id is kept (and echoed), when it is a plain token.
        let res = app
            .request_with(
                axum::http::Method::PUT,
                &format!("/api/users/{id}"),
                &[
                    ("authorization", &crate::basic("admin", "admin")),
                    ("x-request-id", "trace-42"),
                    ("content-type", "application/json"),
                ],
                Some(r#"{"email":"kim@example.org"}"#),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.headers["x-request-id"], "trace-42");
        let found = records(&app, "action=users:write").await;
        assert_eq!(found[0]["requestId"], "trace-42");
        assert!(found[0]["changes"].as_array().unwrap().contains(
            &json!({"field": "email", "old": "kim@example.com", "new": "kim@example.org"})
        ));
    })
    .await;
}

#[tokio::test]
async fn a_failed_change_leaves_no_record_and_a_refused_one_is_recorded_as_denied() {
    each_backend(|app| async move {
        create(&app, "kim").await;
        // A duplicate login: 412, and still one users:create record.
        let body =
            json!({"login": "kim", "email": "other@example.com", "password": "a-Secret-pw1"});
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{res:?}");
        assert_eq!(records(&app, "action=users:create").await.len(), 1);
        // The last server admin cannot be demoted: no users.permissions:write record.
        let res = app
            .admin()
            .put(
                "/api/admin/users/1/permissions",
                r#"{"isGrafanaAdmin":false}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(records(&app, "action=users.permissions").await.is_empty());
        // An ordinary user trying to create one: 403, recorded as denied with who asked.
        let res = app
            .as_user("kim", "a-Secret-pw1")
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let denied = records(&app, "outcome=denied").await;
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0]["actorLogin"], "kim");
        assert_eq!(denied[0]["action"], "POST /api/admin/users");
        assert!(
            denied[0]["reason"]
                .as_str()
                .unwrap()
                .contains("users:create"),
            "{denied:?}"
        );
        // A refused read is not recorded.
        let res = app
            .as_user("kim", "a-Secret-pw1")
            .get("/api/admin/audit")
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(records(&app, "outcome=denied").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn the_reader_filters_and_pages_newest_first() {
    each_backend(|app| async move {
        for login in ["a1", "a2", "a3", "a4", "a5"] {
            create(&app, login).await;
        }
        let mut seen = Vec::new();
        let mut cursor = String::new();
        for _ in 0..3 {
            let res = app
                .admin()
                .get(&format!(
                    "/api/admin/audit?action=users:create&limit=2&cursor={cursor}"
                ))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            for r in res.json["records"].as_array().unwrap() {
                seen.push(r["targetName"].as_str().unwrap().to_string());
            }
            match res.json["nextCursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen, ["a5", "a4", "a3", "a2", "a1"]);
        // Filters: actor, target, outcome, org, time.
        assert_eq!(records(&app, "actor=admin&action=users:").await.len(), 5);
        assert_eq!(records(&app, "actor=nobody").await.len(), 0);
        assert_eq!(records(&app, "targetKind=user&targetId=2").await.len(), 1);
        assert_eq!(records(&app, "orgId=2").await.len(), 0);
        assert_eq!(records(&app, "from=2999-01-01T00:00:00Z").await.len(), 0);
        assert_eq!(
            records(&app, "to=946684800000&action=users:").await.len(),
            0
        );
        // Nothing a filter could mean differently: a 400 with a message.
        for (query, message) in [
            ("limit=0", "limit must be a whole number from 1 to 1000"),
            ("limit=1001", "limit must be a whole number from 1 to 1000"),
            ("cursor=garbage", "invalid cursor"),
            (
                "outcome=maybe",
                "outcome must be success, failure or denied",
            ),
            (
                "from=yesterday",
                "from must be an RFC 3339 time or milliseconds since the epoch",
            ),
            ("orgId=x", "orgId must be a whole number"),
        ] {
            let res = app.admin().get(&format!("/api/admin/audit?{query}")).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}: {res:?}");
            assert_message(&res, StatusCode::BAD_REQUEST, message);
        }
    })
    .await;
}

#[tokio::test]
async fn an_org_admin_reads_their_own_orgs_records_only() {
    each_backend(|app| async move {
        let kim = create(&app, "kim").await;
        let res = app.admin().post("/api/orgs", r#"{"name":"Other"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let other = res.json["orgId"].as_i64().unwrap();
        // kim becomes Admin of org 1 (the record of that change is org 1's).
        let res = app
            .admin()
            .patch(&format!("/api/org/users/{kim}"), r#"{"role":"Admin"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app
            .as_user("kim", "a-Secret-pw1")
            .get("/api/org/audit")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let mine = res.json["records"].as_array().unwrap();
        assert!(!mine.is_empty());
        assert!(mine.iter().all(|r| r["orgId"] == 1), "{mine:?}");
        let res = app
            .as_user("kim", "a-Secret-pw1")
            .get(&format!("/api/org/audit?orgId={other}"))
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        // Every org's records are the server admins'.
        let res = app
            .as_user("kim", "a-Secret-pw1")
            .get("/api/admin/audit")
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn retention_removes_old_records_and_the_chain_still_verifies() {
    each_backend_with(&[("audit", "retention_days", "30")], |app| async move {
        create(&app, "old1").await;
        create(&app, "old2").await;
        // The records are written with the wall clock; the clean-up's "now" is the test clock,
        // moved past the retention period.
        app.clock
            .advance(chrono::Utc::now() - app.clock.now() + chrono::Duration::days(31));
        let done = app.state.clean_up().await.unwrap();
        assert!(done.audit_records >= 2, "{done:?}");
        assert!(records(&app, "action=users:create").await.is_empty());
        create(&app, "new1").await;
        let report = app.state.store.verify_audit_chain().await.unwrap();
        assert_eq!(report.broken, None, "{report:?}");
        assert_eq!(report.checked, 1);
    })
    .await;
}

#[tokio::test]
async fn an_edited_or_removed_record_breaks_the_chain_on_every_backend() {
    for backend in Backend::all() {
        let db = TestDb::create(&backend).await;
        let app = TestApp::start(&db, &[]).await;
        for login in ["c1", "c2", "c3"] {
            create(&app, login).await;
        }
        let ids: Vec<i64> = records(&app, "action=users:create")
            .await
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let (newest, middle, oldest) = (ids[0], ids[1], ids[2]);
        let report = app.state.store.verify_audit_chain().await.unwrap();
        assert_eq!(report.broken, None, "{backend:?}");
        db.execute(&format!(
            "UPDATE audit_log SET target_name = 'someone' WHERE id = {middle}"
        ))
        .await;
        let report = app.state.store.verify_audit_chain().await.unwrap();
        assert_eq!(
            report.broken.as_ref().map(|b| b.0),
            Some(middle),
            "{backend:?} {report:?}"
        );
        db.execute(&format!("DELETE FROM audit_log WHERE id = {middle}"))
            .await;
        let report = app.state.store.verify_audit_chain().await.unwrap();
        assert_eq!(
            report.broken.as_ref().map(|b| b.0),
            Some(newest),
            "{backend:?} {report:?}"
        );
        // Removing the newest instead (after restoring nothing): the head names it.
        db.execute(&format!("DELETE FROM audit_log WHERE id >= {middle}"))
            .await;
        let report = app.state.store.verify_audit_chain().await.unwrap();
        assert!(report.broken.is_some(), "{backend:?} {report:?}");
        assert!(oldest < middle);
        db.drop_db().await;
    }
}

/// Two instances on one database append to one chain: each append locks the chain's head, so
/// concurrent changes through both still verify.
#[tokio::test]
async fn two_instances_keep_one_chain() {
    for backend in Backend::all() {
        let db = TestDb::create(&backend).await;
        let a = TestApp::start(&db, &[]).await;
        let b = TestApp::start(&db, &[]).await;
        tokio::join!(create_many(&a, "a"), create_many(&b, "b"));
        let report = a.state.store.verify_audit_chain().await.unwrap();
        assert_eq!(report.broken, None, "{backend:?} {report:?}");
        assert_eq!(records(&b, "action=users:create&limit=100").await.len(), 16);
        db.drop_db().await;
    }
}

async fn create_many(app: &TestApp, prefix: &str) {
    for i in 0..8 {
        let body = json!({"login": format!("{prefix}{i}"), "email": format!("{prefix}{i}@example.com"), "password": "a-Secret-pw1"});
        let res = app
            .admin()
            .post("/api/admin/users", &body.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    }
}

#[tokio::test]
async fn disabled_auditing_writes_nothing_and_changes_still_work() {
    each_backend_with(&[("audit", "enabled", "false")], |app| async move {
        create(&app, "kim").await;
        assert!(records(&app, "").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_log_file_gets_one_json_object_per_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit").join("audit.log");
    let path_text = path.to_str().unwrap().to_string();
    let extra = [("audit", "log_path", path_text.as_str())];
    let db = TestDb::create(&Backend::Sqlite).await;
    let app = TestApp::start(&db, &extra).await;
    create(&app, "kim").await;
    let body = json!({"login": "kim", "email": "x@example.com", "password": "a-Secret-pw1"});
    let res = app
        .admin()
        .post("/api/admin/users", &body.to_string())
        .await;
    assert_eq!(res.status, StatusCode::PRECONDITION_FAILED);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let created: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "users:create")
        .collect();
    assert_eq!(created.len(), 1, "{text}");
    for field in [
        "id",
        "created",
        "actorLogin",
        "authMethod",
        "clientIp",
        "action",
        "targetKind",
        "targetName",
        "changes",
        "outcome",
        "hash",
    ] {
        assert!(created[0].get(field).is_some(), "{field} missing: {text}");
    }
    assert!(!text.contains("a-Secret-pw1"));
}
