"""Compatibility smoke test: drives a running usher with the real `grafana-client` package.

Every step calls the client library the way Grafana users do and checks the JSON shapes Grafana
returns. Steps run in order and share state (the user created first); each one passes or fails
on its own, and the last line printed is `N passed, M failed`. Exit status is 1 if any failed.

    USHER_URL=http://admin:admin@127.0.0.1:3998 python smoke.py
"""

import os
import sys
import traceback
import uuid
from urllib.parse import urlparse

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaUnauthorizedError
from grafana_client.model import PersonalPreferences

URL = os.environ.get("USHER_URL", "http://admin:admin@127.0.0.1:3998")
ADMIN = GrafanaApi.from_url(URL)

SUFFIX = uuid.uuid4().hex[:8]
LOGIN = f"smoke-{SUFFIX}"
EMAIL = f"smoke-{SUFFIX}@example.com"
PASSWORD = "first-Passw0rd"
state = {}

# Field names as Grafana (11.x) returns them.
SEARCH_HIT_FIELDS = {"id", "name", "login", "email", "avatarUrl", "isAdmin", "isDisabled",
                     "lastSeenAt", "lastSeenAtAge", "authLabels"}
PROFILE_FIELDS = {"id", "email", "name", "login", "theme", "orgId", "isGrafanaAdmin", "isDisabled",
                  "isExternal", "authLabels", "updatedAt", "createdAt", "avatarUrl"}
USER_ORG_FIELDS = {"orgId", "name", "role"}
STATS_FIELDS = {"orgs", "dashboards", "snapshots", "tags", "datasources", "playlists", "stars",
                "alerts", "users", "admins", "editors", "viewers", "activeUsers", "activeAdmins",
                "activeEditors", "activeViewers", "activeSessions", "dailyActiveUsers"}

passed = 0
failed = 0


def as_user(login, password):
    """A client authenticated as another user, same server."""
    u = urlparse(URL)
    return GrafanaApi.from_url(f"{u.scheme}://{u.hostname}:{u.port}{u.path}", credential=(login, password))


def has_fields(obj, fields, what):
    assert isinstance(obj, dict), f"{what}: expected an object, got {obj!r}"
    missing = fields - obj.keys()
    assert not missing, f"{what}: missing fields {sorted(missing)} in {obj!r}"


def expect_status(status, fn, *args):
    """Calls fn and asserts it fails with HTTP `status` and a JSON body with a message."""
    try:
        result = fn(*args)
    except GrafanaClientError as e:
        assert e.status_code == status, f"expected HTTP {status}, got {e.status_code}: {e.response!r}"
        if status != 401:
            assert isinstance(e.response, dict) and "message" in e.response, \
                f"error body should be {{'message': ...}}, got {e.response!r}"
        return e.response
    raise AssertionError(f"expected HTTP {status}, got success: {result!r}")


def step(fn):
    global passed, failed
    name = fn.__name__.removeprefix("test_").replace("_", " ")
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        failed += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        if os.environ.get("SMOKE_VERBOSE"):
            traceback.print_exc()
    else:
        passed += 1
        print(f"ok    {name}")
    return fn


@step
def test_health():
    h = ADMIN.client.GET("/health")
    has_fields(h, {"database", "version"}, "GET /api/health")
    assert h["database"] == "ok", h


@step
def test_connect_and_version():
    # What tools do first: connect(), then a version check.
    ADMIN.connect()
    version = ADMIN.version
    assert isinstance(version, str) and version[0].isdigit(), version
    # Clients that read the version where Grafana's front end does get the same one.
    settings = ADMIN.client.GET("/frontend/settings")
    has_fields(settings["buildInfo"], {"version", "commit", "edition", "env"}, "buildInfo")
    assert settings["buildInfo"]["version"].rsplit("-")[0] == version, (settings["buildInfo"], version)
    # Grafana's router trims one trailing slash: a backup tool's first call.
    assert isinstance(ADMIN.client.GET("/search/?type=dash-db"), list)


@step
def test_admin_create_user():
    r = ADMIN.admin.create_user({"name": "Smoke Test", "email": EMAIL, "login": LOGIN,
                                 "password": PASSWORD})
    has_fields(r, {"id", "message"}, "POST /api/admin/users")
    assert isinstance(r["id"], int) and r["id"] > 0, r
    assert r["message"] == "User created", r
    state["id"] = r["id"]


