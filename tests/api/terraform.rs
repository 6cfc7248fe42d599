//! The call sequences of the Grafana Terraform provider (grafana/terraform-provider-grafana,
//! which calls Grafana through grafana-openapi-client-go), replayed end to end for the
//! resources that manage identity: each create / read / update / import / delete step sends
//! what the provider sends and checks what the provider reads back.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{assert_message, each_backend, TestApp};

/// `GET /api/users?perpage=&page=` until a page comes back short (the provider's
/// `grafana_users` data source and its user-id lookups), every login seen once.
async fn every_user_by_pages(app: &TestApp, per_page: usize) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1.. {
        let res = app
            .admin()
            .get(&format!("/api/users?perpage={per_page}&page={page}"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let rows = res.json.as_array().unwrap().clone();
        let short = rows.len() < per_page;
        all.extend(rows);
        if short {
            break;
        }
        assert!(page < 100, "paging never ended");
    }
    all
}

/// `grafana_user`: create with `POST /api/admin/users`, admin flag with
/// `PUT /api/admin/users/:id/permissions`, read with `GET /api/users/:id`, update with
/// `PUT /api/users/:id` and `PUT /api/admin/users/:id/password`, import by listing, delete.
#[tokio::test]
async fn grafana_user_resource() {
    each_backend(|app| async move {
        let admin = app.admin();
        let created = admin
            .post(
                "/api/admin/users",
                &json!({"email": "tf@example.com", "name": "Terraform", "login": "tf", "password": "tf-password-1"}).to_string(),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{created:?}");
        assert_eq!(created.json["message"], "User created");
        let id = created.json["id"].as_i64().unwrap();
        assert!(created.json["uid"].as_str().is_some_and(|u| !u.is_empty()), "{created:?}");
        let res = admin
            .put(&format!("/api/admin/users/{id}/permissions"), r#"{"isGrafanaAdmin":true}"#)
            .await;
        assert_message(&res, StatusCode::OK, "User permissions updated");
        // Read: the provider sets email, name, login and is_admin from the profile.
        let read = admin.get(&format!("/api/users/{id}")).await;
        assert_eq!(read.status, StatusCode::OK, "{read:?}");
        assert_eq!(
            (read.json["email"].as_str(), read.json["name"].as_str(), read.json["login"].as_str(), read.json["isGrafanaAdmin"].as_bool()),
            (Some("tf@example.com"), Some("Terraform"), Some("tf"), Some(true))
        );
        // Update sends every field, then the password when it changed.
        let res = admin
            .put(
                &format!("/api/users/{id}"),
                &json!({"email": "tf2@example.com", "name": "Terraform 2", "login": "tf2"}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        let res = admin
            .put(&format!("/api/admin/users/{id}/password"), r#"{"password":"tf-password-2"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "User password updated");
        assert_eq!(app.as_user("tf2", "tf-password-2").get("/api/user").await.status, StatusCode::OK);
        let res = admin
            .put(&format!("/api/admin/users/{id}/permissions"), r#"{"isGrafanaAdmin":false}"#)
            .await;
        assert_message(&res, StatusCode::OK, "User permissions updated");
        // Import / lookup by listing pages until a short one.
        for n in 0..5 {
            app.create_user(&format!("tf-extra-{n}"), "password-x").await;
        }
        let all = every_user_by_pages(&app, 3).await;
        let logins: Vec<&str> = all.iter().filter_map(|u| u["login"].as_str()).collect();
        assert_eq!(logins.len(), 7, "{logins:?}");
        assert!(logins.contains(&"tf2"), "{logins:?}");
        // A lookup by email is how the provider finds an existing user.
        let found = admin.get("/api/users/lookup?loginOrEmail=tf2@example.com").await;
        assert_eq!(found.json["id"], id);
        let res = admin.delete(&format!("/api/admin/users/{id}")).await;
        assert_message(&res, StatusCode::OK, "User deleted");
        // Read after delete is a 404, which the provider takes as "gone" and plans a create.
        assert_eq!(admin.get(&format!("/api/users/{id}")).await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

/// `grafana_team`: create, read (`orgId`, `uid`, `name`, `email`), members set by email through
/// the org's user list, team preferences, update, delete.
#[tokio::test]
async fn grafana_team_resource() {
    each_backend(|app| async move {
        let admin = app.admin();
        let alice = app.create_user("alice", "password-a").await;
        let created = admin
            .post(
                "/api/teams",
                r#"{"name":"tf-team","email":"team@example.com"}"#,
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{created:?}");
        let id = created.json["teamId"].as_i64().unwrap();
        let read = admin.get(&format!("/api/teams/{id}")).await;
        assert_eq!(read.status, StatusCode::OK, "{read:?}");
        assert_eq!(read.json["orgId"], 1);
        assert_eq!(read.json["name"], "tf-team");
        assert_eq!(read.json["email"], "team@example.com");
        assert_eq!(read.json["uid"], created.json["uid"]);
        // Members: the provider maps emails to ids with `GET /api/org/users`.
        let org_users = admin.get("/api/org/users").await;
        let by_email = org_users
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "alice@example.com")
            .cloned()
            .expect("alice is in the org");
        assert_eq!(by_email["userId"], alice);
        let res = admin
            .post(
                &format!("/api/teams/{id}/members"),
                &json!({"userId": alice}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Member added to Team");
        let members = admin.get(&format!("/api/teams/{id}/members")).await.json;
        let emails: Vec<&str> = members
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["email"].as_str())
            .collect();
        assert!(emails.contains(&"alice@example.com"), "{members}");
        // Preferences.
        let res = admin
            .put(
                &format!("/api/teams/{id}/preferences"),
                r#"{"theme":"dark","timezone":"utc","weekStart":"monday","homeDashboardUID":""}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Preferences updated");
        let prefs = admin
            .get(&format!("/api/teams/{id}/preferences"))
            .await
            .json;
        assert_eq!(
            (
                prefs["theme"].as_str(),
                prefs["timezone"].as_str(),
                prefs["weekStart"].as_str()
            ),
            (Some("dark"), Some("utc"), Some("monday"))
        );
        // Update, then a member removed.
        let res = admin
            .put(
                &format!("/api/teams/{id}"),
                r#"{"name":"tf-team-2","email":"team2@example.com"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Team updated");
        let res = admin
            .delete(&format!("/api/teams/{id}/members/{alice}"))
            .await;
        assert_message(&res, StatusCode::OK, "Team Member removed");
        // Import by name.
        let search = admin.get("/api/teams/search?name=tf-team-2").await.json;
        assert_eq!(search["teams"][0]["id"], id);
        let res = admin.delete(&format!("/api/teams/{id}")).await;
        assert_message(&res, StatusCode::OK, "Team deleted");
        assert_message(
            &admin.get(&format!("/api/teams/{id}")).await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );
    })
    .await;
}

/// `grafana_organization`: create (an existing name is a 409 the provider reads as "exists"),
/// users mapped by listing every user page by page, members added with roles including
/// `None`, roles changed, members removed, the org deleted.
#[tokio::test]
async fn grafana_organization_resource() {
    each_backend(|app| async move {
        let admin = app.admin();
        let created = admin.post("/api/orgs", r#"{"name":"tf-org"}"#).await;
        assert_eq!(created.status, StatusCode::OK, "{created:?}");
        assert_eq!(created.json["message"], "Organization created");
        let org = created.json["orgId"].as_i64().unwrap();
        assert_message(
            &admin.post("/api/orgs", r#"{"name":"tf-org"}"#).await,
            StatusCode::CONFLICT,
            "Organization name taken",
        );
        let read = admin.get(&format!("/api/orgs/{org}")).await;
        assert_eq!(
            (read.json["id"].as_i64(), read.json["name"].as_str()),
            (Some(org), Some("tf-org"))
        );
        let by_name = admin.get("/api/orgs/name/tf-org").await;
        assert_eq!(by_name.json["id"], org);
        for login in ["viewer1", "editor1", "none1"] {
            app.create_user(login, "password-o").await;
        }
        let users = every_user_by_pages(&app, 2).await;
        assert_eq!(users.len(), 4, "{users:?}");
        for (login, role) in [
            ("viewer1", "Viewer"),
            ("editor1", "Editor"),
            ("none1", "None"),
        ] {
            let res = admin
                .post(
                    &format!("/api/orgs/{org}/users"),
                    &json!({"loginOrEmail": format!("{login}@example.com"), "role": role})
                        .to_string(),
                )
                .await;
            assert_message(&res, StatusCode::OK, "User added to organization");
        }
        let members = admin.get(&format!("/api/orgs/{org}/users")).await.json;
        let role_of = |members: &Value, login: &str| {
            members
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["login"] == login)
                .map(|m| m["role"].as_str().unwrap_or("").to_string())
        };
        assert_eq!(role_of(&members, "none1").as_deref(), Some("None"));
        assert_eq!(role_of(&members, "editor1").as_deref(), Some("Editor"));
        let viewer = members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["login"] == "viewer1")
            .unwrap()["userId"]
            .as_i64()
            .unwrap();
        let res = admin
            .patch(
                &format!("/api/orgs/{org}/users/{viewer}"),
                r#"{"role":"Admin"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Organization user updated");
        let res = admin
            .delete(&format!("/api/orgs/{org}/users/{viewer}"))
            .await;
        assert_message(&res, StatusCode::OK, "User removed from organization");
        let res = admin
            .put(&format!("/api/orgs/{org}"), r#"{"name":"tf-org-2"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization updated");
        let res = admin.delete(&format!("/api/orgs/{org}")).await;
        assert_message(&res, StatusCode::OK, "Organization deleted");
        assert_eq!(
            admin.get(&format!("/api/orgs/{org}")).await.status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

/// `grafana_service_account` and `grafana_service_account_token`: create (201), read, update
/// with PATCH, a token with a lifetime (`expiration`, `hasExpired` read back), the token
/// listed, deleted, and the account deleted; a failed create falls back to a search from
/// `page=0`.
#[tokio::test]
async fn grafana_service_account_resources() {
    each_backend(|app| async move {
        let admin = app.admin();
        let created = admin
            .post(
                "/api/serviceaccounts",
                r#"{"name":"tf-sa","role":"Editor","isDisabled":false}"#,
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        let id = created.json["id"].as_i64().unwrap();
        assert_eq!(created.json["role"], "Editor");
        assert_eq!(created.json["isDisabled"], false);
        // Grafana's `ErrServiceAccountAlreadyExists` is a 400; the provider then searches.
        let again = admin
            .post(
                "/api/serviceaccounts",
                r#"{"name":"tf-sa","role":"Editor"}"#,
            )
            .await;
        assert_message(
            &again,
            StatusCode::BAD_REQUEST,
            "service account already exists",
        );
        let found = admin
            .get("/api/serviceaccounts/search?query=tf-sa&page=0")
            .await;
        assert_eq!(found.status, StatusCode::OK, "{found:?}");
        assert_eq!(found.json["serviceAccounts"][0]["id"], id);
        let read = admin.get(&format!("/api/serviceaccounts/{id}")).await;
        assert_eq!(
            (read.json["name"].as_str(), read.json["role"].as_str()),
            (Some("tf-sa"), Some("Editor"))
        );
        let res = admin
            .patch(
                &format!("/api/serviceaccounts/{id}"),
                r#"{"name":"tf-sa-2","role":"Viewer","isDisabled":true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["message"], "Service account updated");
        assert_eq!(res.json["serviceaccount"]["isDisabled"], true);
        let token = admin
            .post(
                &format!("/api/serviceaccounts/{id}/tokens"),
                r#"{"name":"tf-token","secondsToLive":3600}"#,
            )
            .await;
        assert_eq!(token.status, StatusCode::OK, "{token:?}");
        assert!(
            token.json["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("glsa_")),
            "{token:?}"
        );
        let token_id = token.json["id"].as_i64().unwrap();
        let listed = admin
            .get(&format!("/api/serviceaccounts/{id}/tokens"))
            .await
            .json;
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == token_id)
            .cloned()
            .unwrap();
        assert_eq!(row["name"], "tf-token");
        assert_eq!(row["hasExpired"], false);
        assert!(
            row["expiration"].as_str().is_some_and(|e| e.contains('T')),
            "{row}"
        );
        let res = admin
            .delete(&format!("/api/serviceaccounts/{id}/tokens/{token_id}"))
            .await;
        assert_message(&res, StatusCode::OK, "Service account token deleted");
        let res = admin.delete(&format!("/api/serviceaccounts/{id}")).await;
        assert_message(&res, StatusCode::OK, "Service account deleted");
        assert_eq!(
            admin
                .get(&format!("/api/serviceaccounts/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

/// `grafana_organization_preferences`: set, read back, and deleting the resource sends
/// `PUT /api/org/preferences {}`, which resets every field.
#[tokio::test]
async fn grafana_organization_preferences_resource() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin
            .put(
                "/api/org/preferences",
                r#"{"theme":"light","timezone":"browser","weekStart":"sunday"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Preferences updated");
        let prefs = admin.get("/api/org/preferences").await.json;
        assert_eq!(
            (
                prefs["theme"].as_str(),
                prefs["timezone"].as_str(),
                prefs["weekStart"].as_str()
            ),
            (Some("light"), Some("browser"), Some("sunday"))
        );
        let res = admin.put("/api/org/preferences", "{}").await;
        assert_message(&res, StatusCode::OK, "Preferences updated");
        let prefs = admin.get("/api/org/preferences").await.json;
        // Grafana 12 answers its preferences `Spec`, whose unset fields are omitted.
        assert_eq!(prefs, json!({}), "{prefs}");
    })
    .await;
}
