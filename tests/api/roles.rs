//! The role matrix: every basic role against the routes of the User, Admin, Org, Orgs and Team
//! APIs, allowed or 403, as Grafana 12's fixed roles grant them (`pkg/services/accesscontrol/
//! roles.go`, `pkg/api/accesscontrol.go`, `pkg/services/team/teamapi/api.go`). A request counts
//! as allowed when it gets past the access check (its answer may then be a 400 or 404: the bodies
//! and ids used are chosen so that allowed requests change nothing).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{basic, each_backend_with};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoRole,
    Viewer,
    Editor,
    Admin,
    ServerAdmin,
}

use Who::*;

const MEMBERS: &[Who] = &[Viewer, Editor, Admin, ServerAdmin];
const ORG_ADMINS: &[Who] = &[Admin, ServerAdmin];
const SERVER: &[Who] = &[ServerAdmin];
/// Grafana grants team management (`fixed:teams:writer`, `fixed:teams:creator`) to the org
/// Admin role only: a Grafana Admin who is a Viewer of the org is no team manager there.
const TEAM_MANAGERS: &[Who] = &[Admin];
const EVERYONE: &[Who] = &[NoRole, Viewer, Editor, Admin, ServerAdmin];
/// Service accounts and API keys: Grafana's fixed:serviceaccounts:* and fixed:apikeys roles go to
/// the org Admin role only (`pkg/services/serviceaccounts/manager/roles.go`); being Grafana Admin
/// adds nothing.
const SA_MANAGERS: &[Who] = &[Admin];

