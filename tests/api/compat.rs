//! Issue #14: what real Grafana clients (backup tools, client libraries, the Terraform provider)
//! tripped on, each settled from Grafana's newest source (cited per test).

use axum::http::StatusCode;

use crate::{assert_message, each_backend};

/// Grafana matches a path with one trailing `/` trimmed (pkg/web/tree.go, `Tree.Match`): a
/// backup tool's first call is `GET /api/search/`.
#[tokio::test]
async fn every_route_answers_with_a_trailing_slash() {
    each_backend(|app| async move {
        let admin = app.admin();
        for path in [
            "/api/search/?type=dash-db",
            "/api/users/",
            "/api/users/search/?perpage=5",
            "/api/teams/search/",
            "/api/org/users/",
            "/api/user/",
            "/api/users/1/",
        ] {
            let res = admin.get(path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        }
        let team = admin.post("/api/teams/", r#"{"name":"Slash"}"#).await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        assert_eq!(
            admin.get("/api/teams/search/?name=Slash").await.json["totalCount"],
            1
        );
        // Only one slash is trimmed, as Grafana trims one.
        assert_message(
            &admin.get("/api/users//").await,
            StatusCode::NOT_FOUND,
            "Not found",
        );
    })
    .await;
}

/// A service account and one of its tokens' secrets.
async fn service_account_token(app: &crate::TestApp, role: &str) -> (i64, String) {
    let sa = app
        .admin()
        .post(
            "/api/serviceaccounts",
            &serde_json::json!({"name": format!("sa-{role}"), "role": role}).to_string(),
        )
        .await;
    assert_eq!(sa.status, StatusCode::CREATED, "{sa:?}");
    let id = sa.json["id"].as_i64().unwrap();
    let token = app
        .admin()
        .post(
            &format!("/api/serviceaccounts/{id}/tokens"),
            r#"{"name":"t"}"#,
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{token:?}");
    (id, token.json["key"].as_str().unwrap().to_string())
}

/// Grafana 11.3+ takes a user's uid wherever a user id goes in a path
/// (pkg/api/api.go `middlewareUserUIDResolver`, `user.UIDToIDHandler`): a number is an id,
/// anything else a uid; an unknown uid is 404 "User not found". The scoped permission is
/// checked against the resolved id.
#[tokio::test]
async fn user_paths_take_uids() {
    each_backend(|app| async move {
        let admin = app.admin();
        let id = app.create_user("uida", "password-a").await;
        let uid = admin.get(&format!("/api/users/{id}")).await.json["uid"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!uid.is_empty() && uid.parse::<i64>().is_err(), "{uid}");
        let by_uid = admin.get(&format!("/api/users/{uid}")).await;
        assert_eq!(by_uid.status, StatusCode::OK, "{by_uid:?}");
        assert_eq!(by_uid.json["id"], id);
        for path in [
            format!("/api/users/{uid}/orgs"),
            format!("/api/users/{uid}/teams"),
            format!("/api/admin/users/{uid}/auth-tokens"),
        ] {
            let res = admin.get(&path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        }
        let res = admin
            .put(
                &format!("/api/users/{uid}"),
                r#"{"login":"uida","email":"uida@example.com","name":"By Uid"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        assert_eq!(
            admin.get(&format!("/api/users/{id}")).await.json["name"],
            "By Uid"
        );
        let res = admin
            .post(&format!("/api/admin/users/{uid}/logout"), "")
            .await;
        assert_message(&res, StatusCode::OK, "User logged out");
        // The caller's own uid is refused as their id is (`AdminLogoutUser` after the resolver).
        let own = admin.get("/api/user").await.json["uid"]
            .as_str()
            .unwrap()
            .to_string();
        let res = admin
            .post(&format!("/api/admin/users/{own}/logout"), "")
            .await;
        assert_message(&res, StatusCode::BAD_REQUEST, "You cannot logout yourself");
        let res = admin
            .post(&format!("/api/admin/users/{uid}/disable"), "")
            .await;
        assert_message(&res, StatusCode::OK, "User disabled");
        let res = admin
            .patch(&format!("/api/orgs/1/users/{uid}"), r#"{"role":"Editor"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization user updated");
        let res = admin
            .patch(&format!("/api/org/users/{uid}"), r#"{"role":"Viewer"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Organization user updated");
        // Unknown uids, and values that are neither a 64-bit number nor a known uid.
        for path in [
            "/api/users/no-such-uid",
            "/api/users/1x",
            "/api/users/99999999999999999999999",
            "/api/admin/users/no-such-uid/auth-tokens",
        ] {
            assert_message(
                &admin.get(path).await,
                StatusCode::NOT_FOUND,
                "User not found",
            );
        }
        assert_message(
            &admin.delete("/api/orgs/1/users/no-such-uid").await,
            StatusCode::NOT_FOUND,
            "User not found",
        );
        // The resolved id is what the permission is checked on: an ordinary user is still
        // refused another user's profile by uid, and is not told whether a uid exists.
        app.create_user("plain", "password-p").await;
        let plain = app.as_user("plain", "password-p");
        assert_eq!(
            plain.get(&format!("/api/users/{uid}")).await.status,
            StatusCode::FORBIDDEN
        );
        // Differs from Grafana on purpose: its resolver answers 404 for an unknown uid before it
        // authorizes, which tells anyone signed in which uids exist. Here a caller without the
        // permission is refused alike for a uid that exists and one that does not.
        for path in [
            "/api/users/no-such-uid",
            "/api/users/no-such-uid/orgs",
            "/api/admin/users/no-such-uid/lockout",
        ] {
            assert_eq!(
                plain.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        assert_eq!(
            plain
                .put("/api/users/no-such-uid", r#"{"login":"x"}"#)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Unauthenticated: 401 before any lookup.
        assert_eq!(
            app.anonymous()
                .get(&format!("/api/users/{uid}"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

/// Team paths take the team's uid too (Grafana's team routes resolve `:teamId` the same way);
/// `POST /api/teams` answers `{message, teamId, uid}` and a team carries `uid` and `orgId`.
#[tokio::test]
async fn team_paths_take_uids() {
    each_backend(|app| async move {
        let admin = app.admin();
        let created = admin.post("/api/teams", r#"{"name":"Uid Team"}"#).await;
        assert_eq!(created.status, StatusCode::OK, "{created:?}");
        assert_eq!(created.json["message"], "Team created");
        let id = created.json["teamId"].as_i64().unwrap();
        let uid = created.json["uid"].as_str().unwrap().to_string();
        let team = admin.get(&format!("/api/teams/{uid}")).await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        assert_eq!(
            (team.json["id"].as_i64(), team.json["orgId"].as_i64()),
            (Some(id), Some(1))
        );
        assert_eq!(team.json["uid"], uid.as_str());
        let member = app.create_user("tuid", "password-t").await;
        let res = admin
            .post(
                &format!("/api/teams/{uid}/members"),
                &format!(r#"{{"userId":{member}}}"#),
            )
            .await;
        assert_message(&res, StatusCode::OK, "Member added to Team");
        let members = admin.get(&format!("/api/teams/{uid}/members")).await;
        assert_eq!(members.status, StatusCode::OK, "{members:?}");
        let row = members
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["userId"] == member)
            .cloned()
            .unwrap();
        // Grafana 12's member fields.
        assert_eq!(row["teamUID"], uid.as_str());
        assert!(
            row["userUID"].as_str().is_some_and(|u| !u.is_empty()),
            "{row}"
        );
        assert!(row["labels"].is_array(), "{row}");
        let user_uid = row["userUID"].as_str().unwrap().to_string();
        let res = admin
            .delete(&format!("/api/teams/{uid}/members/{user_uid}"))
            .await;
        assert_message(&res, StatusCode::OK, "Team Member removed");
        let res = admin
            .put(&format!("/api/teams/{uid}"), r#"{"name":"Uid Team 2"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Team updated");
        assert_eq!(
            admin
                .get(&format!("/api/teams/{uid}/preferences"))
                .await
                .status,
            StatusCode::OK
        );
        assert_message(
            &admin.get("/api/teams/no-such-team").await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );
        // A plain member is refused alike for the team's uid and an unknown one (see
        // `user_paths_take_uids`: no existence oracle).
        app.create_user("outsider", "password-o").await;
        let outsider = app.as_user("outsider", "password-o");
        for path in [
            format!("/api/teams/{uid}/members"),
            "/api/teams/no-such-team/members".to_string(),
        ] {
            assert_eq!(
                outsider.get(&path).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let res = admin.delete(&format!("/api/teams/{uid}")).await;
        assert_message(&res, StatusCode::OK, "Team deleted");
    })
    .await;
}

/// `GET /api/users/lookup` (pkg/api/user.go `GetUserByLoginOrEmail`): the profile is built
/// without the auth-info lookup, so `authLabels` is `null`; an empty or missing `loginOrEmail`
/// is looked up like any other value and not found.
#[tokio::test]
async fn user_lookup_as_grafana_answers_it() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin.get("/api/users/lookup?loginOrEmail=admin").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert!(res.json["authLabels"].is_null(), "{res:?}");
        assert_eq!(res.json["login"], "admin");
        for path in [
            "/api/users/lookup",
            "/api/users/lookup?loginOrEmail=",
            "/api/users/lookup?loginOrEmail=nobody",
        ] {
            assert_message(
                &admin.get(path).await,
                StatusCode::NOT_FOUND,
                "user not found",
            );
        }
    })
    .await;
}

/// `PUT /api/users/:id` and `PUT /api/user` (pkg/api/user.go `handleUpdateUser`): without a
/// login the email is the login; with neither it is a 400.
#[tokio::test]
async fn an_update_without_login_takes_the_email_as_login() {
    each_backend(|app| async move {
        let admin = app.admin();
        let id = app.create_user("mail", "password-m").await;
        let res = admin
            .put(
                &format!("/api/users/{id}"),
                r#"{"email":"new-mail@example.com","name":"N"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "User updated");
        let user = admin.get(&format!("/api/users/{id}")).await.json;
        assert_eq!(
            (user["login"].as_str(), user["email"].as_str()),
            (Some("new-mail@example.com"), Some("new-mail@example.com"))
        );
        for body in [
            r#"{"name":"Only a name"}"#,
            r#"{"theme":"dark"}"#,
            r#"{"login":"","email":""}"#,
        ] {
            assert_message(
                &admin.put(&format!("/api/users/{id}"), body).await,
                StatusCode::BAD_REQUEST,
                "Validation error, need to specify either username or email",
            );
            assert_message(
                &app.as_user("new-mail@example.com", "password-m")
                    .put("/api/user", body)
                    .await,
                StatusCode::BAD_REQUEST,
                "Validation error, need to specify either username or email",
            );
        }
        // Nothing was changed by the refusals.
        assert_eq!(
            admin.get(&format!("/api/users/{id}")).await.json["name"],
            "N"
        );
    })
    .await;
}

/// Switching orgs (pkg/api/user.go `UpdateUserActiveOrg`, `UserSetUsingOrg`): an unknown user
/// has no memberships, so 401 "Not a valid organization"; the signed-in user's route names its
/// parameter `:id`, so an unparsable one is 400 "id is invalid".
#[tokio::test]
async fn switching_orgs_answers_as_grafana() {
    each_backend(|app| async move {
        let admin = app.admin();
        assert_message(
            &admin.post("/api/users/99999/using/1", "").await,
            StatusCode::UNAUTHORIZED,
            "Not a valid organization",
        );
        assert_message(
            &admin.post("/api/user/using/abc", "").await,
            StatusCode::BAD_REQUEST,
            "id is invalid",
        );
        assert_message(
            &admin.post("/api/users/1/using/abc", "").await,
            StatusCode::BAD_REQUEST,
            "orgId is invalid",
        );
        assert_message(
            &admin.post("/api/users/1/using/1", "").await,
            StatusCode::OK,
            "Active organization changed",
        );
    })
    .await;
}

/// Only people have sessions (pkg/api/user_token.go `GetUserAuthTokens`,
/// `RevokeUserAuthToken`): a service account's token is refused with Grafana's messages.
#[tokio::test]
async fn service_accounts_have_no_sessions_to_list() {
    each_backend(|app| async move {
        let (_, token) = service_account_token(&app, "Admin").await;
        let sa = app.bearer(&token);
        assert_message(
            &sa.get("/api/user/auth-tokens").await,
            StatusCode::FORBIDDEN,
            "entity not allowed to get tokens",
        );
        assert_message(
            &sa.post("/api/user/revoke-auth-token", r#"{"authTokenId":1}"#)
                .await,
            StatusCode::FORBIDDEN,
            "entity not allowed to revoke tokens",
        );
    })
    .await;
}

/// The Terraform provider's fallback lookup after a failed create starts at `page=0`; Grafana
/// treats a page below 1 as page 1 on every paged route (e.g. pkg/api/user.go `searchUser`,
/// pkg/services/serviceaccounts/api/api.go `SearchOrgServiceAccountsWithPaging`).
#[tokio::test]
async fn page_zero_is_the_first_page_everywhere() {
    each_backend(|app| async move {
        service_account_token(&app, "Viewer").await;
        let admin = app.admin();
        let team = admin.post("/api/teams", r#"{"name":"Page Zero"}"#).await;
        assert_eq!(team.status, StatusCode::OK, "{team:?}");
        for (path, field) in [
            (
                "/api/serviceaccounts/search?page=0&perpage=10",
                "serviceAccounts",
            ),
            ("/api/users/search?page=0&perpage=10", "users"),
            ("/api/org/users/search?page=0&perpage=10", "orgUsers"),
            ("/api/teams/search?page=0&perpage=10", "teams"),
        ] {
            let res = admin.get(path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
            assert!(
                !res.json[field].as_array().unwrap().is_empty(),
                "{path}: {res:?}"
            );
            assert_eq!(res.json["page"], 1, "{path}: {res:?}");
        }
        let res = admin.get("/api/users?page=0&perpage=10").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let res = admin.get("/api/search?page=0").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
    })
    .await;
}

/// Grafana 12's DTO fields (pkg/services/user/model.go `UserProfileDTO`,
/// pkg/services/team/model.go `TeamDTO`, `TeamMemberDTO`): clients that decode into typed
/// structs (the Terraform provider's Go client) read them.
#[tokio::test]
async fn user_and_team_shapes_carry_grafana_12_fields() {
    each_backend(|app| async move {
        let admin = app.admin();
        let id = app.create_user("shape", "password-s").await;
        let profile = admin.get(&format!("/api/users/{id}")).await.json;
        for field in [
            "isProvisioned",
            "isExternallySynced",
            "isGrafanaAdminExternallySynced",
            "isExternal",
        ] {
            assert_eq!(profile[field], false, "{field}: {profile}");
        }
        assert!(
            profile["uid"].as_str().is_some_and(|u| !u.is_empty()),
            "{profile}"
        );
        let hit = &admin.get("/api/users/search?query=shape").await.json["users"][0];
        assert_eq!(hit["isProvisioned"], false, "{hit}");
        assert!(hit["uid"].as_str().is_some_and(|u| !u.is_empty()), "{hit}");
        let created = admin
            .post("/api/teams", r#"{"name":"Shape Team"}"#)
            .await
            .json;
        let team = admin
            .get(&format!("/api/teams/{}", created["teamId"]))
            .await
            .json;
        assert_eq!(team["isProvisioned"], false, "{team}");
        assert_eq!(team["externalUID"], "", "{team}");
        assert_eq!(team["orgId"], 1, "{team}");
        let search = admin.get("/api/teams/search?name=Shape%20Team").await.json;
        assert_eq!(search["teams"][0]["uid"], created["uid"], "{search}");
    })
    .await;
}