@step
def test_admin_create_duplicate_user_is_rejected():
    expect_status(412, ADMIN.admin.create_user,
                  {"name": "Dup", "email": EMAIL, "login": LOGIN, "password": PASSWORD})


@step
def test_search_users():
    hits = ADMIN.users.search_users(query=LOGIN)
    assert isinstance(hits, list) and len(hits) == 1, hits
    has_fields(hits[0], SEARCH_HIT_FIELDS, "GET /api/users item")
    assert hits[0]["id"] == state["id"] and hits[0]["login"] == LOGIN, hits[0]
    assert hits[0]["isAdmin"] is False and hits[0]["isDisabled"] is False, hits[0]
    # One page only, as the client does when given a page.
    page = ADMIN.users.search_users(page=1, perpage=1)
    assert isinstance(page, list) and len(page) == 1, page


@step
def test_search_users_paged_endpoint():
    r = ADMIN.client.GET("/users/search", params={"query": LOGIN, "perpage": 10, "page": 1})
    has_fields(r, {"totalCount", "users", "page", "perPage"}, "GET /api/users/search")
    assert r["totalCount"] == 1 and r["page"] == 1 and r["perPage"] == 10, r
    has_fields(r["users"][0], SEARCH_HIT_FIELDS, "GET /api/users/search users[0]")


@step
def test_get_user():
    u = ADMIN.users.get_user(state["id"])
    has_fields(u, PROFILE_FIELDS, "GET /api/users/:id")
    assert (u["id"], u["login"], u["email"], u["name"]) == (state["id"], LOGIN, EMAIL, "Smoke Test"), u
    assert u["orgId"] == 1 and u["isGrafanaAdmin"] is False and u["isDisabled"] is False, u


@step
def test_get_unknown_user_is_404():
    expect_status(404, ADMIN.users.get_user, 987654321)


@step
def test_find_user_by_login_and_email():
    for key in (LOGIN, EMAIL, LOGIN.upper()):
        u = ADMIN.users.find_user(key)
        has_fields(u, PROFILE_FIELDS, f"GET /api/users/lookup?loginOrEmail={key}")
        assert u["id"] == state["id"], u


@step
def test_update_user():
    r = ADMIN.users.update_user(state["id"], {"name": "Smoke Renamed", "email": EMAIL,
                                              "login": LOGIN, "theme": "light"})
    assert r == {"message": "User updated"}, r
    u = ADMIN.users.get_user(state["id"])
    assert u["name"] == "Smoke Renamed" and u["theme"] == "light", u


@step
def test_get_user_organisations():
    orgs = ADMIN.users.get_user_organisations(state["id"])
    assert isinstance(orgs, list) and len(orgs) == 1, orgs
    has_fields(orgs[0], USER_ORG_FIELDS, "GET /api/users/:id/orgs item")
    assert orgs[0]["orgId"] == 1 and orgs[0]["name"] == "Main Org.", orgs
    assert orgs[0]["role"] == "Viewer", orgs


@step
def test_get_user_teams():
    assert ADMIN.users.get_user_teams(state["id"]) == []


@step
def test_get_actual_user():
    me = ADMIN.user.get_actual_user()
    has_fields(me, PROFILE_FIELDS, "GET /api/user")
    assert me["login"] == "admin" and me["isGrafanaAdmin"] is True and me["orgId"] == 1, me


@step
def test_get_actual_user_organisations():
    orgs = ADMIN.user.get_actual_user_organisations()
    assert isinstance(orgs, list) and orgs, orgs
    has_fields(orgs[0], USER_ORG_FIELDS, "GET /api/user/orgs item")
    assert {"orgId": 1, "name": "Main Org.", "role": "Admin"} in orgs, orgs


@step
def test_get_actual_user_teams():
    assert ADMIN.user.get_actual_user_teams() == []


@step
def test_wrong_password_is_401():
    try:
        as_user("admin", "not-the-password").user.get_actual_user()
    except GrafanaUnauthorizedError:
        return
    raise AssertionError("expected HTTP 401")


