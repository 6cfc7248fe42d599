//! Dashboard provisioning from files and the reload endpoints (Grafana's
//! `pkg/services/provisioning/dashboards`, `pkg/api/admin_provisioning.go`). Each test writes
//! files into a temporary folder, reloads, and checks the database through the API.

use std::path::Path;

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_db, TestApp, TestDb};

const RELOAD: &str = "/api/admin/provisioning/dashboards/reload";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn provider(root: &Path, name: &str, extra: &str) -> String {
    format!(
        "apiVersion: 1\nproviders:\n  - name: {name}\n    orgId: 1\n{extra}    options:\n      path: {}\n",
        root.join(name).display()
    )
}

fn dashboard(uid: &str, title: &str) -> String {
    json!({"uid": uid, "title": title, "tags": ["prov"], "panels": []}).to_string()
}

async fn start(db: &TestDb, root: &Path) -> TestApp {
    let dir = root.display().to_string();
    TestApp::start(db, &[("paths", "provisioning", &dir)]).await
}

#[tokio::test]
async fn dashboards_follow_their_files() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("dashboards/main.yaml"),
            &provider(root, "main", ""),
        );
        write(&root.join("main/a.json"), &dashboard("prov-a", "A"));
        write(&root.join("main/sub/b.json"), &dashboard("prov-b", "B"));
        write(&root.join("main/.hidden/c.json"), &dashboard("prov-c", "C"));

        // Provisioned at start-up, recursively, hidden folders skipped.
        let app = start(&db, root).await;
        let admin = app.admin();
        let res = admin.get("/api/dashboards/uid/prov-a").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["meta"]["provisioned"], true);
        assert_eq!(res.json["dashboard"]["version"], 1);
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-b").await.status,
            StatusCode::OK
        );
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-c").await.status,
            StatusCode::NOT_FOUND
        );

        // Through the API they are read-only (no allowUiUpdates).
        let res = admin
            .post(
                "/api/dashboards/db",
                r#"{"dashboard": {"uid": "prov-a", "title": "X"}, "overwrite": true}"#,
            )
            .await;
        assert_message(
            &res,
            StatusCode::BAD_REQUEST,
            "Cannot save provisioned dashboard",
        );
        assert_message(
            &admin.delete("/api/dashboards/uid/prov-a").await,
            StatusCode::BAD_REQUEST,
            "provisioned dashboard cannot be deleted",
        );

        // An unchanged file is not saved again; a changed one is.
        assert_message(
            &admin.post(RELOAD, "").await,
            StatusCode::OK,
            "Dashboards config reloaded",
        );
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-a").await.json["dashboard"]["version"],
            1
        );
        write(&root.join("main/a.json"), &dashboard("prov-a", "A renamed"));
        assert_message(
            &admin.post(RELOAD, "").await,
            StatusCode::OK,
            "Dashboards config reloaded",
        );
        let res = admin.get("/api/dashboards/uid/prov-a").await;
        assert_eq!(res.json["dashboard"]["title"], "A renamed");
        assert_eq!(res.json["dashboard"]["version"], 2);

        // A removed file removes its dashboard (and its stars).
        std::fs::remove_file(root.join("main/sub/b.json")).unwrap();
        admin.post(RELOAD, "").await;
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-b").await.status,
            StatusCode::NOT_FOUND
        );

        // A new file appears.
        write(&root.join("main/d.json"), &dashboard("prov-d", "D"));
        admin.post(RELOAD, "").await;
        let hits = admin.get("/api/search?tag=prov").await.json;
        let titles: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["A renamed", "D"]);

        // A provider no longer configured takes its dashboards with it.
        std::fs::remove_file(root.join("dashboards/main.yaml")).unwrap();
        admin.post(RELOAD, "").await;
        assert_eq!(admin.get("/api/search?tag=prov").await.json, json!([]));
        db
    })
    .await;
}

