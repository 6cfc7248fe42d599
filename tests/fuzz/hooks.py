"""Schemathesis hooks for tests/fuzz/run.sh: keep the fuzz run from locking itself out.

The run signs in as the server admin (user id 1, login `admin`, password `admin`) with basic
auth. These hooks change only the generated values that would take that sign-in away, so every
operation is still fuzzed:
- a user id of 1 in the path of a route that changes, deletes or re-roles a user becomes the id
  of `fuzz-target` (created by run.sh), so the admin's password, login, flag, org role and
  memberships stay as they are;
- `PUT /api/user` (the caller's own profile) keeps the login `admin`, also when it sends none
  (the email would become the login);
- `PUT /api/user/password` never sends the admin's real old password;
- `DELETE /api/orgs/1` (the admin's and new users' org) becomes an unknown org.
"""

import schemathesis

ADMIN_ID = 1
TARGET_ID = 2  # `fuzz-target`, the first user run.sh creates
USER_PARAMS = ("id", "userId")
MUTATING = ("PUT", "POST", "PATCH", "DELETE")


def _is_admin_id(value):
    return str(value).strip() == str(ADMIN_ID)


@schemathesis.hook
def map_case(context, case):
    method = case.operation.method.upper()
    path = case.operation.path
    params = case.path_parameters or {}
    if method in MUTATING:
        for name in USER_PARAMS:
            if name in params and _is_admin_id(params[name]) and _takes_user_id(path, name):
                params[name] = TARGET_ID
        if path == "/api/orgs/{orgId}" and method == "DELETE" and _is_admin_id(params.get("orgId")):
            params["orgId"] = 999999
    body = case.body
    if isinstance(body, dict):
        # Only a string is replaced, so that a wrongly typed login stays wrong for the
        # negative-data check.
        # A login with a control character (which the document forbids) stays one, so that a
        # negative case is still negative and refused before anything changes.
        if method == "PUT" and path == "/api/user" and isinstance(body.get("login"), str):
            body["login"] = "admin\x1f" if _has_control(body["login"]) else "admin"
        # Without a login the email becomes the login (Grafana's `handleUpdateUser`), which
        # would rename the admin too.
        if method == "PUT" and path == "/api/user" and "login" not in body:
            body["login"] = "admin"
        if method == "PUT" and path == "/api/user/password" and body.get("oldPassword") == "admin":
            body["oldPassword"] = "not-the-password"
    return case


def _has_control(text):
    """Unicode Cc, the characters the document's string patterns forbid."""
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def _takes_user_id(path, name):
    """Whether the path parameter `name` of `path` is a user's id."""
    if name == "userId":
        return True
    return path.startswith("/api/admin/users/{id}") or path.startswith("/api/users/{id}")


FREE_TEXT = ("query", "name", "loginOrEmail")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drop a "schema-violating request accepted" failure whose violating query value never
    reached the server: an empty list or object serialises to nothing, so the request sent was
    valid. Every other failure is kept."""
    if type(failure).__name__ != "AcceptedNegativeData":
        return True
    from urllib.parse import parse_qsl, urlsplit

    sent = {k for k, _ in parse_qsl(urlsplit(response.request.url).query, keep_blank_values=True)}
    query = case.query or {}
    unsent = [k for k in query if k not in sent]
    # The sent values must all be schema-valid for the drop: free text always is (the document
    # allows any text without control characters, which the server refuses with 400 anyway), and
    # the paging and sort values the server would refuse if wrong (so an accepted request had
    # valid ones).
    checked_by_server = FREE_TEXT + ("page", "perpage", "limit", "sort")
    only_valid_sent = all(k in checked_by_server for k in sent)
    dropped = bool(unsent) and all(query[k] in ([], {}, None) for k in unsent) and only_valid_sent
    return not dropped