@step
def test_admin_change_user_password():
    r = ADMIN.admin.change_user_password(state["id"], "second-Passw0rd")
    assert r == {"message": "User password updated"}, r
    me = as_user(LOGIN, "second-Passw0rd").user.get_actual_user()
    assert me["id"] == state["id"] and me["login"] == LOGIN, me
    expect_status(401, as_user(LOGIN, PASSWORD).user.get_actual_user)


@step
def test_user_changes_own_password():
    api = as_user(LOGIN, "second-Passw0rd")
    r = api.user.change_actual_user_password("second-Passw0rd", "third-Passw0rd")
    assert r == {"message": "User password changed"}, r
    assert as_user(LOGIN, "third-Passw0rd").user.get_actual_user()["id"] == state["id"]


@step
def test_switch_organisation():
    r = as_user(LOGIN, "third-Passw0rd").user.switch_actual_user_organisation(1)
    assert r == {"message": "Active organization changed"}, r
    r = ADMIN.user.switch_user_organisation(state["id"], 1)
    assert r == {"message": "Active organization changed"}, r


@step
def test_admin_change_user_permissions():
    r = ADMIN.admin.change_user_permissions(state["id"], True)
    assert r == {"message": "User permissions updated"}, r
    assert ADMIN.users.get_user(state["id"])["isGrafanaAdmin"] is True
    ADMIN.admin.change_user_permissions(state["id"], False)
    assert ADMIN.users.get_user(state["id"])["isGrafanaAdmin"] is False


@step
def test_admin_disable_and_enable_user():
    r = ADMIN.admin.set_user_enabled(state["id"], False)
    assert r == {"message": "User disabled"}, r
    assert ADMIN.users.get_user(state["id"])["isDisabled"] is True
    expect_status(401, as_user(LOGIN, "third-Passw0rd").user.get_actual_user)
    r = ADMIN.admin.set_user_enabled(state["id"], True)
    assert r == {"message": "User enabled"}, r
    assert ADMIN.users.get_user(state["id"])["isDisabled"] is False
    assert as_user(LOGIN, "third-Passw0rd").user.get_actual_user()["id"] == state["id"]


@step
def test_non_admin_is_forbidden_from_admin_api():
    expect_status(403, as_user(LOGIN, "third-Passw0rd").admin.stats)


@step
def test_admin_settings():
    s = ADMIN.admin.settings()
    assert isinstance(s, dict) and "server" in s and "database" in s, list(s)[:20]
    for section, keys in s.items():
        assert isinstance(keys, dict), (section, keys)
        assert all(isinstance(v, str) for v in keys.values()), (section, keys)
    assert s["server"].get("http_port") is not None, s["server"]


@step
def test_admin_stats():
    st = ADMIN.admin.stats()
    has_fields(st, STATS_FIELDS, "GET /api/admin/stats")
    assert st["users"] >= 2 and st["orgs"] >= 1 and st["admins"] >= 1, st


@step
def test_organizations():
    org_name = f"smoke-org-{SUFFIX}"
    r = ADMIN.organization.create_organization({"name": org_name})
    assert r["message"] == "Organization created", r
    org_id = r["orgId"]
    assert ADMIN.organization.find_organization(org_name)["id"] == org_id
    assert any(o["id"] == org_id for o in ADMIN.organizations.list_organization())
    r = ADMIN.organizations.organization_user_add(org_id, {"loginOrEmail": LOGIN, "role": "Viewer"})
    assert r["message"] == "User added to organization" and r["userId"] == state["id"], r
    r = ADMIN.organizations.organization_user_update(org_id, state["id"], "Editor")
    assert r == {"message": "Organization user updated"}, r
    members = {u["login"]: u for u in ADMIN.organizations.organization_user_list(org_id)}
    assert members[LOGIN]["role"] == "Editor", members
    has_fields(members[LOGIN], {"orgId", "userId", "email", "login", "role", "lastSeenAt"}, "org user")
    r = ADMIN.organizations.update_organization(org_id, {"name": org_name + "-renamed"})
    assert r == {"message": "Organization updated"}, r
    # A client pinned to the org (X-Grafana-Org-Id) sees it as its current org.
    u = urlparse(URL)
    pinned = GrafanaApi(auth=(u.username, u.password), host=u.hostname, port=u.port,
                        organization_id=org_id)
    assert pinned.organization.get_current_organization()["name"] == org_name + "-renamed"
    users = pinned.organization.get_current_organization_users()
    assert {x["login"] for x in users} >= {"admin", LOGIN}, users
    expect_status(409, ADMIN.organizations.organization_user_add, org_id,
                  {"loginOrEmail": LOGIN, "role": "Viewer"})
    r = ADMIN.organizations.organization_user_delete(org_id, state["id"])
    assert r == {"message": "User removed from organization"}, r
    r = ADMIN.organizations.delete_organization(org_id)
    assert r == {"message": "Organization deleted"}, r
    expect_status(404, ADMIN.organization.find_organization, org_name + "-renamed")


