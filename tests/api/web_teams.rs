//! The web interface's team pages (`/org/teams`, `/org/teams/new`, `/org/teams/edit/{uid}`) and
//! service account pages (`/org/serviceaccounts`, `/create`, `/{id}`): what they show, that their
//! forms change what the API then reports, that errors land next to their field, that a person
//! sees and may do only what the API allows them, and that a token's secret is shown once.

use axum::http::StatusCode;
use serde_json::json;

use crate::web::{location, WebUser};
use crate::{each_backend, TestApp};

/// Creates a team through the API (as admin) and returns (id, uid).
async fn team(app: &TestApp, name: &str) -> (i64, String) {
    let res = app
        .admin()
        .post(
            "/api/teams",
            &json!({ "name": name, "email": "" }).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    (
        res.json["teamId"].as_i64().unwrap(),
        res.json["uid"].as_str().unwrap().to_string(),
    )
}

async fn add(app: &TestApp, team: i64, user: i64) {
    let res = app
        .admin()
        .post(
            &format!("/api/teams/{team}/members"),
            &json!({ "userId": user }).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
}

/// The members of a team as the API reports them: (login, permission).
async fn members(app: &TestApp, team: i64) -> Vec<(String, i64)> {
    let res = app.admin().get(&format!("/api/teams/{team}/members")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    res.json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["login"].as_str().unwrap().to_string(),
                m["permission"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Creates a service account through the API (as admin) and returns its id.
async fn service_account(app: &TestApp, name: &str, role: &str) -> i64 {
    let res = app
        .admin()
        .post(
            "/api/serviceaccounts",
            &json!({ "name": name, "role": role }).to_string(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
    res.json["id"].as_i64().unwrap()
}

/// The text of the element with `id` (up to the next tag).
fn text_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let at = html.find(&marker)? + marker.len();
    let rest = &html[at..];
    Some(rest[..rest.find('<')?].to_string())
}

#[tokio::test]
async fn the_team_list_searches_and_pages() {
    each_backend(|app| async move {
        team(&app, "Alpha").await;
        team(&app, "Beta").await;
        let (_, uid) = team(&app, "Gamma").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page("/org/teams").await;
        assert_eq!(page.status, StatusCode::OK);
        for name in ["Alpha", "Beta", "Gamma"] {
            assert!(
                page.text.contains(&format!(">{name}</a>")),
                "{name}: {}",
                page.text
            );
        }
        assert!(page
            .text
            .contains(&format!("href=\"/org/teams/edit/{uid}\"")));
        assert!(page.text.contains("id=\"new-team\""));
        assert!(page.text.contains("id=\"results\"") && page.text.contains("data-live"));
        // The creator (admin, by basic auth) is each team's member.
        assert!(
            page.text.contains("<td>1</td>"),
            "member count: {}",
            page.text
        );
        let found = web.page("/org/teams?query=alp").await;
        assert!(found.text.contains(">Alpha</a>"));
        assert!(!found.text.contains(">Beta</a>"));
        assert!(found.text.contains("value=\"alp\""), "the query is kept");
        // 30 a page: the 31st team is on page 2, and the links keep the query.
        for n in 0..30 {
            team(&app, &format!("Many {n:02}")).await;
        }
        let first = web.page("/org/teams?query=Many").await;
        assert!(first.text.contains("Page 1 of 1"), "{}", first.text);
        team(&app, "Many 30").await;
        let first = web.page("/org/teams?query=Many").await;
        assert!(first.text.contains("Page 1 of 2"), "{}", first.text);
        assert!(
            first
                .text
                .contains("href=\"/org/teams?query=Many&#38;page=2\""),
            "{}",
            first.text
        );
        assert!(first.text.contains(">Many 00</a>") && !first.text.contains(">Many 30</a>"));
        let second = web.page("/org/teams?query=Many&page=2").await;
        assert!(second.text.contains(">Many 30</a>") && !second.text.contains(">Many 00</a>"));
        assert!(second
            .text
            .contains("href=\"/org/teams?query=Many&#38;page=1\""));
    })
    .await;
}

#[tokio::test]
async fn a_new_team_is_created_and_a_taken_name_is_named_at_the_field() {
    each_backend(|app| async move {
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let form = web.page("/org/teams/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text.contains("id=\"create-team\""));
        let res = web
            .submit(
                "/org/teams/new",
                &[("name", "Ops"), ("email", "ops@example.com")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let found = app.admin().get("/api/teams/search?name=Ops").await;
        assert_eq!(found.json["totalCount"], 1, "{found:?}");
        let uid = found.json["teams"][0]["uid"].as_str().unwrap().to_string();
        assert_eq!(found.json["teams"][0]["email"], "ops@example.com");
        assert_eq!(location(&res), format!("/org/teams/edit/{uid}"));
        let page = web.follow(&res).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Team created"));
        assert!(page.text.contains("<span>Ops</span>"));
        // The same name again: the API's 409 and wording, next to the name, values kept.
        web.page("/org/teams/new").await;
        let res = web
            .submit(
                "/org/teams/new",
                &[("name", "Ops"), ("email", "other@example.com")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
        assert!(
            res.text.contains("id=\"team-name-e\">Team name taken"),
            "{}",
            res.text
        );
        assert!(res.text.contains("value=\"other@example.com\""));
        let res = web
            .submit("/org/teams/new", &[("name", " "), ("email", "")])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res.text.contains("id=\"team-name-e\">Name is required"));
        assert_eq!(
            app.admin().get("/api/teams/search").await.json["totalCount"],
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_team_page_renames_adds_members_makes_team_admins_and_removes_them() {
    each_backend(|app| async move {
        let (id, uid) = team(&app, "Platform").await;
        let bob = app.create_user("bob", "bob-pass-1").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/org/teams/edit/{uid}")).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page.text.contains("<span>Platform</span>"));
        assert!(
            page.text.contains("id=\"member-login\""),
            "an org Admin adds members by login"
        );
        assert!(page.text.contains("id=\"delete-team\""));
        // The numeric id names the team too.
        assert_eq!(
            web.page(&format!("/org/teams/edit/{id}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            web.page("/org/teams/edit/no-such-team").await.status,
            StatusCode::NOT_FOUND
        );

        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}"),
                &[("name", "Platform Team"), ("email", "pt@example.com")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let t = app.admin().get(&format!("/api/teams/{id}")).await;
        assert_eq!(
            (t.json["name"].as_str(), t.json["email"].as_str()),
            (Some("Platform Team"), Some("pt@example.com"))
        );
        assert!(web.follow(&res).await.text.contains("Team updated"));

        // Adding by login and by email; an unknown one is named at the field.
        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}/members"),
                &[("login", "nobody")],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
        assert!(res.text.contains(
            "id=\"member-login-e\">No member of this organization has that login or email"
        ));
        assert!(res.text.contains("value=\"nobody\""));
        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}/members"),
                &[("login", "BOB@example.com")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(members(&app, id).await.contains(&("bob".into(), 0)));
        let page = web.follow(&res).await;
        assert!(page.text.contains("Member added to Team"));
        assert!(page.text.contains(&format!("id=\"make-admin-{bob}\"")));
        // Added twice: the API's message, at the field.
        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}/members"),
                &[("login", "bob")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text
                .contains("id=\"member-login-e\">User is already added to this team"),
            "{}",
            res.text
        );

        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}/members/{bob}/permission"),
                &[("permission", "4")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(members(&app, id).await.contains(&("bob".into(), 4)));
        let page = web.follow(&res).await;
        assert!(
            page.text.contains(&format!("id=\"make-member-{bob}\"")),
            "{}",
            page.text
        );
        assert!(page.text.contains("title=\"Team Admin\">Admin"));
        let res = web
            .submit(
                &format!("/org/teams/edit/{uid}/members/{bob}/permission"),
                &[("permission", "0")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(members(&app, id).await.contains(&("bob".into(), 0)));

        let res = web
            .submit(&format!("/org/teams/edit/{uid}/members/{bob}/remove"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(!members(&app, id).await.iter().any(|(l, _)| l == "bob"));
        assert!(!web
            .follow(&res)
            .await
            .text
            .contains(&format!("data-member=\"{bob}\"")));
    })
    .await;
}

#[tokio::test]
async fn team_preferences_are_saved_and_a_bad_timezone_is_named_at_the_field() {
    each_backend(|app| async move {
        let (id, uid) = team(&app, "Prefs").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/org/teams/edit/{uid}")).await;
        assert!(page.text.contains("id=\"save-team-preferences\""));
        let path = format!("/org/teams/edit/{uid}/preferences");
        let res = web
            .submit(
                &path,
                &[
                    ("theme", "light"),
                    ("timezone", "Europe/Berlin"),
                    ("week_start", "monday"),
                    ("home_dashboard_uid", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let prefs = app
            .admin()
            .get(&format!("/api/teams/{id}/preferences"))
            .await;
        assert_eq!(prefs.json["theme"], "light");
        assert_eq!(prefs.json["timezone"], "Europe/Berlin");
        assert_eq!(prefs.json["weekStart"], "monday");
        let page = web.follow(&res).await;
        assert!(page.text.contains("value=\"Europe/Berlin\""));
        assert!(page.text.contains("value=\"monday\" selected"));
        let res = web
            .submit(
                &path,
                &[
                    ("theme", ""),
                    ("timezone", "Mars/Olympus"),
                    ("week_start", "sunday"),
                    ("home_dashboard_uid", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(
            res.text.contains("id=\"team-timezone-e\">invalid timezone"),
            "{}",
            res.text
        );
        assert!(
            res.text.contains("value=\"Mars/Olympus\""),
            "the value is kept"
        );
        assert_eq!(
            app.admin()
                .get(&format!("/api/teams/{id}/preferences"))
                .await
                .json["timezone"],
            "Europe/Berlin"
        );
    })
    .await;
}

#[tokio::test]
async fn a_team_is_deleted() {
    each_backend(|app| async move {
        let (id, uid) = team(&app, "Doomed").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/org/teams/edit/{uid}")).await;
        assert!(page
            .text
            .contains("data-confirm=\"Delete the team Doomed?\""));
        let res = web
            .submit(&format!("/org/teams/edit/{uid}/delete"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/org/teams");
        assert_eq!(
            app.admin().get(&format!("/api/teams/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let list = web.follow(&res).await;
        assert!(list.text.contains("Team Doomed deleted"));
        assert!(!list.text.contains(">Doomed</a>"));
    })
    .await;
}

#[tokio::test]
async fn a_team_admin_who_is_an_org_viewer_manages_their_team_and_no_other() {
    each_backend(|app| async move {
        let (mine, mine_uid) = team(&app, "Mine").await;
        let (other, other_uid) = team(&app, "Other").await;
        let tina = app.create_user("tina", "tina-pass-1").await;
        let carl = app.create_user("carl", "carl-pass-1").await;
        add(&app, mine, tina).await;
        add(&app, mine, carl).await;
        add(&app, other, carl).await;
        let res = app
            .admin()
            .put(
                &format!("/api/teams/{mine}/members/{tina}"),
                r#"{"permission":4}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");

        let web = WebUser::sign_in(&app, "tina", "tina-pass-1").await;
        let list = web.page("/org/teams").await;
        assert_eq!(list.status, StatusCode::OK, "{list:?}");
        assert!(list.text.contains(">Mine</a>"));
        assert!(!list.text.contains(">Other</a>"), "only her own teams");
        assert!(
            !list.text.contains("id=\"new-team\""),
            "a Viewer creates no teams"
        );

        let page = web.page(&format!("/org/teams/edit/{mine_uid}")).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert!(page.text.contains(&format!("id=\"make-admin-{carl}\"")));
        assert!(page.text.contains(&format!("id=\"remove-{carl}\"")));
        assert!(page.text.contains("id=\"save-team\""));
        assert!(page.text.contains("id=\"delete-team\""));
        // The API lets only those who may read the org's users look them up: no add form.
        assert!(!page.text.contains("id=\"member-login\""));
        assert!(page.text.contains("id=\"add-member-hint\""));

        let res = web
            .submit(
                &format!("/org/teams/edit/{mine_uid}/members/{carl}/permission"),
                &[("permission", "4")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(members(&app, mine).await.contains(&("carl".into(), 4)));
        let res = web
            .submit(
                &format!("/org/teams/edit/{mine_uid}/members/{carl}/remove"),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert!(!members(&app, mine).await.iter().any(|(l, _)| l == "carl"));
        let res = web
            .submit(
                &format!("/org/teams/edit/{mine_uid}"),
                &[("name", "Mine Renamed"), ("email", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            app.admin().get(&format!("/api/teams/{mine}")).await.json["name"],
            "Mine Renamed"
        );

        // Another team: its page and every action are refused, and nothing changes.
        let res = web.page(&format!("/org/teams/edit/{other_uid}")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        let res = web.page(&format!("/org/teams/edit/{other}")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        for (path, fields) in [
            (
                format!("/org/teams/edit/{other_uid}/members/{carl}/remove"),
                vec![],
            ),
            (
                format!("/org/teams/edit/{other_uid}/members/{carl}/permission"),
                vec![("permission", "4")],
            ),
            (
                format!("/org/teams/edit/{other_uid}"),
                vec![("name", "Taken over"), ("email", "")],
            ),
            (format!("/org/teams/edit/{other_uid}/delete"), vec![]),
            (
                format!("/org/teams/edit/{other_uid}/preferences"),
                vec![("theme", "light")],
            ),
        ] {
            let res = web.submit(&path, &fields).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
        }
        assert_eq!(
            app.admin().get(&format!("/api/teams/{other}")).await.json["name"],
            "Other"
        );
        assert!(members(&app, other).await.contains(&("carl".into(), 0)));
    })
    .await;
}

#[tokio::test]
async fn an_org_viewer_sees_no_new_team_button_and_may_not_create_one() {
    each_backend(|app| async move {
        app.create_user("vic", "vic-pass-1").await;
        let (_, uid) = team(&app, "Closed").await;
        let web = WebUser::sign_in(&app, "vic", "vic-pass-1").await;
        // A page with the session's token, for the forms below.
        assert!(web.page("/profile").await.text.contains("name=\"_csrf\""));
        // A Viewer in no team may not read the org's teams: the API's 403, and no link to it.
        let list = web.page("/org/teams").await;
        assert_eq!(list.status, StatusCode::FORBIDDEN, "{list:?}");
        assert!(!list.text.contains("id=\"new-team\""));
        assert!(!list.text.contains("Closed"));
        assert!(!list.text.contains("href=\"/org/teams\""));
        assert_eq!(
            web.page("/org/teams/new").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            web.page(&format!("/org/teams/edit/{uid}")).await.status,
            StatusCode::FORBIDDEN
        );
        let res = web
            .submit("/org/teams/new", &[("name", "Sneaky"), ("email", "")])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
        assert_eq!(
            app.admin().get("/api/teams/search?name=Sneaky").await.json["totalCount"],
            0
        );
    })
    .await;
}

#[tokio::test]
async fn markup_in_team_and_service_account_names_renders_as_text() {
    each_backend(|app| async move {
        let evil = "<script>alert(1)</script>";
        // askama writes `<` as `&#60;` (or `&lt;`).
        let escaped = |html: &str| {
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        };
        let (_, uid) = team(&app, evil).await;
        let sa = service_account(&app, evil, "Viewer").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        for path in [
            "/org/teams".to_string(),
            format!("/org/teams/edit/{uid}"),
            "/org/serviceaccounts".into(),
            format!("/org/serviceaccounts/{sa}"),
        ] {
            let page = web.page(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
            assert!(!page.text.contains(evil), "{path}");
            assert!(escaped(&page.text), "{path}: {}", page.text);
        }
    })
    .await;
}

#[tokio::test]
async fn service_accounts_are_listed_created_changed_disabled_and_deleted() {
    each_backend(|app| async move {
        service_account(&app, "existing", "Viewer").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let list = web.page("/org/serviceaccounts").await;
        assert_eq!(list.status, StatusCode::OK, "{list:?}");
        assert!(list.text.contains(">existing</a>"));
        assert!(list.text.contains("id=\"add-service-account\""));
        assert!(
            list.text.contains("<code>sa-1-existing</code>"),
            "{}",
            list.text
        );

        let form = web.page("/org/serviceaccounts/create").await;
        assert_eq!(form.status, StatusCode::OK);
        let res = web
            .submit(
                "/org/serviceaccounts/create",
                &[("name", "ci-bot"), ("role", "Editor")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let found = app
            .admin()
            .get("/api/serviceaccounts/search?query=ci-bot")
            .await;
        assert_eq!(found.json["totalCount"], 1);
        let account = &found.json["serviceAccounts"][0];
        let id = account["id"].as_i64().unwrap();
        assert_eq!(
            (account["role"].as_str(), account["isDisabled"].as_bool()),
            (Some("Editor"), Some(false))
        );
        assert_eq!(location(&res), format!("/org/serviceaccounts/{id}"));
        let page = web.follow(&res).await;
        assert!(page.text.contains("Service account created"));
        assert!(page.text.contains("<span>ci-bot</span>"));
        assert!(page.text.contains("value=\"Editor\" selected"));

        // The same name again: the API's message next to the name.
        web.page("/org/serviceaccounts/create").await;
        let res = web
            .submit(
                "/org/serviceaccounts/create",
                &[("name", "ci-bot"), ("role", "Viewer")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text
                .contains("id=\"sa-name-e\">service account already exists"),
            "{}",
            res.text
        );

        let searched = web.page("/org/serviceaccounts?query=ci").await;
        assert!(searched.text.contains(">ci-bot</a>") && !searched.text.contains(">existing</a>"));

        let path = format!("/org/serviceaccounts/{id}");
        web.page(&path).await;
        let res = web
            .submit(&path, &[("name", "ci-robot"), ("role", "Admin")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        let got = app.admin().get(&format!("/api/serviceaccounts/{id}")).await;
        assert_eq!(
            (got.json["name"].as_str(), got.json["role"].as_str()),
            (Some("ci-robot"), Some("Admin"))
        );

        let res = web.submit(&format!("{path}/disable"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            app.admin()
                .get(&format!("/api/serviceaccounts/{id}"))
                .await
                .json["isDisabled"],
            true
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("id=\"enable-service-account\""));
        let list = web.page("/org/serviceaccounts?query=ci").await;
        assert!(
            list.text
                .contains("ci-robot</a> <span class=\"badge warn\">Disabled</span>"),
            "{}",
            list.text
        );
        let res = web.submit(&format!("{path}/enable"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.admin()
                .get(&format!("/api/serviceaccounts/{id}"))
                .await
                .json["isDisabled"],
            false
        );

        let res = web.submit(&format!("{path}/delete"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(location(&res), "/org/serviceaccounts");
        assert_eq!(
            app.admin()
                .get(&format!("/api/serviceaccounts/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert!(web
            .follow(&res)
            .await
            .text
            .contains("Service account ci-robot deleted"));
    })
    .await;
}

#[tokio::test]
async fn a_token_secret_is_shown_once_and_works_until_revoked() {
    each_backend(|app| async move {
        let id = service_account(&app, "deployer", "Viewer").await;
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let path = format!("/org/serviceaccounts/{id}");
        let page = web.page(&path).await;
        assert!(page.text.contains("id=\"generate-token\""));
        assert!(page.text.contains("has no tokens"));

        let res = web
            .submit(
                &format!("{path}/tokens"),
                &[("name", "deploy"), ("expiry", "never"), ("days", "")],
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "the page itself shows the secret: {res:?}"
        );
        assert!(res.headers.get("location").is_none());
        let key = text_of(&res.text, "token-secret").expect("the secret is on the page");
        assert!(key.starts_with("glsa_"), "{key}");
        assert!(res
            .text
            .contains("<button type=\"button\" data-copy=\"token-secret\" hidden>Copy</button>"));
        for cookie in res.set_cookies() {
            assert!(
                !cookie.contains(&key),
                "a cookie carries the secret: {cookie}"
            );
        }
        assert!(res.text.contains(">deploy</td>"), "the token is listed");

        assert_eq!(
            app.bearer(&key).get("/api/org").await.status,
            StatusCode::OK
        );

        let again = web.page(&path).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(
            !again.text.contains(&key),
            "the secret is never shown again"
        );
        assert!(!again.text.contains("id=\"token-secret\""));
        assert!(again.text.contains(">deploy</td>") && again.text.contains("<td>Never"));

        // An expiry in days; a bad number and a taken name are named at their fields.
        let res = web
            .submit(
                &format!("{path}/tokens"),
                &[("name", "monthly"), ("expiry", "days"), ("days", "zero")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res.text.contains("id=\"token-days-e\">"), "{}", res.text);
        assert!(res.text.contains("value=\"monthly\""));
        let res = web
            .submit(
                &format!("{path}/tokens"),
                &[("name", "deploy"), ("expiry", "never"), ("days", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
        assert!(
            res.text.contains(
                "id=\"token-name-e\">service account token with given name already exists"
            ),
            "{}",
            res.text
        );
        assert!(!res.text.contains("id=\"token-secret\""));
        let res = web
            .submit(
                &format!("{path}/tokens"),
                &[("name", "monthly"), ("expiry", "days"), ("days", "30")],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        // The test clock stands at 2026-01-15.
        assert!(res.text.contains("<td>2026-02-14"), "{}", res.text);

        let tokens = app
            .admin()
            .get(&format!("/api/serviceaccounts/{id}/tokens"))
            .await;
        let deploy = tokens
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "deploy")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let res = web
            .submit(&format!("{path}/tokens/{deploy}/delete"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(
            app.bearer(&key).get("/api/org").await.status,
            StatusCode::UNAUTHORIZED
        );
        let page = web.follow(&res).await;
        assert!(page.text.contains("Token revoked"));
        assert!(!page.text.contains(">deploy</td>"));
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_is_marked() {
    each_backend(|app| async move {
        let id = service_account(&app, "short-lived", "Viewer").await;
        let res = app
            .admin()
            .post(
                &format!("/api/serviceaccounts/{id}/tokens"),
                r#"{"name":"brief","secondsToLive":60}"#,
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/org/serviceaccounts/{id}")).await;
        assert!(!page.text.contains(">Expired</span>"));
        app.clock.advance(chrono::Duration::hours(2));
        let web = WebUser::sign_in(&app, "admin", "admin").await;
        let page = web.page(&format!("/org/serviceaccounts/{id}")).await;
        assert!(
            page.text
                .contains("<span class=\"badge warn\">Expired</span>"),
            "{}",
            page.text
        );
    })
    .await;
}

#[tokio::test]
async fn a_viewer_gets_403_from_the_service_account_pages() {
    each_backend(|app| async move {
        let id = service_account(&app, "guarded", "Viewer").await;
        app.create_user("vic", "vic-pass-1").await;
        let web = WebUser::sign_in(&app, "vic", "vic-pass-1").await;
        let profile = web.page("/profile").await;
        assert!(
            !profile.text.contains("/org/serviceaccounts\""),
            "no link to them"
        );
        for path in [
            "/org/serviceaccounts".to_string(),
            "/org/serviceaccounts/create".into(),
            format!("/org/serviceaccounts/{id}"),
        ] {
            let res = web.page(&path).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
            assert!(!res.text.contains("guarded"), "{path}");
        }
        for (path, fields) in [
            (format!("/org/serviceaccounts/{id}/delete"), vec![]),
            (
                format!("/org/serviceaccounts/{id}/tokens"),
                vec![("name", "mine"), ("expiry", "never")],
            ),
            (
                format!("/org/serviceaccounts/{id}"),
                vec![("name", "taken"), ("role", "Admin")],
            ),
            (
                "/org/serviceaccounts/create".to_string(),
                vec![("name", "new"), ("role", "Viewer")],
            ),
        ] {
            let res = web.submit(&path, &fields).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {res:?}");
        }
        let got = app.admin().get(&format!("/api/serviceaccounts/{id}")).await;
        assert_eq!(got.json["name"], "guarded");
        assert_eq!(
            app.admin()
                .get(&format!("/api/serviceaccounts/{id}/tokens"))
                .await
                .json,
            json!([])
        );
        assert_eq!(
            app.admin().get("/api/serviceaccounts/search").await.json["totalCount"],
            1
        );
    })
    .await;
}