/// A bad file never deletes what a good one created, and errors name the file and line.
#[tokio::test]
async fn bad_files_are_reported_and_change_nothing() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("dashboards/main.yaml"),
            &provider(root, "main", ""),
        );
        write(&root.join("main/a.json"), &dashboard("prov-a", "A"));
        write(&root.join("main/b.json"), &dashboard("prov-b", "B"));
        let app = start(&db, root).await;
        let admin = app.admin();

        // A dashboard file that no longer parses: reported with its line; its dashboard stays;
        // the other file still applies.
        write(
            &root.join("main/a.json"),
            "{\n  \"uid\": \"prov-a\",\n  \"title\": \n}",
        );
        write(&root.join("main/b.json"), &dashboard("prov-b", "B2"));
        let res = admin.post(RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        let a_path = root.join("main/a.json").display().to_string();
        assert!(message.contains(&format!("{a_path}:4:")), "{message}");
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-a").await.json["dashboard"]["title"],
            "A"
        );
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-b").await.json["dashboard"]["title"],
            "B2"
        );

        // A provider file that does not parse: nothing changes, not even for other files.
        write(&root.join("main/a.json"), &dashboard("prov-a", "A2"));
        let yaml = root.join("dashboards/broken.yaml");
        write(&yaml, "apiVersion: 1\nproviders:\n  - name: [unclosed\n");
        let res = admin.post(RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(
            message.starts_with("Dashboards config not reloaded: "),
            "{message}"
        );
        assert!(
            message.contains(&format!("{}:", yaml.display())),
            "{message}"
        );
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-a").await.json["dashboard"]["title"],
            "A"
        );
        // Semantic errors too: a folder (none here), a duplicate name.
        write(&yaml, &provider(root, "main", "    folder: Ops\n"));
        let res = admin.post(RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(res.json["message"]
            .as_str()
            .unwrap()
            .contains("folder is not supported"));
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-b").await.status,
            StatusCode::OK
        );

        // Fixed: applies.
        std::fs::remove_file(&yaml).unwrap();
        assert_message(
            &admin.post(RELOAD, "").await,
            StatusCode::OK,
            "Dashboards config reloaded",
        );
        assert_eq!(
            admin.get("/api/dashboards/uid/prov-a").await.json["dashboard"]["title"],
            "A2"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn provider_options_apply() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        // The path through $__env{…}, as Grafana interpolates provider values.
        let var = format!("USHER_PROV_TEST_{}", std::process::id());
        std::env::set_var(&var, root.join("keep").display().to_string());
        write(
            &root.join("dashboards/keep.yaml"),
            &format!(
                "apiVersion: 1\nproviders:\n  - name: keep\n    disableDeletion: true\n    allowUiUpdates: true\n    options:\n      path: $__env{{{var}}}\n"
            ),
        );
        write(&root.join("keep/k.json"), &dashboard("prov-k", "K"));
        let app = start(&db, root).await;
        let admin = app.admin();
        // allowUiUpdates: saved through the API, and not shown as provisioned.
        let res = admin.get("/api/dashboards/uid/prov-k").await;
        assert_eq!(res.json["meta"]["provisioned"], false, "{res:?}");
        let res = admin
            .post(
                "/api/dashboards/db",
                r#"{"dashboard": {"uid": "prov-k", "title": "K via API"}, "overwrite": true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // disableDeletion: the file goes, the dashboard stays as an ordinary one.
        std::fs::remove_file(root.join("keep/k.json")).unwrap();
        assert_message(&admin.post(RELOAD, "").await, StatusCode::OK, "Dashboards config reloaded");
        assert_eq!(admin.get("/api/dashboards/uid/prov-k").await.status, StatusCode::OK);
        assert_message(
            &admin.delete("/api/dashboards/uid/prov-k").await,
            StatusCode::OK,
            "Dashboard K via API deleted",
        );
        db
    })
    .await;
}

#[tokio::test]
async fn reloads_need_a_server_admin_and_unheld_kinds_say_so() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let app = start(&db, tmp.path()).await;
        // No provider files at all: nothing to do, still a success.
        assert_message(
            &app.admin().post(RELOAD, "").await,
            StatusCode::OK,
            "Dashboards config reloaded",
        );
        for kind in ["datasources", "plugins", "alerting", "notifications"] {
            let res = app
                .admin()
                .post(&format!("/api/admin/provisioning/{kind}/reload"), "")
                .await;
            assert_message(
                &res,
                StatusCode::NOT_FOUND,
                &format!("This server does not provision {kind}: it holds no {kind}"),
            );
        }
        app.create_user("ann", "password1").await;
        let res = app.as_user("ann", "password1").post(RELOAD, "").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        db
    })
    .await;
}

const USERS_RELOAD: &str = "/api/admin/provisioning/users/reload";

