//! The audit log: who changed what, from where.
//!
//! A change writes its record with [`crate::store::Tx::audit`], inside the change's own
//! transaction, so a change without its record cannot commit and a change that fails leaves no
//! record. Who is acting comes from the request's [`Context`], set once per request by the route
//! middleware (`crate::api::authorize`, with `crate::auth::audit_context`) — or by provisioning and the command line for their own
//! runs — so that no writer passes it by hand. The route middleware also counts the records a
//! state-changing route committed: a route that answers success without one is a programming
//! error, refused in debug builds (every test) and logged in release builds.
//!
//! Each record carries a SHA-256 chain hash over its content and the previous record's hash
//! (`crate::store::audit`); `usher audit verify` walks the chain.

pub mod sink;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who is acting and from where: the part of a record every change of one request shares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// `user`, `service_account`, `anonymous` (a sign-in attempt), `provisioning`, `cli` or
    /// `system` (the server's own start-up and clean-ups).
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    /// The user's or service account's login; for the server's own actors, their kind.
    pub actor_login: String,
    /// The service-account token or API key of a machine-authenticated request.
    pub token_id: Option<i64>,
    /// `password` (basic auth or a sign-in form), `session`, `token`, or the actor's kind.
    pub auth_method: String,
    pub client_ip: String,
    pub user_agent: String,
    pub request_id: String,
    /// The org the request acted in (0: none).
    pub org_id: i64,
}

impl Context {
    /// The server acting on its own behalf: `provisioning`, `cli` or `system`.
    pub fn server(kind: &str) -> Self {
        Context {
            actor_kind: kind.to_string(),
            actor_login: kind.to_string(),
            auth_method: kind.to_string(),
            ..Context::default()
        }
    }

    /// Someone not (yet) signed in: a sign-in attempt, named by the login they typed, from
    /// this address and user agent.
    pub fn anonymous(login: &str, client_ip: &str, user_agent: &str, request_id: &str) -> Self {
        Context {
            actor_kind: "anonymous".to_string(),
            actor_login: truncate(login, 190),
            auth_method: "password".to_string(),
            client_ip: client_ip.to_string(),
            user_agent: user_agent.to_string(),
            request_id: request_id.to_string(),
            ..Context::default()
        }
    }
}

/// What a change did: Grafana's RBAC action name where one exists (`users:create`,
/// `org.users:write`, `teams:delete` …), its target, a summary of what changed, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub action: String,
    /// The org the target belongs to, when it is not the request's org (`None`: the request's).
    pub org_id: Option<i64>,
    pub target: Target,
    pub changes: Vec<Change>,
    pub outcome: Outcome,
    /// Why a sign-in failed or a request was refused; empty on success.
    pub reason: String,
}

impl Event {
    /// A successful change of `target`.
    pub fn new(action: &str, target: Target) -> Self {
        Event {
            action: action.to_string(),
            org_id: None,
            target,
            changes: Vec::new(),
            outcome: Outcome::Success,
            reason: String::new(),
        }
    }

    /// The change was made in (or to) this org.
    pub fn in_org(mut self, org_id: i64) -> Self {
        self.org_id = Some(org_id);
        self
    }

    /// A field that changed (or was set, on a create: `old` is `None`).
    pub fn change(
        mut self,
        field: &str,
        old: Option<impl Into<Value>>,
        new: Option<impl Into<Value>>,
    ) -> Self {
        let (old, new) = (old.map(Into::into), new.map(Into::into));
        if old != new {
            self.changes.push(Change {
                field: field.to_string(),
                old,
                new,
                secret: false,
            });
        }
        self
    }

    /// A field set to a value (a create, or the new state of a flag).
    pub fn set(self, field: &str, new: impl Into<Value>) -> Self {
        self.change(field, None::<Value>, Some(new))
    }

