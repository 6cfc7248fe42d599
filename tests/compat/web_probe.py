"""Attacker and person probes of the web interface against a running server (a release build,
fresh data dir, admin/admin): `python3 tests/compat/web_probe.py http://127.0.0.1:3111`. Start the
server with GF_SERVER_READ_TIMEOUT=5s for the never-sent-body probe."""
import base64, json, re, socket, sys, time, concurrent.futures as cf
import urllib.request, urllib.parse, http.cookiejar

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3111"
ADMIN = "Basic " + base64.b64encode(b"admin:admin").decode()
results = []

def check(name, ok, detail=""):
    results.append((name, ok))
    print(("PASS " if ok else "FAIL ") + name + (f"  [{detail}]" if detail else ""))

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None

def api(method, path, body=None, auth=ADMIN, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", auth)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except Exception:
            return e.code, raw.decode(errors="replace")

class Web:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.csrf = ""
    def send(self, method, path, form=None, headers=None, raw=None):
        data = raw if raw is not None else (urllib.parse.urlencode(form).encode() if form is not None else None)
        req = urllib.request.Request(BASE + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            r = self.op.open(req)
            status, body, hdrs = r.status, r.read().decode(errors="replace"), r.headers
        except urllib.error.HTTPError as e:
            status, body, hdrs = e.code, e.read().decode(errors="replace"), e.headers
        m = re.search(r'name="_csrf" value="([^"]+)"', body)
        if m:
            self.csrf = m.group(1)
        return status, body, hdrs
    def page(self, path):
        return self.send("GET", path)
    def submit(self, path, fields, headers=None):
        return self.send("POST", path, {"_csrf": self.csrf, **fields}, headers)
    def sign_in(self, login, pw):
        self.page("/login")
        return self.submit("/login", {"user": login, "password": pw})

def user(login, pw="pass-word-1", org_role=None):
    s, b = api("POST", "/api/admin/users", {"login": login, "name": login.title(), "email": f"{login}@example.com", "password": pw})
    uid = b["id"]
    if org_role:
        api("PATCH", f"/api/org/users/{uid}", {"role": org_role})
    return uid

# --- setup: org 2 with a team and a service account; eve (Viewer), ada (org Admin) in org 1
s, o = api("POST", "/api/orgs", {"name": "Other"})
other = o["orgId"]
s, t2 = api("POST", "/api/teams", {"name": "Secret team"}, headers={"X-Grafana-Org-Id": str(other)})
s, sa2 = api("POST", "/api/serviceaccounts", {"name": "other-bot", "role": "Viewer"}, headers={"X-Grafana-Org-Id": str(other)})
eve = user("eve")
ada = user("ada", org_role="Admin")
s, t1 = api("POST", "/api/teams", {"name": "Home team"})

# --- an ordinary Viewer
w = Web()
s, _, h = w.sign_in("eve", "pass-word-1")
check("eve signs in with the form", s == 303, s)
for path in ["/admin/users", "/admin/users/edit/1", "/admin/users/new", "/org/serviceaccounts", f"/org/serviceaccounts/{sa2['id']}"]:
    s, body, _ = w.page(path)
    check(f"Viewer refused {path}", s == 403 and "other-bot" not in body, s)
s, body, _ = w.page(f"/org/teams/edit/{t2['uid']}")
check("another org's team by uid: refused, name not shown", s in (403, 404) and "Secret team" not in body, s)
s, body, _ = w.page(f"/org/teams/edit/{t2['teamId']}")
check("another org's team by id: refused, name not shown", s in (403, 404) and "Secret team" not in body, s)
# a forged Server admin grant through the page
s, body, _ = w.submit("/admin/users/edit/%d/permissions" % eve, {"is_grafana_admin": "true"})
st, me = api("GET", f"/api/users/{eve}")
check("Viewer cannot make herself Server admin", s == 403 and me["isGrafanaAdmin"] is False, s)

# --- an org Admin reaching into org 2, and above their role
a = Web(); a.sign_in("ada", "pass-word-1")
s, body, _ = a.page(f"/org/teams/edit/{t2['teamId']}")
check("org Admin: another org's team is not found", s in (403, 404) and "Secret team" not in body, s)
s, body, _ = a.page(f"/org/serviceaccounts/{sa2['id']}")
check("org Admin: another org's service account is not found", s in (403, 404) and "other-bot" not in body, s)
s, body, _ = a.submit(f"/org/serviceaccounts/{sa2['id']}/delete", {})
st, still = api("GET", f"/api/serviceaccounts/{sa2['id']}", headers={"X-Grafana-Org-Id": str(other)})
check("org Admin cannot delete another org's service account", s in (403, 404) and st == 200, (s, st))
s, body, _ = a.page("/admin/users")
check("org Admin (no Server admin) refused the server's user list", s == 403, s)
s, body, _ = a.submit(f"/admin/users/edit/{ada}/permissions", {"is_grafana_admin": "true"})
st, me = api("GET", f"/api/users/{ada}")
check("org Admin cannot grant herself Server admin", me["isGrafanaAdmin"] is False, s)

# --- CSRF and redirects
s, body, _ = a.send("POST", "/profile", {"_csrf": a.csrf, "name": "X", "email": "ada@example.com", "login": "ada"}, headers={"Origin": "https://evil.example"})
check("cross-origin form refused", s == 403, s)
s, body, _ = a.send("POST", "/profile", {"name": "X", "email": "ada@example.com", "login": "ada"})
check("form without token refused", s == 403, s)
n = Web(); n.page("/login?redirectTo=//evil.example/x")
s, _, h = n.submit("/login", {"user": "eve", "password": "pass-word-1", "redirectTo": "//evil.example/x"})
check("no open redirect after sign-in", s == 303 and h["Location"] == "/", h.get("Location"))

# --- hostile input (each form with the token of the page it is on)
a.page("/profile")
s, body, _ = a.submit("/profile", {"name": "a\x00b", "email": "ada@example.com", "login": "ada"})
check("NUL in a profile field: a 4xx with a message, no 500", 400 <= s < 500 and "field-error" in body or "flash-error" in body, s)
n = Web(); n.page("/login")
s, body, _ = n.submit("/login", {"user": "ad\x00min", "password": "admin"})
check("NUL in the login: refused like a wrong password", s == 401 and "Invalid username or password" in body, s)
s, body, _ = a.submit("/profile", {"name": "N" * 20000, "email": "ada@example.com", "login": "ada"})
check("a 20,000-character name: 4xx, no 500", 400 <= s < 500, s)
big = b"_csrf=x&name=" + b"A" * (2 * 1024 * 1024)
s, body, _ = a.send("POST", "/profile", raw=big)
check("a 2 MiB form: 413", s == 413, s)
s, body, _ = a.page("/admin/users?query=%00")
check("NUL in a search: 4xx (no 500)", 400 <= s < 500, s)
s, body, _ = a.page("/org/teams?page=-5&query=" + "x" * 5000)
check("silly paging and a 5,000-character query: answered", s in (200, 400, 414), s)

# --- a body sent late, or never
host, port = BASE.replace("http://", "").split(":")
cookie = "; ".join(f"{c.name}={c.value}" for c in a.jar)
a.page("/profile")
def raw_post(delay_body, send_body):
    sock = socket.create_connection((host, int(port)), timeout=30)
    body = f"_csrf={a.csrf}&name=Late&email=ada%40example.com&login=ada".encode()
    head = (f"POST /profile HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    t0 = time.time()
    sock.sendall(head)
    if send_body:
        time.sleep(delay_body)
        sock.sendall(body)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    sock.close()
    return data.split(b"\r\n")[0].decode(errors="replace"), time.time() - t0
line, took = raw_post(1.0, True)
check("a body that comes 1 s late is read", " 303 " in line, f"{line} in {took:.1f}s")
line, took = raw_post(0, False)
check("a body that never comes: a 4xx after read_timeout, no hang", (" 400 " in line or " 408 " in line or line == "") and took < 15, f"{line!r} in {took:.1f}s")

# --- many parallel sign-ins with the form
def one(i):
    x = Web()
    x.page("/login")
    s, _, _ = x.submit("/login", {"user": f"nobody{i}", "password": "wrong"})
    return s
t0 = time.time()
with cf.ThreadPoolExecutor(64) as ex:
    codes = list(ex.map(one, range(300)))
took = time.time() - t0
counts = {c: codes.count(c) for c in set(codes)}
check("300 parallel wrong sign-ins: 401/503 only, no 500", set(codes) <= {401, 503, 429}, f"{counts} in {took:.1f}s")
y = Web(); s, _, _ = y.sign_in("admin", "admin")
# The address may be locked by the flood (the per-address limit): then the right password is
# answered like a wrong one, never with a 500.
check("the admin right after, from the flooding address", s in (303, 401), s)

failed = [n for n, ok in results if not ok]
print(f"\n{len(results) - len(failed)}/{len(results)} passed")
sys.exit(1 if failed else 0)
