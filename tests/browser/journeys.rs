//! The journeys of the issue, one test each.

use crate::Harness;

#[tokio::test]
async fn sign_in_and_out() {
    let h = Harness::start(&[]).await;
    let b = h.browser().await;
    b.open("/profile").await;
    // Sent to sign in, and back to the page asked for afterwards.
    assert!(
        b.path().await.starts_with("/login?redirectTo="),
        "{}",
        b.path().await
    );
    b.shot("login").await;
    b.fill("#user", "admin").await;
    b.fill("#password", "admin").await;
    b.click("#login").await;
    b.find("#save-profile").await;
    assert_eq!(b.path().await, "/profile");
    b.click(".signout").await;
    b.find("#login").await;
    assert!(b.path().await.starts_with("/login"));
    // Signed out: the profile asks to sign in again.
    b.open("/profile").await;
    assert!(b.path().await.starts_with("/login"));
    b.close().await;
}

#[tokio::test]
async fn a_wrong_password_and_a_locked_out_login() {
    let h = Harness::start(&[("security", "brute_force_login_protection_max_attempts", "3")]).await;
    h.create_user("lena", "Lena", "lena-secret-1").await;
    let b = h.browser().await;
    b.sign_in("lena", "wrong").await;
    assert_eq!(b.text("#login-error").await, "Invalid username or password");
    b.shot("login-wrong-password").await;
    for _ in 0..3 {
        b.sign_in("lena", "wrong").await;
    }
    // Locked out: the right password is refused with the same words.
    b.sign_in("lena", "lena-secret-1").await;
    assert_eq!(b.text("#login-error").await, "Invalid username or password");
    assert!(b.path().await.starts_with("/login"));
    b.close().await;
}

#[tokio::test]
async fn changing_the_password_ends_the_other_session() {
    let h = Harness::start(&[]).await;
    h.create_user("mia", "Mia", "mia-secret-1").await;
    let laptop = h.browser().await;
    let phone = h.browser_sized(390).await;
    laptop.sign_in("mia", "mia-secret-1").await;
    phone.sign_in("mia", "mia-secret-1").await;
    phone.open("/profile").await;
    assert!(
        !phone.scrolls_sideways().await,
        "the profile fits a 390 px phone"
    );
    phone.shot("profile-phone").await;

    laptop.open("/profile").await;
    laptop.fill("#old-password", "mia-secret-1").await;
    laptop.fill("#new-password", "mia-secret-2").await;
    laptop.fill("#confirm-new", "mia-secret-2").await;
    laptop.click("#change-password").await;
    assert!(laptop.text(".flash-ok").await.contains("Password changed"));
    // The laptop stays signed in; the phone's next page asks it to sign in.
    laptop.open("/profile").await;
    assert_eq!(laptop.path().await, "/profile");
    phone.open("/profile").await;
    assert!(
        phone.path().await.starts_with("/login"),
        "{}",
        phone.path().await
    );
    phone.sign_in("mia", "mia-secret-2").await;
    assert_eq!(phone.path().await, "/profile");
    laptop.close().await;
    phone.close().await;
}

