//! Service accounts, their tokens and bearer authentication (Grafana's
//! `pkg/services/serviceaccounts/api/api.go`, `token.go`, `pkg/services/authn/clients/api_key.go`,
//! `pkg/api/apikey.go`).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{assert_message, basic, each_backend, each_backend_with, each_db, TestApp};

/// Creates a service account in the admin's current org; returns its JSON.
async fn create_sa(app: &TestApp, name: &str, role: &str) -> Value {
    let res = app
        .admin()
        .post(
            "/api/serviceaccounts",
            &json!({"name": name, "role": role}).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
    res.json
}

/// Creates a token; returns (token id, secret).
async fn add_token(app: &TestApp, sa: i64, name: &str, ttl: Option<i64>) -> (i64, String) {
    let mut body = json!({"name": name});
    if let Some(ttl) = ttl {
        body["secondsToLive"] = json!(ttl);
    }
    let res = app
        .admin()
        .post(
            &format!("/api/serviceaccounts/{sa}/tokens"),
            &body.to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    (
        res.json["id"].as_i64().unwrap(),
        res.json["key"].as_str().unwrap().to_string(),
    )
}

/// Asserts Grafana's 401 body for a refused token.
#[track_caller]
fn assert_refused(res: &crate::TestResponse, message: &str, message_id: &str) {
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{res:?}");
    assert_eq!(
        res.json,
        json!({"extra": null, "message": message, "messageId": message_id,
               "statusCode": 401, "traceID": ""}),
    );
}

#[tokio::test]
async fn service_accounts_are_created_read_updated_and_deleted() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin
            .post(
                "/api/serviceaccounts",
                r#"{"name": "My Service", "role": "editor"}"#,
            )
            .await;
        // 201, Grafana's ServiceAccountDTO; the role is title-cased as Go's RoleType decodes it;
        // the login is `sa-<org>-<lower-case name, spaces as dashes>`; the create handler leaves
        // avatarUrl empty.
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        let sa = res.json.clone();
        let id = sa["id"].as_i64().unwrap();
        let uid = sa["uid"].as_str().unwrap().to_string();
        assert_eq!(
            sa,
            json!({"id": id, "uid": uid, "name": "My Service", "login": "sa-1-my-service",
                   "orgId": 1, "isDisabled": false, "role": "Editor", "tokens": 0,
                   "avatarUrl": ""})
        );

        // By id and by uid: Grafana's ServiceAccountProfileDTO (createdAt/updatedAt, teams null,
        // tokens left out while 0).
        for key in [id.to_string(), uid.clone()] {
            let res = admin.get(&format!("/api/serviceaccounts/{key}")).await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            let p = &res.json;
            assert_eq!(p["id"], id);
            assert_eq!(p["login"], "sa-1-my-service");
            assert_eq!(p["role"], "Editor");
            assert_eq!(p["teams"], Value::Null);
            assert!(p.get("tokens").is_none(), "{p}");
            assert_eq!(p["createdAt"], "2026-01-15T10:00:00Z");
            assert!(p["avatarUrl"].as_str().unwrap().starts_with("/avatar/"));
        }
        // Grafana's access-control metadata on request.
        let res = admin
            .get(&format!("/api/serviceaccounts/{id}?accesscontrol=true"))
            .await;
        assert_eq!(
            res.json["accessControl"],
            json!({"serviceaccounts:read": true, "serviceaccounts:write": true,
                   "serviceaccounts:delete": true, "serviceaccounts.permissions:read": true,
                   "serviceaccounts.permissions:write": true})
        );
        // grafana-client posts to the trailing-slash spelling, which Grafana also routes.
        let res = admin
            .post("/api/serviceaccounts/", r#"{"name": "slash"}"#)
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        assert_eq!(res.json["role"], "Viewer", "the default role");
        assert_message(
            &admin.get("/api/serviceaccounts/nosuchuid").await,
            StatusCode::NOT_FOUND,
            "Not found",
        );
        let res = admin.get("/api/serviceaccounts/99999").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(res.json["messageId"], "serviceaccounts.ErrNotFound");
        assert_eq!(res.json["message"], "service account not found");

        // Same name again: Grafana's 400 (the login is taken).
        let res = admin
            .post("/api/serviceaccounts", r#"{"name": "my service"}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(
            res.json,
            json!({"message": "service account already exists",
                   "messageId": "serviceaccounts.ErrAlreadyExists", "statusCode": 400,
                   "traceID": ""})
        );
        // Bad bodies.
        for body in [
            r#"{}"#,
            r#"{"name": ""}"#,
            r#"{"name": "x", "role": "Owner"}"#,
            r#"{"name": 5}"#,
            r#"{"name": "x", "isDisabled": "yes"}"#,
            r#"["name"]"#,
            "{",
        ] {
            let res = admin.post("/api/serviceaccounts", body).await;
            assert_message(&res, StatusCode::BAD_REQUEST, "bad request data");
        }

        // PATCH: name, role, disabled; the login never changes.
        let res = admin
            .patch(
                &format!("/api/serviceaccounts/{id}"),
                r#"{"name": "Renamed", "role": "Viewer", "isDisabled": true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["message"], "Service account updated");
        assert_eq!(res.json["id"], id);
        assert_eq!(res.json["name"], "Renamed");
        let p = &res.json["serviceaccount"];
        assert_eq!(
            (&p["name"], &p["role"], &p["isDisabled"], &p["login"]),
            (
                &json!("Renamed"),
                &json!("Viewer"),
                &json!(true),
                &json!("sa-1-my-service")
            )
        );
        assert_eq!(
            admin
                .patch("/api/serviceaccounts/99999", r#"{"name": "x"}"#)
                .await
                .json["messageId"],
            "serviceaccounts.ErrNotFound"
        );

        let res = admin.delete(&format!("/api/serviceaccounts/{id}")).await;
        assert_message(&res, StatusCode::OK, "Service account deleted");
        let res = admin.delete(&format!("/api/serviceaccounts/{id}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert_eq!(
            admin.get(&format!("/api/users/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn search_pages_filters_and_counts_tokens() {
    each_backend(|app| async move {
        for name in ["alpha", "beta", "gamma"] {
            create_sa(&app, name, "Viewer").await;
        }
        let beta = app
            .admin()
            .get("/api/serviceaccounts/search?query=bet")
            .await;
        assert_eq!(beta.status, StatusCode::OK, "{beta:?}");
        assert_eq!(beta.json["totalCount"], 1);
        assert_eq!(beta.json["page"], 1);
        assert_eq!(beta.json["perPage"], 1000, "Grafana's default page size");
        let beta_id = beta.json["serviceAccounts"][0]["id"].as_i64().unwrap();
        add_token(&app, beta_id, "t1", None).await;
        add_token(&app, beta_id, "t2", Some(60)).await;

        let res = app
            .admin()
            .get("/api/serviceaccounts/search?perpage=2&page=1")
            .await;
        assert_eq!(res.json["totalCount"], 3);
        let logins: Vec<&str> = res.json["serviceAccounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["login"].as_str().unwrap())
            .collect();
        assert_eq!(logins, ["sa-1-alpha", "sa-1-beta"]);
        assert_eq!(res.json["serviceAccounts"][1]["tokens"], 2);
        let res = app
            .admin()
            .get("/api/serviceaccounts/search?perpage=2&page=2")
            .await;
        assert_eq!(res.json["serviceAccounts"][0]["login"], "sa-1-gamma");

        // expiredTokens: none yet; after the clock passes the 60 s token, beta.
        let expired = "/api/serviceaccounts/search?expiredTokens=true";
        assert_eq!(app.admin().get(expired).await.json["totalCount"], 0);
        app.clock.advance(chrono::Duration::seconds(61));
        let res = app.admin().get(expired).await;
        assert_eq!(res.json["totalCount"], 1);
        assert_eq!(res.json["serviceAccounts"][0]["id"], beta_id);

        app.admin()
            .patch(
                &format!("/api/serviceaccounts/{beta_id}"),
                r#"{"isDisabled": true}"#,
            )
            .await;
        let res = app
            .admin()
            .get("/api/serviceaccounts/search?disabled=true")
            .await;
        assert_eq!(res.json["totalCount"], 1);

        // Our paging rule (as for every search): nonsense paging is a 400, not a silent default.
        assert_eq!(
            app.admin()
                .get("/api/serviceaccounts/search?perpage=-1")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );

        // Service accounts are no users: absent from user search, org users and user lookups.
        let users = app.admin().get("/api/users/search?perpage=100").await.json;
        assert_eq!(users["totalCount"], 1, "only admin: {users}");
        let org_users = app.admin().get("/api/org/users").await.json;
        assert_eq!(org_users.as_array().unwrap().len(), 1, "{org_users}");
        assert_eq!(
            app.admin()
                .get("/api/users/lookup?loginOrEmail=sa-1-alpha")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

/// The life of a token: created (secret shown once), used, listed without its secret, revoked
/// and refused on the very next request.
#[tokio::test]
async fn tokens_authenticate_until_revoked() {
    each_backend(|app| async move {
        let sa = create_sa(&app, "ci", "Admin").await;
        let sa_id = sa["id"].as_i64().unwrap();
        let (token_id, key) = add_token(&app, sa_id, "deploy", None).await;
        assert!(key.starts_with("glsa_") && key.len() == 46, "{key}");

        let bot = app.bearer(&key);
        let res = bot.get("/api/org").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["id"], 1);
        // Grafana 12 answers /api/user for a service account from the identity: id 0, uid
        // "service-account:<id>", zero times (`GetSignedInUser`, pkg/api/user.go).
        let res = bot.get("/api/user").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["id"], 0);
        assert_eq!(res.json["uid"], format!("service-account:{sa_id}"));
        assert_eq!(res.json["login"], "sa-1-ci");
        assert_eq!(res.json["name"], "ci");
        assert_eq!(res.json["authLabels"], Value::Null);
        assert_eq!(res.json["createdAt"], "0001-01-01T00:00:00Z");
        // User-only endpoints: Grafana's 304 with no body (`getUserID`, pkg/api/user.go).
        let res = bot
            .put(
                "/api/user/password",
                r#"{"oldPassword": "a", "newPassword": "bbbbbbbb"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_MODIFIED, "{res:?}");
        assert_eq!(res.text, "");
        assert_eq!(
            bot.get("/api/user/orgs").await.status,
            StatusCode::NOT_MODIFIED
        );
        // Also as the password of the user "api_key", as Grafana accepts it.
        let res = app
            .request(Method::GET, "/api/org", Some(&basic("api_key", &key)), None)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        // lastUsedAt is written off the request path.
        let mut last_used = Value::Null;
        for _ in 0..50 {
            let list = app
                .admin()
                .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
                .await;
            last_used = list.json[0]["lastUsedAt"].clone();
            if !last_used.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(last_used, "2026-01-15T10:00:00Z");

        let list = app
            .admin()
            .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(
            list.json,
            json!([{"id": token_id, "name": "deploy", "created": "2026-01-15T10:00:00Z",
                    "lastUsedAt": "2026-01-15T10:00:00Z", "expiration": null,
                    "secondsUntilExpiration": 0.0, "hasExpired": false, "isRevoked": false}])
        );
        assert!(!list.text.contains(&key[5..37]), "no secret in listings");
        let sa = app
            .admin()
            .get(&format!("/api/serviceaccounts/{sa_id}"))
            .await;
        assert_eq!(sa.json["tokens"], 1);

        // Revoke: refused at once.
        let res = app
            .admin()
            .delete(&format!("/api/serviceaccounts/{sa_id}/tokens/{token_id}"))
            .await;
        assert_message(&res, StatusCode::OK, "Service account token deleted");
        assert_refused(
            &bot.get("/api/org").await,
            "Invalid API key",
            "api-key.invalid",
        );
        let res = app
            .admin()
            .delete(&format!("/api/serviceaccounts/{sa_id}/tokens/{token_id}"))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(res.json["messageId"], "serviceaccounts.ErrTokenNotFound");
        assert_message(
            &app.admin()
                .delete(&format!("/api/serviceaccounts/{sa_id}/tokens/x"))
                .await,
            StatusCode::BAD_REQUEST,
            "Token ID is invalid",
        );

        // A deleted account's tokens go with it.
        let (_, key2) = add_token(&app, sa_id, "second", None).await;
        assert_eq!(
            app.bearer(&key2).get("/api/org").await.status,
            StatusCode::OK
        );
        app.admin()
            .delete(&format!("/api/serviceaccounts/{sa_id}"))
            .await;
        assert_refused(
            &app.bearer(&key2).get("/api/org").await,
            "Invalid API key",
            "api-key.invalid",
        );
    })
    .await;
}

#[tokio::test]
async fn malformed_unknown_and_mismatched_tokens_get_grafanas_401s() {
    each_backend(|app| async move {
        let sa = create_sa(&app, "ci", "Viewer").await;
        let (_, key) = add_token(&app, sa["id"].as_i64().unwrap(), "t", None).await;
        // Wrong checksum (last hex digit changed), garbage, an unknown well-formed token, a
        // Grafana Cloud token, a legacy key that is not base64 JSON. Grafana 11 answered a
        // well-formed unknown token with a bare "Unauthorized"; Grafana main (and we) say
        // api-key.invalid.
        let mut wrong_sum = key.clone();
        let last = wrong_sum.pop().unwrap();
        wrong_sum.push(if last == '0' { '1' } else { '0' });
        let unknown = "glsa_0123456789abcdefghijABCDEFGHIJkl_181dc044";
        for token in [
            wrong_sum.as_str(),
            "garbage",
            unknown,
            "glc_eyJvIjoiMSJ9",
            "eyJrIjoi",
            "",
        ] {
            assert_refused(
                &app.bearer(token).get("/api/org").await,
                "Invalid API key",
                "api-key.invalid",
            );
        }
        // Another org than the token's.
        let res = app
            .request_with(
                Method::GET,
                "/api/org",
                &[
                    ("authorization", &format!("Bearer {key}")),
                    ("x-grafana-org-id", "2"),
                ],
                None,
            )
            .await;
        assert_refused(
            &res,
            "API key does not belong to the requested organization",
            "api-key.organization-mismatch",
        );
        let res = app.bearer(&key).get("/api/org?targetOrgId=1").await;
        assert_eq!(res.status, StatusCode::OK, "its own org: {res:?}");
    })
    .await;
}

#[tokio::test]
async fn expired_and_disabled_are_refused() {
    each_backend(|app| async move {
        let sa_id = create_sa(&app, "ci", "Viewer").await["id"]
            .as_i64()
            .unwrap();
        let (_, key) = add_token(&app, sa_id, "short", Some(60)).await;
        let bot = app.bearer(&key);
        assert_eq!(bot.get("/api/org").await.status, StatusCode::OK);
        let list = app
            .admin()
            .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
            .await;
        assert_eq!(list.json[0]["expiration"], "2026-01-15T10:01:00Z");
        assert_eq!(list.json[0]["secondsUntilExpiration"], 60.0);
        assert_eq!(list.json[0]["hasExpired"], false);

        // The cached verification does not outlive the token.
        app.clock.advance(chrono::Duration::seconds(60));
        assert_refused(
            &bot.get("/api/org").await,
            "Expired API key",
            "api-key.expired",
        );
        let list = app
            .admin()
            .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
            .await;
        app.clock.advance(chrono::Duration::seconds(1));
        let list_after = app
            .admin()
            .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
            .await;
        // Grafana's list says "expired" only once the time is strictly past (`Before`), while
        // authentication refuses at the expiry second itself (`expires <= now`).
        assert_eq!(list.json[0]["hasExpired"], false);
        assert_eq!(list_after.json[0]["hasExpired"], true);
        assert_eq!(list_after.json[0]["secondsUntilExpiration"], 0.0);

        // Disabled account: Grafana's identity.disabled; enabled again: accepted.
        let (_, key) = add_token(&app, sa_id, "long", None).await;
        let bot = app.bearer(&key);
        assert_eq!(bot.get("/api/org").await.status, StatusCode::OK);
        app.admin()
            .patch(
                &format!("/api/serviceaccounts/{sa_id}"),
                r#"{"isDisabled": true}"#,
            )
            .await;
        assert_refused(
            &bot.get("/api/org").await,
            "Unauthorized",
            "identity.disabled",
        );
        app.admin()
            .patch(
                &format!("/api/serviceaccounts/{sa_id}"),
                r#"{"isDisabled": false}"#,
            )
            .await;
        assert_eq!(bot.get("/api/org").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn token_requests_are_validated() {
    each_backend_with(&[("auth", "api_key_max_seconds_to_live", "3600")], |app| async move {
        let sa_id = create_sa(&app, "ci", "Viewer").await["id"].as_i64().unwrap();
        let path = format!("/api/serviceaccounts/{sa_id}/tokens");
        let admin = app.admin();
        // Grafana's own bodies for the configured maximum (no messageId).
        assert_eq!(
            admin.post(&path, r#"{"name": "a"}"#).await.json,
            json!({"message": "Number of seconds before expiration should be set"})
        );
        assert_eq!(
            admin
                .post(&path, r#"{"name": "a", "secondsToLive": 3601}"#)
                .await
                .json,
            json!({"message": "Number of seconds before expiration is greater than the global limit"})
        );
        let res = admin
            .post(&path, r#"{"name": "a", "secondsToLive": -5}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            res.json,
            json!({"message": "invalid SecondsToLive value",
                   "messageId": "serviceaccounts.ErrInvalidInput", "statusCode": 400,
                   "traceID": ""})
        );
        let res = admin
            .post(&path, r#"{"name": "a", "secondsToLive": 3600}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // Names are unique in the org, across every account's tokens: 400, as Grafana.
        let other = create_sa(&app, "other", "Viewer").await["id"].as_i64().unwrap();
        let res = admin
            .post(
                &format!("/api/serviceaccounts/{other}/tokens"),
                r#"{"name": "a", "secondsToLive": 60}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(res.json["messageId"], "serviceaccounts.ErrTokenAlreadyExists");
        assert_eq!(
            res.json["message"],
            "service account token with given name already exists in the organization"
        );
        for body in [r#"{}"#, r#"{"name": ""}"#, r#"{"name": "b", "secondsToLive": "1"}"#] {
            assert_message(
                &admin.post(&path, body).await,
                StatusCode::BAD_REQUEST,
                "bad request data",
            );
        }
        let res = admin
            .post("/api/serviceaccounts/99999/tokens", r#"{"name": "z"}"#)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        // An unknown account has no tokens (Grafana does not check that it exists).
        let res = admin.get("/api/serviceaccounts/99999/tokens").await;
        assert_eq!((res.status, res.json.clone()), (StatusCode::OK, json!([])));
    })
    .await;
}

/// `[service_accounts] token_expiration_day_limit`: Grafana's plain-text 400 beyond it.
#[tokio::test]
async fn the_expiration_day_limit_is_enforced() {
    each_backend_with(&[("service_accounts", "token_expiration_day_limit", "1")], |app| async move {
        let sa_id = create_sa(&app, "ci", "Viewer").await["id"].as_i64().unwrap();
        let path = format!("/api/serviceaccounts/{sa_id}/tokens");
        let res = app
            .admin()
            .post(&path, r#"{"name": "far", "secondsToLive": 259200}"#)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert_eq!(
            res.text,
            "The expiration date input exceeds the limit for service account access tokens expiration date"
        );
        let res = app
            .admin()
            .post(&path, r#"{"name": "near", "secondsToLive": 3600}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

/// A token acts with its account's role: a Viewer reads but does not write; an Admin manages
/// its org but, never being a Grafana Admin, is refused the server-wide routes.
#[tokio::test]
async fn tokens_act_with_their_accounts_role() {
    each_backend(|app| async move {
        let viewer = create_sa(&app, "viewer bot", "Viewer").await["id"]
            .as_i64()
            .unwrap();
        let (_, viewer_key) = add_token(&app, viewer, "v", None).await;
        let admin_sa = create_sa(&app, "admin bot", "Admin").await["id"]
            .as_i64()
            .unwrap();
        let (_, admin_key) = add_token(&app, admin_sa, "a", None).await;

        let v = app.bearer(&viewer_key);
        assert_eq!(v.get("/api/org").await.status, StatusCode::OK);
        assert_eq!(
            v.post("/api/teams", r#"{"name": "T"}"#).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            v.put("/api/org", r#"{"name": "Renamed"}"#).await.status,
            StatusCode::FORBIDDEN
        );

        let a = app.bearer(&admin_key);
        let res = a.post("/api/teams", r#"{"name": "T"}"#).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // Service accounts may manage service accounts (Admin role), but not hand out more than
        // their own role… which for an Admin is everything in the org.
        let res = a
            .post(
                "/api/serviceaccounts",
                r#"{"name": "child", "role": "Admin"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        // Admin routes: Grafana refuses every token (no Grafana Admin role).
        for (method, path) in [
            (Method::GET, "/api/users/search"),
            (Method::GET, "/api/admin/settings"),
            (Method::GET, "/api/orgs"),
        ] {
            let res = app
                .request(method, path, Some(&format!("Bearer {admin_key}")), None)
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
        }
        let res = a.post("/api/admin/users", "{}").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.json["message"]
            .as_str()
            .unwrap()
            .ends_with("Permissions needed: users:create"));
    })
    .await;
}

/// Beyond Grafana (grafana/grafana#71436): a global custom role assigned to a service account
/// gives its tokens server-wide permissions, so automation can manage users without a password.
#[tokio::test]
async fn a_global_role_opens_admin_routes_to_a_token() {
    each_backend(|app| async move {
        let sa = create_sa(&app, "provisioner", "Viewer").await["id"]
            .as_i64()
            .unwrap();
        let (_, key) = add_token(&app, sa, "p", None).await;
        let bot = app.bearer(&key);
        let new_user = json!({"login": "made-by-bot", "password": "password1"}).to_string();
        assert_eq!(
            bot.post("/api/admin/users", &new_user).await.status,
            StatusCode::FORBIDDEN
        );
        let role = json!({"uid": "user-admin", "name": "custom:user-admin", "global": true,
                          "version": 1,
                          "permissions": [{"action": "users:create"},
                                          {"action": "users:read", "scope": "global.users:*"}]});
        let res = app
            .admin()
            .post("/api/access-control/roles", &role.to_string())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = app
            .admin()
            .post(
                &format!("/api/access-control/users/{sa}/roles"),
                r#"{"roleUid": "user-admin", "global": true}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = bot.post("/api/admin/users", &new_user).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = bot.get("/api/users/search?query=made-by").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["totalCount"], 1);
        // Only what the role grants.
        assert_eq!(
            bot.delete(&format!("/api/admin/users/{}", res.json["users"][0]["id"]))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

/// Editors get no service-account permissions; a custom role may give them `create`, but not
/// the power to hand out a role above their own (Grafana's `validateRole`).
#[tokio::test]
async fn creators_cannot_hand_out_more_than_their_role() {
    each_backend(|app| async move {
        let id = app.create_user("ed", "password1").await;
        app.set_org_role(id, "Editor").await;
        let ed = app.as_user("ed", "password1");
        let res = ed.post("/api/serviceaccounts", r#"{"name": "x"}"#).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let role = json!({"uid": "sa-creators", "name": "custom:sa-creators", "version": 1,
                          "permissions": [{"action": "serviceaccounts:create"}]});
        app.admin()
            .post("/api/access-control/roles", &role.to_string())
            .await;
        let res = app
            .admin()
            .post(
                "/api/access-control/builtin-roles",
                r#"{"roleUid": "sa-creators", "builtinRole": "Editor"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = ed
            .post("/api/serviceaccounts", r#"{"name": "x", "role": "Admin"}"#)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            res.json,
            json!({"message": "can not assign a role higher than user's role",
                   "messageId": "serviceaccounts.ErrRoleForbidden", "statusCode": 403,
                   "traceID": ""})
        );
        let res = ed
            .post("/api/serviceaccounts", r#"{"name": "x", "role": "Editor"}"#)
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
    })
    .await;
}

/// A token revoked through one instance is refused by another on its next request: PostgreSQL
/// and MySQL read the token's row on every request (only the hash is cached). SQLite, one
/// server per database file, trusts a verified row for up to 1 s.
#[tokio::test]
async fn revocation_through_another_instance_applies_on_the_next_request() {
    each_db(|db| async move {
        let one = TestApp::start(&db, &[]).await;
        let two = TestApp::start(&db, &[]).await;
        let sa = create_sa(&one, "ci", "Viewer").await["id"]
            .as_i64()
            .unwrap();
        let (token_id, key) = add_token(&one, sa, "t", None).await;
        assert_eq!(
            two.bearer(&key).get("/api/org").await.status,
            StatusCode::OK
        );
        assert_eq!(
            two.bearer(&key).get("/api/org").await.status,
            StatusCode::OK
        );
        one.admin()
            .delete(&format!("/api/serviceaccounts/{sa}/tokens/{token_id}"))
            .await;
        if matches!(db.backend, crate::Backend::Sqlite) {
            assert_eq!(
                two.bearer(&key).get("/api/org").await.status,
                StatusCode::OK,
                "SQLite: within the 1 s revalidation interval"
            );
            two.clock.advance(chrono::Duration::seconds(1));
        }
        assert_refused(
            &two.bearer(&key).get("/api/org").await,
            "Invalid API key",
            "api-key.invalid",
        );
        db
    })
    .await;
}

/// A legacy key as Grafana stored it (base64 JSON client token; PBKDF2 of the secret salted
/// with the key name, computed independently with Python's hashlib) keeps working after the
/// move: at start-up it becomes a service account, as Grafana 12 migrates keys.
#[tokio::test]
async fn legacy_api_keys_are_migrated_and_keep_working() {
    each_db(|db| async move {
        let app = TestApp::start(&db, &[]).await;
        drop(app);
        // {"k":"Kx8mYwq2Rr5NBU2TbC8Vh3Dp7LsQ0jzA","n":"ci-key","id":1}
        let client = "eyJrIjoiS3g4bVl3cTJScjVOQlUyVGJDOFZoM0RwN0xzUTBqekEiLCJuIjoiY2kta2V5IiwiaWQiOjF9";
        let hash = "a0389ac2d9f2acc6f1f3e43c66f0b3f0c9fe532d9502c929cbc131d57a98f246dc2afe9eb8ccd57fb045b0fb758f96494824";
        db.execute(&format!(
            "INSERT INTO api_key (org_id, name, {{key}}, role, created, updated, expires) \
             VALUES (1, 'ci-key', '{hash}', 'Editor', '2025-01-01 00:00:00', \
             '2025-01-01 00:00:00', NULL)"
        ))
        .await;
        let app = TestApp::start(&db, &[]).await;
        let res = app.bearer(client).get("/api/org").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // It acts as its new service account, with the key's role.
        let res = app
            .admin()
            .get("/api/serviceaccounts/search?query=autogen")
            .await;
        assert_eq!(res.json["totalCount"], 1, "{res:?}");
        let sa = &res.json["serviceAccounts"][0];
        assert_eq!(sa["name"], "sa-autogen-ci-key");
        assert_eq!(sa["login"], "sa-autogen-1-ci-key");
        assert_eq!(sa["role"], "Editor");
        assert_eq!(sa["tokens"], 1);
        let me = app.bearer(client).get("/api/user").await;
        assert_eq!(me.json["uid"], format!("service-account:{}", sa["id"]));
        // Migrated keys are service-account tokens now: no longer legacy keys.
        let res = app.admin().get("/api/auth/keys").await;
        assert_eq!((res.status, res.json.clone()), (StatusCode::OK, json!([])));
        // A second start migrates nothing more.
        let again = TestApp::start(&db, &[]).await;
        let res = again
            .admin()
            .get("/api/serviceaccounts/search?query=autogen")
            .await;
        assert_eq!(res.json["totalCount"], 1);
        // A key with the right secret but another name is refused.
        let renamed = "eyJrIjoiS3g4bVl3cTJScjVOQlUyVGJDOFZoM0RwN0xzUTBqekEiLCJuIjoib3RoZXIiLCJpZCI6MX0=";
        assert_refused(
            &again.bearer(renamed).get("/api/org").await,
            "Invalid API key",
            "api-key.invalid",
        );
        db
    })
    .await;
}

/// `/api/auth/keys` as Grafana 12 keeps it (`pkg/api/apikey.go`): creating keys is gone.
#[tokio::test]
async fn legacy_key_endpoints_behave_as_grafana_12() {
    each_backend(|app| async move {
        let res = app
            .admin()
            .post("/api/auth/keys", r#"{"name": "k", "role": "Admin"}"#)
            .await;
        assert_message(
            &res,
            StatusCode::GONE,
            "this endpoint has been removed, please use POST /api/serviceaccounts and POST /api/serviceaccounts/{id}/tokens instead",
        );
        let res = app.admin().get("/api/auth/keys?includeExpired=true").await;
        assert_eq!((res.status, res.json.clone()), (StatusCode::OK, json!([])));
        assert_message(
            &app.admin().delete("/api/auth/keys/12345").await,
            StatusCode::NOT_FOUND,
            "Failed to delete API key",
        );
        assert_message(
            &app.admin().delete("/api/auth/keys/abc").await,
            StatusCode::BAD_REQUEST,
            "id is invalid",
        );
    })
    .await;
}

/// A legacy key written while the server runs (by a Grafana instance sharing the database) is
/// listed and can be deleted; it is migrated at the next start.
#[tokio::test]
async fn legacy_keys_written_meanwhile_are_listed_and_deleted() {
    each_db(|db| async move {
        let app = TestApp::start(&db, &[]).await;
        db.execute(
            "INSERT INTO api_key (org_id, name, {key}, role, created, updated, expires) \
             VALUES (1, 'old', 'not-a-real-hash', 'Viewer', '2025-01-01 00:00:00', \
             '2025-01-01 00:00:00', 4102444800)",
        )
        .await;
        let res = app.admin().get("/api/auth/keys").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let id = res.json[0]["id"].as_i64().unwrap();
        assert_eq!(
            res.json,
            json!([{"id": id, "name": "old", "role": "Viewer",
                    "expiration": "2100-01-01T00:00:00Z"}])
        );
        assert_message(
            &app.admin().delete(&format!("/api/auth/keys/{id}")).await,
            StatusCode::OK,
            "API key deleted",
        );
        assert_eq!(app.admin().get("/api/auth/keys").await.json, json!([]));
        db
    })
    .await;
}

/// Deleting an org takes its service accounts and their tokens with it.
#[tokio::test]
async fn deleting_an_org_removes_its_service_accounts() {
    each_backend(|app| async move {
        let org = app
            .admin()
            .post("/api/orgs", r#"{"name": "Other"}"#)
            .await
            .json["orgId"]
            .as_i64()
            .unwrap();
        let in_other = |method: Method, path: &str, body: Option<&str>| {
            let auth = basic("admin", "admin");
            let org = org.to_string();
            let path = path.to_string();
            let body = body.map(str::to_string);
            let app = &app;
            async move {
                app.request_with(
                    method,
                    &path,
                    &[("authorization", &auth), ("x-grafana-org-id", &org)],
                    body.as_deref(),
                )
                .await
            }
        };
        let res = in_other(
            Method::POST,
            "/api/serviceaccounts",
            Some(r#"{"name": "bot"}"#),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
        assert_eq!(res.json["login"], format!("sa-{org}-bot"));
        assert_eq!(res.json["orgId"], org);
        let sa = res.json["id"].as_i64().unwrap();
        let res = in_other(
            Method::POST,
            &format!("/api/serviceaccounts/{sa}/tokens"),
            Some(r#"{"name": "t"}"#),
        )
        .await;
        let key = res.json["key"].as_str().unwrap().to_string();
        let res = app.bearer(&key).get("/api/org").await;
        assert_eq!(res.json["id"], org, "acts in its own org");
        // Not visible from Main Org.
        assert_eq!(
            app.admin()
                .get(&format!("/api/serviceaccounts/{sa}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let res = app.admin().delete(&format!("/api/orgs/{org}")).await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_refused(
            &app.bearer(&key).get("/api/org").await,
            "Invalid API key",
            "api-key.invalid",
        );
        // The same name may be used again in another org.
        create_sa(&app, "bot", "Viewer").await;
    })
    .await;
}

/// Guessing tokens is throttled like guessing passwords: an address past
/// `[security] ip_address_login_protection_max_attempts` unknown tokens in the 5-minute window
/// gets no more verifications for tokens it has not used before (the same 401), while tokens it
/// already verified keep working; malformed tokens cost nothing and do not count.
#[tokio::test]
async fn guessing_tokens_is_throttled_per_address() {
    each_backend_with(
        &[("security", "ip_address_login_protection_max_attempts", "3")],
        |app| async move {
            let sa = create_sa(&app, "ci", "Viewer").await["id"]
                .as_i64()
                .unwrap();
            let (_, used) = add_token(&app, sa, "used", None).await;
            let (_, fresh) = add_token(&app, sa, "fresh", None).await;
            assert_eq!(
                app.bearer(&used).get("/api/org").await.status,
                StatusCode::OK
            );
            for _ in 0..10 {
                assert_refused(
                    &app.bearer("glsa_garbage").get("/api/org").await,
                    "Invalid API key",
                    "api-key.invalid",
                );
            }
            let unknown = "glsa_0123456789abcdefghijABCDEFGHIJkl_181dc044";
            for _ in 0..3 {
                assert_refused(
                    &app.bearer(unknown).get("/api/org").await,
                    "Invalid API key",
                    "api-key.invalid",
                );
            }
            assert_refused(
                &app.bearer(&fresh).get("/api/org").await,
                "Invalid API key",
                "api-key.invalid",
            );
            assert_eq!(
                app.bearer(&used).get("/api/org").await.status,
                StatusCode::OK,
                "already verified"
            );
            app.clock.advance(chrono::Duration::seconds(301));
            assert_eq!(
                app.bearer(&fresh).get("/api/org").await.status,
                StatusCode::OK
            );
        },
    )
    .await;
}