/// Users, orgs, teams and memberships from YAML (beyond Grafana): present and absent states,
/// passwords as `$__env{…}` or argon2 hashes, nothing applied from a bad file.
#[tokio::test]
async fn users_orgs_and_teams_follow_their_files() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let var = format!("USHER_PROV_PW_{}", std::process::id());
        std::env::set_var(&var, "alice-password");
        let file = root.join("users/team.yaml");
        write(
            &file,
            &format!(
                "apiVersion: 1\norgs:\n  - name: Engineering\nusers:\n  - login: alice\n    email: alice@example.com\n    name: Alice\n    password: $__env{{{var}}}\n    orgs:\n      - name: Engineering\n        role: Editor\n  - login: bob\n    email: bob@example.com\n    isAdmin: true\n  - login: admin\n    orgs:\n      - name: Engineering\n        role: Admin\nteams:\n  - name: Backend\n    org: Engineering\n    members: [alice]\n    admins: [bob]\n"
            ),
        );
        let app = start(&db, root).await;
        let admin = app.admin();
        let alice = app.as_user("alice", "alice-password");
        let me = alice.get("/api/user").await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        assert_eq!(me.json["email"], "alice@example.com");
        let orgs = alice.get("/api/user/orgs").await.json;
        let eng = orgs.as_array().unwrap().iter().find(|o| o["name"] == "Engineering").unwrap().clone();
        assert_eq!(eng["role"], "Editor");
        let eng_id = eng["orgId"].as_i64().unwrap();
        // Fields not given are left alone: the admin keeps their email.
        let me = admin.get("/api/user").await.json;
        assert_eq!(me["email"], "admin@localhost");
        let bob = admin.get("/api/users/lookup?loginOrEmail=bob").await.json;
        assert_eq!(bob["isGrafanaAdmin"], true);
        // The team in its org, with its member and admin.
        let team = app
            .request_with(
                axum::http::Method::GET,
                "/api/teams/search?name=Backend",
                &[("authorization", &crate::basic("admin", "admin")), ("x-grafana-org-id", &eng_id.to_string())],
                None,
            )
            .await;
        assert_eq!(team.json["totalCount"], 1, "{team:?}");
        assert_eq!(team.json["teams"][0]["memberCount"], 2);

        // A reload with nothing changed changes nothing, and keeps alice's sessions.
        let browser = app.login("alice", "alice-password", "test").await;
        assert_message(&admin.post(USERS_RELOAD, "").await, StatusCode::OK, "Users config reloaded");
        assert_eq!(browser.get("/api/user").await.status, StatusCode::OK);

        // A bad file: its line is named and nothing of it is applied.
        write(
            &file,
            "apiVersion: 1\nusers:\n  - login: carol\n    email: carol@example.com\n  - login: dave\n    orgs:\n      - name: Nowhere\n        role: Viewer\n",
        );
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(message.contains(&format!("{}:5:", file.display())), "{message}");
        assert!(message.contains("Nowhere"), "{message}");
        assert_eq!(
            admin.get("/api/users/lookup?loginOrEmail=carol").await.status,
            StatusCode::NOT_FOUND
        );
        write(&file, "users:\n  - login: [broken\n");
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(res.json["message"].as_str().unwrap().contains(&format!("{}:", file.display())));
        write(
            &file,
            "users:\n  - login: erin\n    passwordHash: not-a-hash\n",
        );
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(res.json["message"].as_str().unwrap().contains("passwordHash"), "{res:?}");

        // Absent: users, teams and orgs go.
        write(
            &file,
            "users:\n  - login: alice\n    state: absent\nteams:\n  - name: Backend\n    org: Engineering\n    state: absent\norgs:\n  - name: Engineering\n    state: absent\n",
        );
        assert_message(&admin.post(USERS_RELOAD, "").await, StatusCode::OK, "Users config reloaded");
        assert_eq!(
            admin.get("/api/users/lookup?loginOrEmail=alice").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin.get(&format!("/api/orgs/{eng_id}")).await.status,
            StatusCode::NOT_FOUND
        );
        // The last server admin is never removed by a file.
        write(&file, "users:\n  - login: admin\n    state: absent\n  - login: bob\n    state: absent\n");
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(res.json["message"].as_str().unwrap().contains("last server admin"), "{res:?}");
        db
    })
    .await;
}

/// Files are polled every `updateIntervalSeconds` without any reload call.
#[tokio::test]
async fn dashboard_files_are_polled() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("dashboards/main.yaml"),
            &provider(root, "main", "    updateIntervalSeconds: 1\n"),
        );
        write(&root.join("main/a.json"), &dashboard("prov-a", "A"));
        let app = start(&db, root).await;
        usher::provisioning::spawn_dashboard_polling(&app.state);
        write(&root.join("main/p.json"), &dashboard("prov-p", "Polled"));
        // Up to 10 s for the poll (every second) to save it.
        let mut status = StatusCode::NOT_FOUND;
        for _ in 0..100 {
            status = app.admin().get("/api/dashboards/uid/prov-p").await.status;
            if status == StatusCode::OK {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(status, StatusCode::OK, "the poll saved the new file");
        db
    })
    .await;
}

