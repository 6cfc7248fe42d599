//! The Team API (Grafana's `pkg/services/team/teamapi/{api,team,team_members}.go`): teams of the
//! request's org, members, team Admins (permission 4) and who may do what.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::{assert_message, each_backend, TestApp};

async fn create_team(app: &TestApp, name: &str) -> i64 {
    let res = app
        .admin()
        .post(
            "/api/teams",
            &json!({"name": name, "email": format!("{name}@example.com")}).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json["teamId"].as_i64().unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn teams_are_created_read_updated_and_deleted() {
    each_backend(|app| async move {
        let admin = app.admin();
        let res = admin
            .post(
                "/api/teams",
                r#"{"name": "Ops", "email": "ops@example.com"}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["message"], "Team created");
        assert!(!res.json["uid"].as_str().unwrap().is_empty());
        let id = res.json["teamId"].as_i64().unwrap();

        // The creator is the team's Admin, so a new team has one member.
        let team = admin.get(&format!("/api/teams/{id}")).await.json;
        assert_eq!(
            team,
            json!({"id": id, "uid": team["uid"], "orgId": 1, "name": "Ops",
                   "email": "ops@example.com", "externalUID": "", "isProvisioned": false,
                   "avatarUrl": team["avatarUrl"], "memberCount": 1, "permission": 0,
                   "accessControl": null})
        );
        let members = admin.get(&format!("/api/teams/{id}/members")).await.json;
        assert_eq!(members[0]["login"], "admin");
        assert_eq!(members[0]["permission"], 4);

        // Grafana's messages: 409 on create, 400 on update, 400 without a name.
        assert_message(
            &admin.post("/api/teams", r#"{"name": "Ops"}"#).await,
            StatusCode::CONFLICT,
            "Team name taken",
        );
        for body in ["{}", r#"{"name": ""}"#, r#"{"name": 1}"#, "x"] {
            assert_message(
                &admin.post("/api/teams", body).await,
                StatusCode::BAD_REQUEST,
                "bad request data",
            );
        }
        let dev = create_team(&app, "Dev").await;
        assert_message(
            &admin
                .put(&format!("/api/teams/{dev}"), r#"{"name": "Ops"}"#)
                .await,
            StatusCode::BAD_REQUEST,
            "Team name taken",
        );
        // An empty name keeps the name; the email is always written.
        let res = admin
            .put(
                &format!("/api/teams/{id}"),
                r#"{"email": "sre@example.com"}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Team updated");
        let team = admin.get(&format!("/api/teams/{id}")).await.json;
        assert_eq!(
            (team["name"].as_str(), team["email"].as_str()),
            (Some("Ops"), Some("sre@example.com"))
        );
        let res = admin
            .put(&format!("/api/teams/{id}"), r#"{"name": "SRE"}"#)
            .await;
        assert_message(&res, StatusCode::OK, "Team updated");
        assert_eq!(
            admin.get(&format!("/api/teams/{id}")).await.json["email"],
            ""
        );

        // Unknown and malformed ids.
        assert_message(
            &admin.get("/api/teams/999").await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );
        assert_message(
            &admin.put("/api/teams/999", r#"{"name": "x"}"#).await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );
        // Grafana 11.3+ resolves a non-numeric id as a uid: unknown, so 404 (tests/api/compat.rs).
        assert_message(
            &admin.get("/api/teams/abc").await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );

        let res = admin.delete(&format!("/api/teams/{id}")).await;
        assert_message(&res, StatusCode::OK, "Team deleted");
        assert_message(
            &admin.delete(&format!("/api/teams/{id}")).await,
            StatusCode::NOT_FOUND,
            "Failed to delete Team. ID not found",
        );
        assert_eq!(
            admin
                .get("/api/user/teams")
                .await
                .json
                .as_array()
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn team_search_filters_sorts_and_pages() {
    each_backend(|app| async move {
        for name in ["alpha", "beta", "alphabet", "gamma"] {
            create_team(&app, name).await;
        }
        let admin = app.admin();
        let res = admin.get("/api/teams/search?query=alph").await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        assert_eq!(res.json["totalCount"], 2);
        assert_eq!(names(&res.json["teams"]), ["alpha", "alphabet"]);
        // A substring, case-insensitively; `name` is an exact name.
        assert_eq!(
            names(&admin.get("/api/teams/search?query=HAB").await.json["teams"]),
            ["alphabet"]
        );
        assert_eq!(
            names(&admin.get("/api/teams/search?name=Beta").await.json["teams"]),
            ["beta"]
        );
        // Short queries take the LIKE path; longer ones the trigram index, kept up to date.
        let search = |q: &'static str| {
            let admin = &admin;
            async move { names(&admin.get(&format!("/api/teams/search?{q}")).await.json["teams"]) }
        };
        assert_eq!(search("query=ta").await, ["beta"]);
        let gamma = admin.get("/api/teams/search?name=gamma").await.json["teams"][0]["id"].clone();
        admin
            .put(&format!("/api/teams/{gamma}"), r#"{"name": "delta"}"#)
            .await;
        assert_eq!(search("query=elt").await, ["delta"]);
        assert!(search("query=gam").await.is_empty());
        admin
            .put(&format!("/api/teams/{gamma}"), r#"{"name": "gamma"}"#)
            .await;
        let res = admin.get("/api/teams/search?perpage=2&page=2").await;
        assert_eq!(res.json["totalCount"], 4);
        assert_eq!(res.json["page"], 2);
        assert_eq!(res.json["perPage"], 2);
        assert_eq!(names(&res.json["teams"]), ["beta", "gamma"]);
        let res = admin.get("/api/teams/search?sort=name-desc").await;
        assert_eq!(
            names(&res.json["teams"]),
            ["gamma", "beta", "alphabet", "alpha"]
        );
        assert_eq!(
            admin.get("/api/teams/search?sort=size").await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            admin.get("/api/teams/search?perpage=-1").await.status,
            StatusCode::BAD_REQUEST
        );
        let res = admin.get("/api/teams/search?perpage=2&page=9").await;
        assert_eq!(res.json["totalCount"], 4);
        assert_eq!(res.json["teams"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn members_are_added_listed_promoted_and_removed() {
    each_backend(|app| async move {
        let team = create_team(&app, "Core").await;
        let ana = app.create_user("ana", "password1").await;
        let ben = app.create_user("ben", "password1").await;
        let admin = app.admin();
        let add = |user: i64| {
            let admin = &admin;
            async move {
                admin
                    .post(
                        &format!("/api/teams/{team}/members"),
                        &json!({"userId": user}).to_string(),
                    )
                    .await
            }
        };
        assert_message(&add(ana).await, StatusCode::OK, "Member added to Team");
        assert_message(
            &add(ana).await,
            StatusCode::BAD_REQUEST,
            "User is already added to this team",
        );
        assert_message(&add(9999).await, StatusCode::NOT_FOUND, "User not found");
        assert_message(
            &admin
                .post(&format!("/api/teams/{team}/members"), "{}")
                .await,
            StatusCode::BAD_REQUEST,
            "bad request data",
        );
        add(ben).await;

        let res = admin.get(&format!("/api/teams/{team}/members")).await;
        let list = res.json.as_array().unwrap().clone();
        assert_eq!(list.len(), 3);
        let m = &list[1];
        assert_eq!(m["login"], "ana");
        for field in [
            "orgId",
            "teamId",
            "teamUID",
            "userId",
            "userUID",
            "auth_module",
            "email",
            "name",
            "login",
            "avatarUrl",
            "labels",
            "permission",
        ] {
            assert!(m.get(field).is_some(), "{field} missing in {m}");
        }
        // Paged on request (Grafana's list is not, #54251), with the total in X-Total-Count.
        let res = admin
            .get(&format!("/api/teams/{team}/members?perpage=2&page=2"))
            .await;
        assert_eq!(res.json.as_array().unwrap().len(), 1);
        assert_eq!(res.json[0]["login"], "ben");
        assert_eq!(res.headers["x-total-count"], "3");

        let res = admin
            .put(
                &format!("/api/teams/{team}/members/{ana}"),
                r#"{"permission": 4}"#,
            )
            .await;
        assert_message(&res, StatusCode::OK, "Team member updated");
        let res = admin
            .put(
                &format!("/api/teams/{team}/members/9999"),
                r#"{"permission": 4}"#,
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "Team member not found.");
        let res = admin
            .delete(&format!("/api/teams/{team}/members/{ben}"))
            .await;
        assert_message(&res, StatusCode::OK, "Team Member removed");
        let res = admin
            .delete(&format!("/api/teams/{team}/members/{ben}"))
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "Team member not found");

        // /api/users/:id/teams shows the membership with Grafana's TeamDTO.
        let teams = admin.get(&format!("/api/users/{ana}/teams")).await.json;
        assert_eq!(teams[0]["name"], "Core");
        assert_eq!(teams[0]["memberCount"], 2);
        assert_eq!(teams[0]["permission"], 0);
    })
    .await;
}

#[tokio::test]
async fn team_admins_manage_their_team_and_members_read_it() {
    each_backend(|app| async move {
        let team = create_team(&app, "Web").await;
        let other = create_team(&app, "Data").await;
        let lead = app.create_user("lead", "password1").await;
        let dev = app.create_user("dev", "password1").await;
        app.create_user("out", "password1").await;
        let admin = app.admin();
        for user in [lead, dev] {
            admin
                .post(
                    &format!("/api/teams/{team}/members"),
                    &json!({"userId": user}).to_string(),
                )
                .await;
        }
        admin
            .put(
                &format!("/api/teams/{team}/members/{lead}"),
                r#"{"permission": 4}"#,
            )
            .await;
        let lead_c = app.as_user("lead", "password1");
        let dev_c = app.as_user("dev", "password1");
        let out_c = app.as_user("out", "password1");

        // The team Admin (an org Viewer) changes the team and its members…
        assert_eq!(
            lead_c
                .put(&format!("/api/teams/{team}"), r#"{"name": "Web UI"}"#)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            lead_c
                .get(&format!("/api/teams/{team}/members"))
                .await
                .json
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let res = lead_c
            .put(
                &format!("/api/teams/{team}/members/{dev}"),
                r#"{"permission": 4}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // …but not other teams, and cannot create teams.
        assert_eq!(
            lead_c.get(&format!("/api/teams/{other}")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            lead_c
                .post("/api/teams", r#"{"name": "Mine"}"#)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Team search shows a member their own teams only.
        let res = lead_c.get("/api/teams/search").await;
        assert_eq!(names(&res.json["teams"]), ["Web UI"]);
        assert_eq!(res.json["totalCount"], 1);

        // A plain member may read the team, not change it.
        admin
            .put(
                &format!("/api/teams/{team}/members/{dev}"),
                r#"{"permission": 0}"#,
            )
            .await;
        assert_eq!(
            dev_c.get(&format!("/api/teams/{team}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            dev_c
                .put(&format!("/api/teams/{team}"), r#"{"name": "x"}"#)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            dev_c
                .get(&format!("/api/teams/{team}/members"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Someone in no team may not search teams at all (Grafana 12: no teams:read by role).
        assert_eq!(
            out_c.get("/api/teams/search").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            out_c.get(&format!("/api/teams/{team}")).await.status,
            StatusCode::FORBIDDEN
        );
        // Leaving the team takes the rights away on the next request.
        admin
            .delete(&format!("/api/teams/{team}/members/{lead}"))
            .await;
        assert_eq!(
            lead_c
                .put(&format!("/api/teams/{team}"), r#"{"name": "Back"}"#)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[tokio::test]
async fn teams_belong_to_the_request_org() {
    each_backend(|app| async move {
        let team = create_team(&app, "Main team").await;
        let res = app.admin().post("/api/orgs", r#"{"name": "Second"}"#).await;
        let org = res.json["orgId"].as_i64().unwrap();
        app.admin()
            .post(&format!("/api/user/using/{org}"), "")
            .await;
        // In the other org the team does not exist, and names are per org.
        assert_message(
            &app.admin().get(&format!("/api/teams/{team}")).await,
            StatusCode::NOT_FOUND,
            "Team not found",
        );
        let res = app
            .admin()
            .post("/api/teams", r#"{"name": "Main team"}"#)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // A user outside the org cannot be added.
        let zed = app.create_user("zed", "password1").await;
        app.admin()
            .delete(&format!("/api/orgs/1/users/{zed}"))
            .await;
        let second_team = res.json["teamId"].as_i64().unwrap();
        let res = app
            .admin()
            .post(
                &format!("/api/teams/{second_team}/members"),
                &json!({"userId": zed}).to_string(),
            )
            .await;
        assert_message(&res, StatusCode::NOT_FOUND, "User not found");
    })
    .await;
}
