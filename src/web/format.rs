//! Small things pages show and read: ages of RFC 3339 times, field errors, form values.

use chrono::{DateTime, Utc};

/// Grafana's age string ("3 days") of an RFC 3339 time the API answered, "" if it has none.
pub fn age(rfc3339: &str, now: DateTime<Utc>) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => crate::domain::age_string(now - t.with_timezone(&Utc)),
        Err(_) => String::new(),
    }
}

/// Errors of a form that was sent back, each next to the field it concerns (`""` for the form
/// as a whole).
#[derive(Debug, Default, Clone)]
pub struct Errors {
    /// Which form of the page they belong to.
    pub form: String,
    items: Vec<(String, String)>,
}

impl Errors {
    pub fn none() -> Self {
        Errors::default()
    }

    /// One error of `form`: for the field whose name the API's message mentions (by the
    /// `fields` keywords), else for the form as a whole.
    pub fn from_message(form: &str, message: &str, fields: &[(&str, &str)]) -> Self {
        let lower = message.to_lowercase();
        let field = fields
            .iter()
            .find(|(keyword, _)| lower.contains(keyword))
            .map(|(_, field)| *field)
            .unwrap_or("");
        Errors {
            form: form.to_string(),
            items: vec![(field.to_string(), message.to_string())],
        }
    }

    pub fn field(form: &str, field: &str, message: &str) -> Self {
        Errors {
            form: form.to_string(),
            items: vec![(field.to_string(), message.to_string())],
        }
    }

    /// The error of `field` in `form`, if there is one.
    pub fn get(&self, form: &str, field: &str) -> Option<&str> {
        if self.form != form {
            return None;
        }
        self.items
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The error of `form` as a whole.
    pub fn general(&self, form: &str) -> Option<&str> {
        self.get(form, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_message_lands_next_to_the_field_it_names() {
        let e = Errors::from_message(
            "edit",
            "Email is already in use",
            &[("login", "login"), ("email", "email")],
        );
        assert_eq!(e.get("edit", "email"), Some("Email is already in use"));
        assert_eq!(e.get("edit", "login"), None);
        assert_eq!(e.get("other", "email"), None);
        let e = Errors::from_message("edit", "Something else", &[("email", "email")]);
        assert_eq!(e.general("edit"), Some("Something else"));
    }

    #[test]
    fn ages_are_grafanas_strings() {
        let now = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(age("2026-01-07T00:00:00Z", now), "3 days");
        assert_eq!(age("", now), "");
    }
}