    /// A secret that changed (a password, a token): its name only, never a value.
    pub fn secret(mut self, field: &str) -> Self {
        self.changes.push(Change {
            field: field.to_string(),
            old: None,
            new: None,
            secret: true,
        });
        self
    }

    pub fn failed(mut self, reason: &str) -> Self {
        self.outcome = Outcome::Failure;
        self.reason = truncate(reason, 255);
        self
    }

    pub fn denied(mut self, reason: &str) -> Self {
        self.outcome = Outcome::Denied;
        self.reason = truncate(reason, 255);
        self
    }
}

/// What a change was made to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `user`, `service_account`, `token`, `api_key`, `org`, `org_user`, `team`,
    /// `team_member`, `role`, `session`, `dashboard`, `preferences`, `quota`, `star`, `route` …
    pub kind: String,
    pub id: String,
    /// The login, name or title, as it was when the record was written.
    pub name: String,
}

impl Target {
    pub fn new(kind: &str, id: impl ToString, name: &str) -> Self {
        Target {
            kind: kind.to_string(),
            id: truncate(&id.to_string(), 190),
            name: truncate(name, 255),
        }
    }
}

/// One changed field: old → new for values, the name alone for secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    /// The attempt was made and failed (a wrong password).
    Failure,
    /// The caller may not do it (403).
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// One request's (or one provisioning run's) context, and how many records it has committed.
struct Scope {
    context: Arc<Mutex<Context>>,
    committed: Arc<AtomicUsize>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// Runs `work` with `context` as the actor of every record it writes; answers its output, how
/// many records it committed, and the context as it ended (see [`set_context`]).
pub async fn scoped<F: Future>(context: Context, work: F) -> (F::Output, usize, Context) {
    let committed = Arc::new(AtomicUsize::new(0));
    let context = Arc::new(Mutex::new(context));
    let scope = Scope {
        context: context.clone(),
        committed: committed.clone(),
    };
    let out = SCOPE.scope(scope, work).await;
    let context = lock(&context).clone();
    (out, committed.load(Ordering::Acquire), context)
}

/// The acting context: the current scope's, or the server's own outside any.
pub fn current() -> Context {
    SCOPE
        .try_with(|s| lock(&s.context).clone())
        .unwrap_or_else(|_| Context::server("system"))
}

/// Names the actor of the current scope once it is known (the route middleware, after it has
/// identified the caller). Outside a scope it does nothing.
pub fn set_context(context: Context) {
    let _ = SCOPE.try_with(|s| *lock(&s.context) = context);
}

fn lock(m: &Mutex<Context>) -> std::sync::MutexGuard<'_, Context> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The request's id: a client's `X-Request-Id` when it is a plain token of at most 64
/// characters, else a new random one.
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    let given = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        });
    match given {
        Some(v) => v.to_string(),
        None => {
            let bytes: [u8; 12] = rand::random();
            hex::encode(bytes)
        }
    }
}

/// Counts records committed in the current scope (`crate::store::Tx::commit`).
pub(crate) fn note_committed(n: usize) {
    let _ = SCOPE.try_with(|s| s.committed.fetch_add(n, Ordering::AcqRel));
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_field_is_not_a_change_and_a_secret_has_no_value() {
        let e = Event::new("users:write", Target::new("user", 2, "kim"))
            .change("email", Some("a@x"), Some("a@x"))
            .change("name", Some("A"), Some("B"))
            .secret("password");
        assert_eq!(e.changes.len(), 2);
        let json = serde_json::to_string(&e.changes).unwrap();
        assert_eq!(
            json,
            r#"[{"field":"name","old":"A","new":"B"},{"field":"password","secret":true}]"#
        );
    }

    #[tokio::test]
    async fn a_scope_names_the_actor_and_counts_commits() {
        assert_eq!(current().actor_kind, "system");
        let (kind, n, _) = scoped(Context::server("cli"), async {
            note_committed(2);
            current().actor_kind
        })
        .await;
        assert_eq!((kind.as_str(), n), ("cli", 2));
    }
}