/// As Grafana, the server does not start on a provider file that does not parse, and says which.
#[tokio::test]
async fn a_bad_provider_file_stops_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let yaml = root.join("dashboards/bad.yaml");
    write(&yaml, "providers:\n  - name: [unclosed\n");
    let data = tempfile::tempdir().unwrap();
    let db_path = data.path().join("grafana.db").display().to_string();
    let config = usher::config::Config::with_overrides(&[
        ("database", "path", db_path.as_str()),
        ("paths", "provisioning", &root.display().to_string()),
    ])
    .unwrap();
    let err = match usher::app::build_state(config, usher::app::Clock::system()).await {
        Ok(_) => panic!("started despite a bad provider file"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains(&yaml.display().to_string()), "{err}");
}

/// A file cannot delete the org new users join (`[users] auto_assign_org_id`, whatever its id),
/// and such a file changes nothing at all.
#[tokio::test]
async fn provisioning_keeps_the_org_new_users_join() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let file = root.join("users/orgs.yaml");
        write(&file, "orgs:\n  - name: Landing\n  - name: Spare\n");
        let app = TestApp::start(
            &db,
            &[
                ("paths", "provisioning", &root.display().to_string()),
                ("users", "auto_assign_org_id", "2"),
            ],
        )
        .await;
        let admin = app.admin();
        assert_eq!(admin.get("/api/orgs/name/Landing").await.json["id"], 2);
        write(
            &file,
            "orgs:\n  - name: Spare\n    state: absent\n  - name: Landing\n    state: absent\n",
        );
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(
            message.contains("organization \"Landing\" is the one new users join ([users] auto_assign_org_id) and stays"),
            "{message}"
        );
        assert!(message.contains(&format!("{}:4:", file.display())), "{message}");
        assert_eq!(admin.get("/api/orgs/name/Landing").await.status, StatusCode::OK);
        assert_eq!(admin.get("/api/orgs/name/Spare").await.status, StatusCode::OK);
        app.create_user("newbie", "password1").await;
        db
    })
    .await;
}

/// Provisioned users follow the rules of the API (`src/domain/login.rs`, `src/domain/text.rs`):
/// logins fold to NFKC lower case, and a service account's login, invisible characters,
/// control characters and over-long values make the file bad.
#[tokio::test]
async fn provisioned_logins_and_names_are_checked_like_the_apis() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let file = root.join("users/users.yaml");
        write(&file, "users: []\n");
        let app = start(&db, root).await;
        let admin = app.admin();
        for (yaml, expected) in [
            (
                "users:\n  - login: sa-1-deploybot\n",
                "reserved for service accounts",
            ),
            (
                "users:\n  - login: \"ad\\u202Emin\"\n",
                "invisible or text-direction",
            ),
            (
                "users:\n  - login: \"ad\\0min\"\n",
                "login must not contain control characters",
            ),
            (
                "users:\n  - login: carol\n    name: \"Ca\\arol\"\n",
                "name must not contain control characters",
            ),
            (
                "orgs:\n  - name: \"Eng\\0\"\n",
                "organization name must not contain control characters",
            ),
            (
                &format!(
                    "teams:\n  - name: {}\n    org: Main Org.\n",
                    "t".repeat(191)
                ),
                "team name must not be longer than 190 characters",
            ),
        ] {
            write(&file, yaml);
            let res = admin.post(USERS_RELOAD, "").await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{yaml}: {res:?}");
            let message = res.json["message"].as_str().unwrap_or_default();
            assert!(message.contains(expected), "{yaml}: {message}");
        }
        write(
            &file,
            "users:\n  - login: ＣＡＲＯＬ\n    email: Carol@Example.com\n",
        );
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin.get("/api/users/lookup?loginOrEmail=carol").await;
        assert_eq!(
            (res.json["login"].as_str(), res.json["email"].as_str()),
            (Some("carol"), Some("carol@example.com")),
            "{res:?}"
        );
        db
    })
    .await;
}

/// A YAML syntax error names the file and the line in front, and the parser's own line and
/// column in the message (serde_norway, like serde_yaml before it).
#[tokio::test]
async fn yaml_syntax_errors_name_their_line_and_column() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let app = start(&db, root).await;
        let admin = app.admin();
        let file = root.join("users/broken.yaml");
        write(
            &file,
            "apiVersion: 1\nusers:\n  - login: carol\n    email: x\n\t- login: dave\n",
        );
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{}:5:", file.display())),
            "{message}"
        );
        assert!(message.contains("line 5 column 1"), "{message}");

        let providers = root.join("dashboards/broken.yaml");
        write(
            &providers,
            "apiVersion: 1\nproviders:\n  - name: x\n    options: {path: [\n",
        );
        let res = admin.post(RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{}:5:", providers.display())),
            "{message}"
        );
        assert!(message.contains("line 5 column 1"), "{message}");
        db
    })
    .await;
}