#[tokio::test]
async fn revoke_a_device() {
    let h = Harness::start(&[]).await;
    let desk = h.browser().await;
    let other = h.browser().await;
    desk.sign_in("admin", "admin").await;
    other.sign_in("admin", "admin").await;
    desk.open("/profile").await;
    assert!(desk.page_text().await.contains("This device"));
    desk.shot("profile-devices").await;
    let rows = desk
        .client
        .find_all(fantoccini::Locator::Css("#sessions tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    // Revoke the one that is not this device.
    desk.click_confirmed("#sessions button.danger[aria-label^=\"Revoke\"]")
        .await;
    assert!(desk.text(".flash-ok").await.contains("Session revoked"));
    let rows = desk
        .client
        .find_all(fantoccini::Locator::Css("#sessions tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    other.open("/profile").await;
    assert!(other.path().await.starts_with("/login"));
    desk.close().await;
    other.close().await;
}

#[tokio::test]
async fn a_form_posted_without_its_token_is_refused() {
    let h = Harness::start(&[]).await;
    let b = h.browser().await;
    b.sign_in("admin", "admin").await;
    b.open("/profile").await;
    // Take the token out of the form, as a forged form would lack it.
    b.client
        .execute(
            "document.querySelector('form[action$=\"/profile\"] input[name=_csrf]').remove();",
            vec![],
        )
        .await
        .unwrap();
    b.fill("#p-name", "Forged").await;
    b.click("#save-profile").await;
    let text = b.page_text().await;
    assert!(text.contains("403"), "{text}");
    let me = h.api("GET", "/api/user", None).await;
    assert_ne!(me["name"], "Forged");
    b.close().await;
}

#[tokio::test]
async fn an_admin_onboards_a_user_and_then_shuts_them_out() {
    let h = Harness::start(&[]).await;
    let ops = h
        .api(
            "POST",
            "/api/orgs",
            Some(serde_json::json!({"name": "Ops"})),
        )
        .await;
    assert!(ops["orgId"].as_i64().is_some(), "{ops}");
    let team = h
        .api(
            "POST",
            "/api/teams",
            Some(serde_json::json!({"name": "SRE"})),
        )
        .await;
    let team_uid = team["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("{team}"))
        .to_string();
    for i in 0..6 {
        h.create_user(&format!("user{i}"), &format!("User {i}"), "pass-word-1")
            .await;
    }
    let admin = h.browser().await;
    admin.sign_in("admin", "admin").await;
    assert_eq!(admin.path().await, "/admin/users");
    admin.shot("admin-users").await;

    // Create the user.
    admin.click("#new-user").await;
    admin.fill("#n-name", "Noor Haddad").await;
    admin.fill("#n-email", "noor@example.com").await;
    admin.fill("#n-login", "noor").await;
    admin.fill("#n-password", "first-pass-1").await;
    admin.click("#create-user").await;
    admin.find("#save-user").await;
    assert!(
        admin.path().await.starts_with("/admin/users/edit/"),
        "{}",
        admin.path().await
    );
    let user_page = admin.path().await;

    // Into the Ops org as an Editor.
    admin
        .find("#add-org")
        .await
        .select_by_label("Ops")
        .await
        .unwrap();
    admin
        .find("#add-role")
        .await
        .select_by_value("Editor")
        .await
        .unwrap();
    admin.click("#add-to-org").await;
    assert!(
        admin.text("#orgs").await.contains("Ops"),
        "{}",
        admin.text("#orgs").await
    );

    // Into the SRE team.
    admin.open(&format!("/org/teams/edit/{team_uid}")).await;
    admin.fill("#member-login", "noor").await;
    admin.click("#add-member").await;
    assert!(admin.text("#members").await.contains("noor"));

    // A new password, which the user signs in with.
    admin.open(&user_page).await;
    admin.fill("#u-password", "second-pass-2").await;
    admin.click("#set-password").await;
    assert!(admin.find(".flash-ok").await.text().await.unwrap().len() > 1);
    let noor = h.browser().await;
    noor.sign_in("noor", "second-pass-2").await;
    assert_eq!(noor.path().await, "/profile");
    assert!(
        noor.page_text().await.contains("SRE"),
        "her teams are on her profile"
    );
    admin.open(&user_page).await;
    admin.shot("admin-user-page").await;

    // Disabled: signed out, and cannot sign in again.
    admin.click_confirmed("#disable-user").await;
    admin.find("#enable-user").await;
    noor.open("/profile").await;
    assert!(
        noor.path().await.starts_with("/login"),
        "{}",
        noor.path().await
    );
    noor.sign_in("noor", "second-pass-2").await;
    assert!(noor.path().await.starts_with("/login"));
    assert!(noor.text("#login-error").await.contains("disabled"));
    admin.close().await;
    noor.close().await;
}

#[tokio::test]
async fn an_admin_makes_an_org_and_its_admin_runs_it() {
    let h = Harness::start(&[]).await;
    let omar_id = h.create_user("omar", "Omar", "omar-pass-1").await;
    let pia = h.create_user("pia", "Pia", "pia-pass-1").await;
    let admin = h.browser().await;
    admin.sign_in("admin", "admin").await;
    admin.open("/admin/orgs").await;
    admin.click("#new-org").await;
    admin.fill("#org-name", "Research").await;
    admin.click("#create-org").await;
    admin.find("#rename-org").await;
    assert!(admin.path().await.starts_with("/admin/orgs/edit/"));
    let id = h.api("GET", "/api/orgs/name/Research", None).await["id"]
        .as_i64()
        .expect("the org was created");
    // Omar becomes the new org's Admin, Pia (by email) a Viewer there.
    admin.fill("#add-login", "omar").await;
    admin
        .find("#add-role")
        .await
        .select_by_value("Admin")
        .await
        .unwrap();
    admin.click("#add-user").await;
    // The next page, with Omar on it, before the next form.
    admin.find(&format!("[data-member=\"{omar_id}\"]")).await;
    admin.fill("#add-login", "pia@example.com").await;
    admin.click("#add-user").await;
    admin.find(&format!("[data-member=\"{pia}\"]")).await;
    let members = admin.text("#members").await;
    assert!(
        members.contains("omar") && members.contains("pia"),
        "{members}"
    );
    admin.shot("admin-org-page").await;

    // Omar switches to Research and, on a phone, makes Pia an Editor there.
    let omar = h.browser_sized(390).await;
    omar.sign_in("omar", "omar-pass-1").await;
    omar.open("/profile").await;
    omar.click(&format!("#switch-org-{id}")).await;
    assert!(omar.text(".flash-ok").await.contains("Switched"));
    omar.open("/").await;
    assert_eq!(
        omar.path().await,
        "/org/users",
        "an org Admin starts at the org's users"
    );
    assert!(
        !omar.scrolls_sideways().await,
        "org users fit a 390 px phone"
    );
    let nav = omar.text("nav.side").await;
    assert!(!nav.contains("Administration"), "{nav}");
    omar.find(&format!("#role-{pia}"))
        .await
        .select_by_value("Editor")
        .await
        .unwrap();
    omar.click(&format!("#change-role-{pia}")).await;
    assert!(omar
        .text(".flash-ok")
        .await
        .contains("Organization user updated"));
    omar.shot("org-users").await;
    let users = h.api("GET", &format!("/api/orgs/{id}/users"), None).await;
    let role = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "pia")
        .map(|u| u["role"].clone());
    assert_eq!(role, Some(serde_json::json!("Editor")));
    admin.close().await;
    omar.close().await;
}

#[tokio::test]
async fn a_service_account_token_is_shown_once() {
    let h = Harness::start(&[]).await;
    let b = h.browser().await;
    b.sign_in("admin", "admin").await;
    b.open("/org/serviceaccounts/create").await;
    b.fill("#sa-name", "ci-bot").await;
    b.click("#create-service-account").await;
    b.find("#generate-token").await;
    let page = b.path().await;
    b.fill("#token-name", "deploy").await;
    b.click("#generate-token").await;
    let secret = b.text("#token-secret").await;
    assert!(secret.starts_with("glsa_"), "{secret}");
    b.shot("service-account-token").await;
    // The secret works against the API...
    let who = {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = axum::http::Request::get("/api/org")
            .header("authorization", format!("Bearer {secret}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let res = usher::app::build_router(h.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.into_body().collect().await.unwrap().to_bytes()
    };
    assert!(String::from_utf8_lossy(&who).contains("Main Org."));
    // ...and is never shown again.
    b.open(&page).await;
    assert!(!b.exists("#token-secret").await);
    assert!(!b.client.source().await.unwrap().contains(&secret));
    b.close().await;
}

#[tokio::test]
async fn an_org_viewer_sees_no_administration() {
    let h = Harness::start(&[]).await;
    h.create_user("vic", "Vic", "vic-pass-1").await;
    let b = h.browser_sized(390).await;
    b.sign_in("vic", "vic-pass-1").await;
    assert_eq!(b.path().await, "/profile");
    let nav = b.text("nav.side").await;
    assert!(
        !nav.contains("Administration") && !nav.contains("Service accounts"),
        "{nav}"
    );
    for path in [
        "/admin/users",
        "/admin/users/edit/1",
        "/org/serviceaccounts",
        "/admin/users/new",
        "/admin/orgs",
        "/admin/orgs/new",
    ] {
        b.open(path).await;
        let text = b.page_text().await;
        assert!(text.contains("403"), "{path}: {text}");
    }
    b.close().await;
}

#[tokio::test]
async fn the_chosen_theme_applies_to_the_pages() {
    let h = Harness::start(&[]).await;
    let b = h.browser().await;
    b.sign_in("admin", "admin").await;
    b.open("/profile").await;
    // Grafana's default theme is dark ([users] default_theme).
    assert_eq!(
        b.find("html")
            .await
            .attr("data-theme")
            .await
            .unwrap()
            .as_deref(),
        Some("dark")
    );
    b.click("#theme-light").await;
    b.click("#save-preferences").await;
    b.find(".flash-ok").await;
    assert_eq!(
        b.find("html")
            .await
            .attr("data-theme")
            .await
            .unwrap()
            .as_deref(),
        Some("light")
    );
    let background = b
        .find("body")
        .await
        .css_value("background-color")
        .await
        .unwrap();
    assert_eq!(
        background, "rgba(244, 245, 248, 1)",
        "the light palette is in use"
    );
    b.shot("profile-light").await;
    b.close().await;
}
