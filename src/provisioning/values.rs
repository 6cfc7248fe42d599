//! Grafana's value interpolation in provisioning files (`pkg/services/provisioning/values`):
//! `$__env{NAME}` and `${NAME}` read the environment (unset: empty), `$__file{path}` reads a
//! file (trimmed; a missing file is an error), `$$` is a literal `$`.

/// Expands the references in one string value.
pub fn interpolate(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split("$$").collect();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        out.push(expand(part).map_err(|e| format!("failed to interpolate value '{value}': {e}"))?);
    }
    Ok(out.join("$"))
}

fn expand(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        // `$__kind{arg}` or `${arg}`.
        let (kind, after_kind) = if let Some(t) = tail.strip_prefix("__") {
            let end = t
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(t.len());
            (&t[..end], &t[end..])
        } else {
            ("", tail)
        };
        let Some(body) = after_kind.strip_prefix('{') else {
            out.push('$');
            rest = tail;
            continue;
        };
        let Some(close) = body.find('}') else {
            out.push('$');
            rest = tail;
            continue;
        };
        let arg = &body[..close];
        match kind {
            "" | "env" => out.push_str(&std::env::var(arg).unwrap_or_default()),
            "file" => {
                let text = std::fs::read_to_string(arg)
                    .map_err(|e| format!("got error while expanding expander file: {arg}: {e}"))?;
                out.push_str(text.trim());
            }
            other => return Err(format!("unknown expander {other}")),
        }
        rest = &body[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    #[test]
    fn references_expand_as_in_grafana() {
        std::env::set_var("USHER_VALUES_TEST", "secret");
        assert_eq!(interpolate("$__env{USHER_VALUES_TEST}").unwrap(), "secret");
        assert_eq!(
            interpolate("a-${USHER_VALUES_TEST}-b").unwrap(),
            "a-secret-b"
        );
        assert_eq!(interpolate("$__env{USHER_VALUES_UNSET}").unwrap(), "");
        assert_eq!(interpolate("cost: $$5").unwrap(), "cost: $5");
        assert_eq!(interpolate("plain $ sign").unwrap(), "plain $ sign");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "  from-file\n").unwrap();
        assert_eq!(
            interpolate(&format!("$__file{{{}}}", file.display())).unwrap(),
            "from-file"
        );
        let err = interpolate("$__file{/no/such/file}").unwrap_err();
        assert!(err.contains("/no/such/file"), "{err}");
    }
}