/// The last-admin rule holds for files as for the API (`service::users`): a users file that
/// would demote, disable or delete the only enabled server admin is refused, and nothing of the
/// reload is written.
#[tokio::test]
async fn a_users_file_cannot_remove_the_last_server_admin() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let app = start(&db, root).await;
        let admin = app.admin();
        let file = root.join("users/admin.yaml");
        for (entry, stays) in [
            ("isAdmin: false", "stays a server admin"),
            ("isDisabled: true", "stays enabled"),
            ("state: absent", "stays"),
        ] {
            write(&file, &format!("users:\n  - login: admin\n    {entry}\n"));
            let res = admin.post(USERS_RELOAD, "").await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{entry}: {res:?}");
            let message = res.json["message"].as_str().unwrap();
            assert!(message.contains(&format!("{}:2:", file.display())), "{message}");
            assert!(message.contains("last server admin"), "{message}");
            assert!(message.contains(stays), "{message}");
            let me = admin.get("/api/users/1").await;
            assert_eq!(me.status, StatusCode::OK, "{entry}: the admin is still there");
            assert_eq!(me.json["isGrafanaAdmin"], true, "{entry}");
            assert_eq!(me.json["isDisabled"], false, "{entry}");
        }
        // With a second enabled admin declared in the same reload, the demotion goes through.
        write(
            &file,
            "users:\n  - login: root2\n    password: second-admin-pw\n    isAdmin: true\n  - login: admin\n    isAdmin: false\n",
        );
        assert_message(&admin.post(USERS_RELOAD, "").await, StatusCode::OK, "Users config reloaded");
        let root2 = app.as_user("root2", "second-admin-pw");
        let res = root2.get("/api/users/1").await;
        assert_eq!(res.json["isGrafanaAdmin"], false, "{res:?}");
        db
    })
    .await;
}

/// One reload is one transaction: a file refused after valid ones leaves the orgs, users and
/// teams of the valid ones unwritten; without the refused file, the same reload applies.
#[tokio::test]
async fn a_refused_file_after_valid_ones_changes_nothing() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let app = start(&db, root).await;
        let admin = app.admin();
        write(
            &root.join("users/a-valid.yaml"),
            "orgs:\n  - name: Ops\nusers:\n  - login: olga\n    password: olga-password\n    orgs:\n      - name: Ops\n        role: Editor\nteams:\n  - name: Oncall\n    org: Ops\n    members: [olga]\n",
        );
        let refused = root.join("users/z-refused.yaml");
        write(&refused, "users:\n  - login: admin\n    isAdmin: false\n");
        let res = admin.post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(res.json["message"].as_str().unwrap().contains("z-refused.yaml"), "{res:?}");
        assert_eq!(admin.get("/api/orgs/name/Ops").await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            admin.get("/api/users/lookup?loginOrEmail=olga").await.status,
            StatusCode::NOT_FOUND
        );
        let res = admin.get("/api/orgs").await;
        assert_eq!(res.json.as_array().unwrap().len(), 1, "only Main Org.: {res:?}");

        std::fs::remove_file(&refused).unwrap();
        assert_message(&admin.post(USERS_RELOAD, "").await, StatusCode::OK, "Users config reloaded");
        let ops = admin.get("/api/orgs/name/Ops").await;
        assert_eq!(ops.status, StatusCode::OK, "{ops:?}");
        let ops_id = ops.json["id"].as_i64().unwrap();
        let members = admin.get(&format!("/api/orgs/{ops_id}/users")).await;
        let olga = members
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["login"] == "olga")
            .cloned()
            .unwrap_or_else(|| panic!("olga is a member: {members:?}"));
        assert_eq!(olga["role"], "Editor");
        db
    })
    .await;
}

/// A role that is none of Grafana's four is an error naming file, line and value, not a Viewer.
#[tokio::test]
async fn an_unknown_role_in_a_users_file_names_file_line_and_value() {
    each_db(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let app = start(&db, root).await;
        let file = root.join("users/roles.yaml");
        write(
            &file,
            "users:\n  - login: rita\n    orgs:\n      - name: Main Org.\n        role: Owner\n",
        );
        let res = app.admin().post(USERS_RELOAD, "").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        let message = res.json["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{}:2:", file.display())),
            "{message}"
        );
        assert!(message.contains("\"Owner\""), "{message}");
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=rita")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        db
    })
    .await;
}