#[tokio::test]
async fn each_basic_role_gets_exactly_its_routes() {
    // Quotas on, so that their routes answer rather than report them disabled (also a 403).
    each_backend_with(&[("quota", "enabled", "true")], |app| async move {
        // One user per role in Main Org.; the server admin is an org Viewer there, so that what
        // they may do comes from Grafana Admin alone.
        let mut ids = Vec::new();
        for (login, role) in [
            ("r_none", "None"),
            ("r_viewer", "Viewer"),
            ("r_editor", "Editor"),
            ("r_admin", "Admin"),
            ("r_server", "Viewer"),
        ] {
            let id = app.create_user(login, "password1").await;
            let res = app
                .admin()
                .patch(
                    &format!("/api/orgs/1/users/{id}"),
                    &json!({"role": role}).to_string(),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{res:?}");
            ids.push(id);
        }
        app.admin()
            .put(
                &format!("/api/admin/users/{}/permissions", ids[4]),
                r#"{"isGrafanaAdmin": true}"#,
            )
            .await;
        let other_org = app
            .admin()
            .post("/api/orgs", r#"{"name": "Other"}"#)
            .await
            .json["orgId"]
            .as_i64()
            .unwrap();
        let team = app
            .admin()
            .post("/api/teams", r#"{"name": "T"}"#)
            .await
            .json["teamId"]
            .as_i64()
            .unwrap();
        let target = ids[1];

        let routes: Vec<(Method, String, Option<&str>, &[Who])> = vec![
            (Method::GET, "/api/user".into(), None, EVERYONE),
            (Method::GET, "/api/user/orgs".into(), None, EVERYONE),
            (Method::GET, "/api/user/auth-tokens".into(), None, EVERYONE),
            // Grafana's `reqSignedIn` only (`pkg/api/api.go`).
            (Method::GET, "/api/frontend/settings".into(), None, EVERYONE),
            (Method::GET, "/api/dashboards/tags".into(), None, EVERYONE),
            (Method::GET, "/api/dashboards/home".into(), None, EVERYONE),
            // datasources:read, granted to Viewer in Grafana OSS (`pkg/api/accesscontrol.go`).
            (Method::GET, "/api/datasources".into(), None, MEMBERS),
            (Method::GET, "/api/org".into(), None, MEMBERS),
            (Method::PUT, "/api/org".into(), Some("{}"), ORG_ADMINS),
            (
                Method::PUT,
                "/api/org/address".into(),
                Some("[]"),
                ORG_ADMINS,
            ),
            (Method::GET, "/api/org/users".into(), None, ORG_ADMINS),
            (
                Method::GET,
                "/api/org/users/search".into(),
                None,
                ORG_ADMINS,
            ),
            (
                Method::GET,
                "/api/org/users/lookup".into(),
                None,
                ORG_ADMINS,
            ),
            (
                Method::POST,
                "/api/org/users".into(),
                Some("{}"),
                ORG_ADMINS,
            ),
            (
                Method::PATCH,
                "/api/org/users/99999".into(),
                Some("{}"),
                ORG_ADMINS,
            ),
            (
                Method::DELETE,
                "/api/org/users/99999".into(),
                None,
                ORG_ADMINS,
            ),
            (Method::GET, "/api/orgs".into(), None, SERVER),
            (Method::POST, "/api/orgs".into(), Some("{}"), SERVER),
            (Method::GET, "/api/orgs/name/nope".into(), None, SERVER),
            (Method::GET, "/api/orgs/1".into(), None, MEMBERS),
            (Method::GET, format!("/api/orgs/{other_org}"), None, SERVER),
            (Method::PUT, "/api/orgs/1".into(), Some("{}"), ORG_ADMINS),
            (Method::DELETE, "/api/orgs/99999".into(), None, SERVER),
            (Method::GET, "/api/orgs/1/users".into(), None, ORG_ADMINS),
            (
                Method::GET,
                format!("/api/orgs/{other_org}/users"),
                None,
                SERVER,
            ),
            (
                Method::POST,
                "/api/orgs/1/users".into(),
                Some("{}"),
                ORG_ADMINS,
            ),
            (Method::GET, "/api/teams/search".into(), None, TEAM_MANAGERS),
            (Method::POST, "/api/teams".into(), Some("{}"), TEAM_MANAGERS),
            (
                Method::GET,
                format!("/api/teams/{team}"),
                None,
                TEAM_MANAGERS,
            ),
            (
                Method::PUT,
                "/api/teams/99999".into(),
                Some("{}"),
                TEAM_MANAGERS,
            ),
            (
                Method::DELETE,
                "/api/teams/99999".into(),
                None,
                TEAM_MANAGERS,
            ),
            (
                Method::GET,
                format!("/api/teams/{team}/members"),
                None,
                TEAM_MANAGERS,
            ),
            (
                Method::POST,
                format!("/api/teams/{team}/members"),
                Some("{}"),
                TEAM_MANAGERS,
            ),
            (Method::GET, "/api/users".into(), None, SERVER),
            (Method::GET, "/api/users/search".into(), None, SERVER),
            (Method::GET, format!("/api/users/{target}"), None, SERVER),
            (
                Method::PUT,
                format!("/api/users/{target}"),
                Some("[]"),
                SERVER,
            ),
            (
                Method::GET,
                format!("/api/users/{target}/teams"),
                None,
                SERVER,
            ),
            (Method::POST, "/api/admin/users".into(), Some("{}"), SERVER),
            (
                Method::PUT,
                "/api/admin/users/99999/password".into(),
                Some("{}"),
                SERVER,
            ),
            (
                Method::DELETE,
                "/api/admin/users/99999".into(),
                None,
                SERVER,
            ),
            (
                Method::POST,
                "/api/admin/users/99999/disable".into(),
                None,
                SERVER,
            ),
            (Method::GET, "/api/admin/settings".into(), None, SERVER),
            (Method::GET, "/api/admin/stats".into(), None, SERVER),
            (
                Method::GET,
                "/api/admin/usage-report-preview".into(),
                None,
                SERVER,
            ),
            (
                Method::GET,
                format!("/api/admin/users/{target}/auth-tokens"),
                None,
                SERVER,
            ),
            (
                Method::POST,
                "/api/admin/users/99999/logout".into(),
                None,
                SERVER,
            ),
            (
                Method::GET,
                format!("/api/admin/users/{target}/lockout"),
                None,
                SERVER,
            ),
            (
                Method::GET,
                "/api/serviceaccounts/search".into(),
                None,
                SA_MANAGERS,
            ),
            (
                Method::POST,
                "/api/serviceaccounts".into(),
                Some("{}"),
                SA_MANAGERS,
            ),
            (
                Method::GET,
                "/api/serviceaccounts/99999".into(),
                None,
                SA_MANAGERS,
            ),
            (
                Method::PATCH,
                "/api/serviceaccounts/99999".into(),
                Some("{}"),
                SA_MANAGERS,
            ),
            (
                Method::DELETE,
                "/api/serviceaccounts/99999".into(),
                None,
                SA_MANAGERS,
            ),
            (
                Method::GET,
                "/api/serviceaccounts/99999/tokens".into(),
                None,
                SA_MANAGERS,
            ),
            (
                Method::POST,
                "/api/serviceaccounts/99999/tokens".into(),
                Some("{}"),
                SA_MANAGERS,
            ),
            (
                Method::DELETE,
                "/api/serviceaccounts/99999/tokens/1".into(),
                None,
                SA_MANAGERS,
            ),
            (Method::GET, "/api/search".into(), None, EVERYONE),
            (Method::GET, "/api/user/stars".into(), None, EVERYONE),
            (
                Method::POST,
                "/api/dashboards/db".into(),
                Some("{}"),
                &[Editor, Admin],
            ),
            (
                Method::GET,
                "/api/dashboards/uid/nope".into(),
                None,
                MEMBERS,
            ),
            (
                Method::DELETE,
                "/api/dashboards/uid/nope".into(),
                None,
                &[Editor, Admin],
            ),
            (Method::GET, "/api/user/preferences".into(), None, EVERYONE),
            (Method::GET, "/api/org/preferences".into(), None, &[Admin]),
            (
                Method::PATCH,
                "/api/org/preferences".into(),
                Some(r#"{"theme": "nope"}"#),
                &[Admin],
            ),
            (
                Method::GET,
                format!("/api/teams/{team}/preferences"),
                None,
                TEAM_MANAGERS,
            ),
            (
                Method::PUT,
                format!("/api/teams/{team}/preferences"),
                Some(r#"{"theme": "nope"}"#),
                TEAM_MANAGERS,
            ),
            (Method::GET, "/api/org/quotas".into(), None, MEMBERS),
            (Method::GET, "/api/orgs/1/quotas".into(), None, MEMBERS),
            (
                Method::PUT,
                "/api/orgs/1/quotas/nope".into(),
                Some("{}"),
                SERVER,
            ),
            (
                Method::GET,
                format!("/api/admin/users/{target}/quotas"),
                None,
                SERVER,
            ),
            (Method::GET, "/api/auth/keys".into(), None, SA_MANAGERS),
            (
                Method::POST,
                "/api/auth/keys".into(),
                Some("{}"),
                SA_MANAGERS,
            ),
            (
                Method::DELETE,
                "/api/auth/keys/99999".into(),
                None,
                SA_MANAGERS,
            ),
        ];
        let who = [
            (NoRole, "r_none"),
            (Viewer, "r_viewer"),
            (Editor, "r_editor"),
            (Admin, "r_admin"),
            (ServerAdmin, "r_server"),
        ];
        let mut wrong = Vec::new();
        for (method, path, body, allowed) in &routes {
            for (role, login) in who {
                let auth = basic(login, "password1");
                let res = app
                    .request_with(method.clone(), path, &[("authorization", &auth)], *body)
                    .await;
                assert_ne!(
                    res.status,
                    StatusCode::UNAUTHORIZED,
                    "{login} {method} {path}"
                );
                let denied = res.status == StatusCode::FORBIDDEN;
                if denied == allowed.contains(&role) {
                    wrong.push(format!(
                        "{role:?} {method} {path}: {} {}",
                        res.status, res.text
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "unexpected answers:\n{}",
            wrong.join("\n")
        );
    })
    .await;
}
