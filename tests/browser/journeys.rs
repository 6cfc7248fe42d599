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