@step
def test_teams():
    team_name = f"smoke-team-{SUFFIX}"
    r = ADMIN.teams.add_team({"name": team_name, "email": f"{team_name}@example.com"})
    assert r["message"] == "Team created" and r["teamId"] > 0, r
    team_id = r["teamId"]
    found = ADMIN.teams.get_team_by_name(team_name)
    assert [t["id"] for t in found] == [team_id], found
    has_fields(found[0], {"id", "uid", "orgId", "name", "email", "avatarUrl", "memberCount",
                          "permission"}, "team")
    assert any(t["id"] == team_id for t in ADMIN.teams.search_teams(query="smoke-team", perpage=1))
    r = ADMIN.teams.add_team_member(team_id, state["id"])
    assert r == {"message": "Member added to Team"}, r
    members = ADMIN.teams.get_team_members(team_id)
    assert {m["login"] for m in members} == {"admin", LOGIN}, members
    r = ADMIN.teams.update_team(team_id, {"name": team_name + "-x", "email": ""})
    assert r == {"message": "Team updated"}, r
    assert ADMIN.teams.get_team(team_id)["name"] == team_name + "-x"
    r = ADMIN.teams.remove_team_member(team_id, state["id"])
    assert r == {"message": "Team Member removed"}, r
    r = ADMIN.teams.delete_team(team_id)
    assert r == {"message": "Team deleted"}, r
    expect_status(404, ADMIN.teams.get_team, team_id)


@step
def test_browser_session_and_devices():
    # A browser-style session (POST /login, the grafana_session cookie) next to grafana-client's
    # basic auth: the admin lists the session as a device and revokes it.
    import niquests as requests  # grafana-client's HTTP library (a requests fork)

    u = urlparse(URL)
    base = f"{u.scheme}://{u.hostname}:{u.port}"
    browser = requests.Session()
    browser.headers["User-Agent"] = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                                     "(KHTML, like Gecko) Chrome/72.0.3626.119 Safari/537.36")
    r = browser.post(f"{base}/login", json={"user": "admin", "password": "admin"})
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Logged in", r.json()
    assert "grafana_session" in browser.cookies, browser.cookies
    me = browser.get(f"{base}/api/user")
    assert me.status_code == 200 and me.json()["login"] == "admin", me.text
    devices = ADMIN.client.GET("/admin/users/1/auth-tokens")
    chrome = [d for d in devices if d["browser"] == "Chrome"]
    assert chrome, devices
    has_fields(chrome[-1], {"id", "isActive", "clientIp", "browser", "browserVersion", "os",
                            "osVersion", "device", "createdAt", "seenAt"}, "auth token")
    r = ADMIN.client.POST("/admin/users/1/revoke-auth-token",
                          json={"authTokenId": chrome[-1]["id"]})
    assert r == {"message": "User auth token revoked"}, r
    assert browser.get(f"{base}/api/user").status_code == 401


