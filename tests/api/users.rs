//! `/api/users…` (Grafana's `pkg/api/user.go`, `pkg/api/users.go`).

use axum::http::StatusCode;
use serde_json::json;

use crate::{assert_message, each_backend};

#[tokio::test]
async fn search_pages_and_counts_matching_users() {
    each_backend(|app| async move {
        for login in ["qalice", "qalbert", "bob"] {
            app.create_user(login, "password1").await;
        }
        let res = app
            .admin()
            .get("/api/users/search?query=qal&perpage=1&page=2")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["totalCount"], 2);
        assert_eq!(res.json["page"], 2);
        assert_eq!(res.json["perPage"], 1);
        let users = res.json["users"].as_array().unwrap();
        assert_eq!(users.len(), 1);
        // Default order is login ascending: qalbert, qalice.
        assert_eq!(users[0]["login"], "qalice");
        for field in [
            "id",
            "uid",
            "name",
            "login",
            "email",
            "avatarUrl",
            "isAdmin",
            "isDisabled",
            "lastSeenAt",
            "lastSeenAtAge",
            "authLabels",
        ] {
            assert!(users[0].get(field).is_some(), "missing {field}: {res:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn search_matches_substrings_of_login_email_and_name_ignoring_case() {
    each_backend(|app| async move {
        app.create_user("zebra-keeper", "password1").await;
        app.create_user("other", "password1").await;
        // Three or more characters (trigram index on SQLite/PostgreSQL) …
        for q in ["BRA-KEE", "keeper@example", "keeper%20name"] {
            let res = app
                .admin()
                .get(&format!("/api/users/search?query={q}"))
                .await;
            assert_eq!(res.json["totalCount"], 1, "query {q}: {res:?}");
            assert_eq!(res.json["users"][0]["login"], "zebra-keeper");
        }
        // … and shorter ones.
        let res = app.admin().get("/api/users/search?query=eB").await;
        assert_eq!(res.json["totalCount"], 1, "{res:?}");
        // LIKE wildcards are taken literally.
        let res = app.admin().get("/api/users/search?query=%25").await;
        assert_eq!(res.json["totalCount"], 0, "{res:?}");
    })
    .await;
}

#[tokio::test]
async fn search_sorts_by_grafana_sort_options() {
    each_backend(|app| async move {
        app.create_user("aaa", "password1").await;
        app.create_user("zzz", "password1").await;
        let res = app.admin().get("/api/users/search?sort=login-desc").await;
        assert_eq!(res.json["users"][0]["login"], "zzz", "{res:?}");
        let res = app.admin().get("/api/users/search?sort=bogus").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

/// Without a query the list is read through the `IDX_user_list_*` indexes and counted apart
/// (store `list_users`): every sort pages through everyone exactly once, ties in a sort broken
/// by id, with an exact total that leaves out service accounts, also past the last page.
#[tokio::test]
async fn the_unfiltered_list_pages_through_everyone_once_in_every_sort() {
    each_backend(|app| async move {
        // Three share a name and two share none (NULL-free but equal), so the id decides.
        for (login, name) in [("kim", "Same"), ("ann", "Same"), ("lee", "Same"), ("bo", "Bo")] {
            let body = json!({"name": name, "login": login, "email": format!("{login}@example.com"), "password": "password1"});
            let res = app.admin().post("/api/admin/users", &body.to_string()).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
        }
        app.as_user("kim", "password1").get("/api/user").await;
        for name in ["robot-one", "robot-two"] {
            let body = json!({"name": name, "role": "Viewer"}).to_string();
            let res = app.admin().post("/api/serviceaccounts", &body).await;
            assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        }
        let everyone = ["admin", "ann", "bo", "kim", "lee"];
        for sort in [
            "login-asc",
            "login-desc",
            "email-asc",
            "email-desc",
            "name-asc",
            "name-desc",
            "lastSeenAtAge-asc",
            "lastSeenAtAge-desc",
        ] {
            let mut seen: Vec<(String, String, i64)> = Vec::new();
            for page in 1..=4 {
                let res = app
                    .admin()
                    .get(&format!("/api/users/search?sort={sort}&perpage=2&page={page}"))
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{sort}: {res:?}");
                assert_eq!(res.json["totalCount"], 5, "{sort} page {page}: {res:?}");
                let users = res.json["users"].as_array().unwrap();
                assert_eq!(users.len(), [2, 2, 1, 0][page - 1], "{sort} page {page}: {res:?}");
                for u in users {
                    seen.push((
                        u["login"].as_str().unwrap().to_string(),
                        u["name"].as_str().unwrap().to_string(),
                        u["id"].as_i64().unwrap(),
                    ));
                }
            }
            let mut logins: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
            let in_order = logins.clone();
            logins.sort_unstable();
            assert_eq!(logins, everyone, "{sort}: {in_order:?}");
            let descending = sort.ends_with("desc");
            if sort.starts_with("login") || sort.starts_with("email") {
                let mut expected = everyone.to_vec();
                if descending {
                    expected.reverse();
                }
                assert_eq!(in_order, expected, "{sort}");
            }
            if sort.starts_with("name") {
                // The three "Same" come together, in id order in the sort's direction.
                let same: Vec<i64> = seen.iter().filter(|s| s.1 == "Same").map(|s| s.2).collect();
                let mut sorted = same.clone();
                sorted.sort_unstable();
                if descending {
                    sorted.reverse();
                }
                assert_eq!(same, sorted, "{sort}: {seen:?}");
                let first = seen.iter().position(|s| s.1 == "Same").unwrap();
                assert!(seen[first..first + 3].iter().all(|s| s.1 == "Same"), "{sort}: {seen:?}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn list_users_returns_a_plain_array() {
    each_backend(|app| async move {
        app.create_user("carol", "password1").await;
        let res = app.admin().get("/api/users?perpage=10&page=1").await;
        assert_eq!(res.status, StatusCode::OK);
        let users = res.json.as_array().expect("an array");
        assert_eq!(users.len(), 2);
        assert_eq!(users[0]["login"], "admin");
        assert_eq!(users[0]["isAdmin"], true);
    })
    .await;
}

#[tokio::test]
async fn users_endpoints_need_a_server_admin() {
    each_backend(|app| async move {
        let id = app.create_user("dave", "password1").await;
        let dave = app.as_user("dave", "password1");
        for path in [
            "/api/users",
            "/api/users/search",
            "/api/users/lookup?loginOrEmail=admin",
            &format!("/api/users/{id}"),
        ] {
            let res = dave.get(path).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
            assert_eq!(res.json["title"], "Access denied");
        }
        let res = dave
            .put(&format!("/api/users/{id}"), r#"{"name":"x"}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn get_user_by_id_returns_the_profile() {
    each_backend(|app| async move {
        let id = app.create_user("erin", "password1").await;
        let res = app.admin().get(&format!("/api/users/{id}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let u = &res.json;
        assert_eq!(u["id"], id);
        assert_eq!(u["login"], "erin");
        assert_eq!(u["email"], "erin@example.com");
        assert_eq!(u["name"], "erin name");
        assert_eq!(u["orgId"], 1);
        assert_eq!(u["isGrafanaAdmin"], false);
        assert_eq!(u["isExternal"], false);
        assert_eq!(u["authLabels"], json!([]));
        assert_eq!(
            u["avatarUrl"],
            usher::domain::avatar_url("erin@example.com")
        );
        assert_eq!(u["createdAt"], "2026-01-15T10:00:00Z");
    })
    .await;
}

#[tokio::test]
async fn unknown_and_malformed_user_ids_are_client_errors() {
    each_backend(|app| async move {
        assert_message(
            &app.admin().get("/api/users/999").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        // Grafana 11.3+ resolves a non-numeric id as a uid: unknown, so 404 (tests/api/compat.rs).
        assert_message(
            &app.admin().get("/api/users/abc").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        assert_message(
            &app.admin().get("/api/users/999/orgs").await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
    })
    .await;
}

#[tokio::test]
async fn lookup_finds_by_login_or_email_case_insensitively() {
    each_backend(|app| async move {
        let id = app.create_user("frank", "password1").await;
        for q in ["frank", "FRANK", "frank@example.com", "Frank@Example.com"] {
            let res = app
                .admin()
                .get(&format!("/api/users/lookup?loginOrEmail={q}"))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{q}: {res:?}");
            assert_eq!(res.json["id"], id);
        }
        assert_message(
            &app.admin()
                .get("/api/users/lookup?loginOrEmail=nobody")
                .await,
            StatusCode::NOT_FOUND,
            "user not found",
        );
        // Grafana looks the missing value up and finds nobody (tests/api/compat.rs).
        let res = app.admin().get("/api/users/lookup").await;
        assert_message(&res, StatusCode::NOT_FOUND, "user not found");
    })
    .await;
}

#[tokio::test]
async fn update_user_changes_fields_and_refuses_clashes() {
    each_backend(|app| async move {
        let id = app.create_user("gina", "password1").await;
        app.create_user("hank", "password1").await;
        let res = app
            .admin()
            .put(&format!("/api/users/{id}"), r#"{"email":"gina2@example.com","name":"Gina Two","login":"gina2","theme":"light"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        let u = app.admin().get(&format!("/api/users/{id}")).await.json;
        assert_eq!((u["login"].as_str(), u["email"].as_str(), u["name"].as_str(), u["theme"].as_str()),
            (Some("gina2"), Some("gina2@example.com"), Some("Gina Two"), Some("light")));
        // Another user's login, in another case: Grafana's 409 (`pkg/api/user.go` handleUpdateUser).
        let res = app.admin().put(&format!("/api/users/{id}"), r#"{"login":"HANK"}"#).await;
        assert_message(&res, StatusCode::CONFLICT, "Update would result in user login conflict");
        let res = app.admin().put(&format!("/api/users/{id}"), r#"{"email":"hank@example.com"}"#).await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        // Nothing changed by the refused updates.
        let u = app.admin().get(&format!("/api/users/{id}")).await.json;
        assert_eq!(u["login"], "gina2");
        let res = app.admin().put(&format!("/api/users/{id}"), r#"{"email":"not-an-email"}"#).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        let res = app.admin().put(&format!("/api/users/{id}"), r#"{}"#).await;
        assert_message(&res, StatusCode::BAD_REQUEST, "Validation error, need to specify either username or email");
        assert_message(&app.admin().put("/api/users/999", r#"{"name":"x"}"#).await, StatusCode::NOT_FOUND, "user not found");
    })
    .await;
}

#[tokio::test]
async fn user_orgs_and_teams_read_memberships() {
    each_backend(|app| async move {
        let id = app.create_user("ivy", "password1").await;
        let now = app.state.now();
        let store = &app.state.store;
        let org = usher::service::in_tx(&app.state, async |tx| {
            usher::service::orgs::create(&app.state, tx, "Second", None).await
        })
        .await
        .unwrap();
        store
            .add_org_user(
                usher::store::orgs::OrgMembership {
                    org_id: org,
                    user_id: id,
                    role: usher::auth::OrgRole::Editor,
                },
                now,
            )
            .await
            .unwrap();
        let team = store
            .create_team(1, "Ops", "ops@example.com", now)
            .await
            .unwrap();
        store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: 1,
                    team_id: team,
                    user_id: id,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();
        store
            .add_team_member(
                usher::store::teams::TeamMembership {
                    org_id: 1,
                    team_id: team,
                    user_id: 1,
                    permission: usher::domain::role::TeamPermission::Member,
                },
                now,
            )
            .await
            .unwrap();

        let res = app.admin().get(&format!("/api/users/{id}/orgs")).await;
        assert_eq!(
            res.json,
            json!([
                {"orgId": 1, "name": "Main Org.", "role": "Viewer"},
                {"orgId": org, "name": "Second", "role": "Editor"},
            ]),
            "{res:?}"
        );
        let res = app.admin().get(&format!("/api/users/{id}/teams")).await;
        let teams = res.json.as_array().unwrap();
        assert_eq!(teams.len(), 1, "{res:?}");
        assert_eq!(teams[0]["name"], "Ops");
        assert_eq!(teams[0]["orgId"], 1);
        assert_eq!(teams[0]["memberCount"], 2);
        assert_eq!(teams[0]["email"], "ops@example.com");
        assert_eq!(
            teams[0]["avatarUrl"],
            usher::domain::avatar_url("ops@example.com")
        );
    })
    .await;
}

#[tokio::test]
async fn switching_a_users_org_requires_membership() {
    each_backend(|app| async move {
        let id = app.create_user("jack", "password1").await;
        let now = app.state.now();
        let org = usher::service::in_tx(&app.state, async |tx| {
            usher::service::orgs::create(&app.state, tx, "Other", None).await
        })
        .await
        .unwrap();
        // Grafana answers 401 "Not a valid organization" (`pkg/api/user.go` UpdateUserActiveOrg).
        let res = app
            .admin()
            .post(&format!("/api/users/{id}/using/{org}"), "")
            .await;
        assert_message(&res, StatusCode::UNAUTHORIZED, "Not a valid organization");
        app.state
            .store
            .add_org_user(
                usher::store::orgs::OrgMembership {
                    org_id: org,
                    user_id: id,
                    role: usher::auth::OrgRole::Viewer,
                },
                now,
            )
            .await
            .unwrap();
        let res = app
            .admin()
            .post(&format!("/api/users/{id}/using/{org}"), "")
            .await;
        assert_message(&res, StatusCode::OK, "Active organization changed");
        assert_eq!(
            app.admin().get(&format!("/api/users/{id}")).await.json["orgId"],
            org
        );
        let res = app
            .admin()
            .post(&format!("/api/users/{id}/using/x"), "")
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

/// Concurrent writes must not fail: on SQLite a read-then-write transaction has to take the
/// write lock up front, or a commit from another connection in between (here `last_seen_at`
/// updates) makes it fail with SQLITE_BUSY whatever the busy timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_and_last_seen_writes_all_succeed() {
    each_backend(|app| async move {
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(app.create_user(&format!("conc{i}"), "password1").await);
        }
        let store = app.state.store.clone();
        let toucher = tokio::spawn({
            let ids = ids.clone();
            async move {
                for round in 0..40i64 {
                    for id in &ids {
                        let t = usher::store::DbTime::from_utc(
                            chrono::Utc::now() + chrono::Duration::seconds(round),
                        );
                        store.touch_last_seen(*id, t, t).await.unwrap();
                    }
                }
            }
        });
        let app = &app;
        let mut updates = Vec::new();
        for round in 0..5 {
            for (i, id) in ids.iter().enumerate() {
                let body = format!(
                    r#"{{"login":"conc{i}","email":"conc{i}@example.com","name":"n{round}"}}"#
                );
                updates
                    .push(async move { app.admin().put(&format!("/api/users/{id}"), &body).await });
            }
        }
        for res in futures::future::join_all(updates).await {
            assert_message(&res, StatusCode::OK, "User updated");
        }
        toucher.await.unwrap();
    })
    .await;
}