@step
def test_service_accounts_and_tokens():
    # grafana-client's service_account element (it posts to /serviceaccounts/ with a slash), then
    # the token as grafana-client sends credentials given as a string (Authorization: Bearer).
    sa = ADMIN.serviceaccount.create({"name": f"smoke-sa-{SUFFIX}", "role": "Viewer"})
    has_fields(sa, {"id", "uid", "name", "login", "orgId", "isDisabled", "role", "tokens",
                    "avatarUrl"}, "service account")
    assert sa["login"] == f"sa-1-smoke-sa-{SUFFIX}", sa
    found = ADMIN.serviceaccount.search_one(service_account_name=f"smoke-sa-{SUFFIX}")
    assert found["id"] == sa["id"], found
    profile = ADMIN.serviceaccount.get(sa["id"])
    assert profile["accessControl"]["serviceaccounts:write"] is True, profile
    r = ADMIN.serviceaccount.update(sa["id"], {"role": "Editor"})
    assert r["message"] == "Service account updated" and r["serviceaccount"]["role"] == "Editor", r
    token = ADMIN.serviceaccount.create_token(sa["id"], {"name": "smoke", "secondsToLive": 3600})
    assert token["key"].startswith("glsa_"), token
    u = urlparse(URL)
    bot = GrafanaApi.from_url(f"{u.scheme}://{u.hostname}:{u.port}{u.path}", credential=token["key"])
    assert bot.organization.get_current_organization()["id"] == 1
    me = bot.user.get_actual_user()
    assert me["uid"] == f"service-account:{sa['id']}", me
    # An Editor token: no team management (Admin only).
    expect_status(403, bot.teams.add_team, {"name": f"bot-team-{SUFFIX}"})
    tokens = ADMIN.serviceaccount.get_tokens(sa["id"])
    assert [t["name"] for t in tokens] == ["smoke"] and "key" not in tokens[0], tokens
    r = ADMIN.serviceaccount.delete_token(sa["id"], token["id"])
    assert r == {"message": "Service account token deleted"}, r
    expect_status(401, bot.organization.get_current_organization)
    r = ADMIN.serviceaccount.delete(sa["id"])
    assert r == {"message": "Service account deleted"}, r


@step
def test_dashboards_stars_and_preferences():
    # Round trip as grafana-client users write it: save, read (dashboard + meta), change the read
    # object and save it back (update_dashboard copies meta.folderUid), search, star, delete.
    saved = ADMIN.dashboard.update_dashboard({"dashboard": {"title": f"Smoke {SUFFIX}", "tags": ["smoke"]}})
    assert saved["status"] == "success" and saved["version"] == 1, saved
    got = ADMIN.dashboard.get_dashboard(saved["uid"])
    has_fields(got["meta"], {"slug", "url", "canSave", "folderUid", "version", "created"}, "meta")
    got["dashboard"]["title"] = f"Smoke {SUFFIX} v2"
    again = ADMIN.dashboard.update_dashboard({"dashboard": got["dashboard"], "meta": got["meta"]})
    assert again["version"] == 2 and again["uid"] == saved["uid"], again
    hits = ADMIN.search.search_dashboards(query=f"smoke {SUFFIX}", tag="smoke")
    assert [h["uid"] for h in hits] == [saved["uid"]], hits
    assert ADMIN.user.star_dashboard(saved["uid"]) == {"message": "Dashboard starred!"}
    assert ADMIN.search.search_dashboards(starred=True)[0]["isStarred"] is True
    assert ADMIN.user.unstar_dashboard(saved["id"]) == {"message": "Dashboard unstarred"}
    prefs = {"theme": "light", "homeDashboardUID": saved["uid"], "timezone": "utc"}
    assert ADMIN.user.update_preferences(prefs) == {"message": "Preferences updated"}
    assert ADMIN.user.get_preferences() == prefs
    assert ADMIN.user.patch_preferences({"theme": "dark"}) == {"message": "Preferences updated"}
    assert ADMIN.user.get_preferences()["theme"] == "dark"
    expect_status(400, ADMIN.organization.patch_preferences, PersonalPreferences(theme="purple"))
    r = ADMIN.dashboard.delete_dashboard(saved["uid"])
    assert r["message"] == f"Dashboard Smoke {SUFFIX} v2 deleted", r
    expect_status(404, ADMIN.dashboard.get_dashboard, saved["uid"])


@step
def test_admin_delete_user():
    r = ADMIN.admin.delete_user(state["id"])
    assert r == {"message": "User deleted"}, r
    expect_status(404, ADMIN.users.get_user, state["id"])
    assert ADMIN.users.search_users(query=LOGIN) == []


print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
