//! Links and paging of the list pages: path segments sent on to the API, query strings, page
//! numbers read leniently, and the prev/next links of a search.

use serde::Deserialize;

/// One path segment, percent-encoded (everything but unreserved characters).
pub(super) fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=2`, encoded.
pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A page number from the query string: 1 when missing or not a positive number.
pub(super) fn page_number(raw: &str) -> i64 {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p > 0)
        .unwrap_or(1)
}

/// The `?query=&page=` of a search page (kept as text: a bad number is page 1, not an error).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SearchParams {
    pub query: String,
    pub page: String,
}

/// Paging links of a search list; they keep the query.
pub(super) struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// What the list counts, as `pager.html` says it ("team(s)").
    pub noun: &'static str,
}

impl Pager {
    /// The pager of a list of `noun`; `path` is the list's URL with the sub path.
    pub fn counting(
        noun: &'static str,
        path: &str,
        query: &str,
        page: i64,
        per_page: i64,
        total: i64,
    ) -> Pager {
        let pages = pages_of(total, per_page);
        let link = |p: i64| {
            let page = p.to_string();
            let q = if query.is_empty() {
                query_string(&[("page", &page)])
            } else {
                query_string(&[("query", query), ("page", &page)])
            };
            format!("{path}?{q}")
        };
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link((page - 1).min(pages))),
            next: (page < pages).then(|| link(page + 1)),
            noun,
        }
    }
}

impl Pager {
    /// The pager of a list whose API does not count its items (`GET /api/orgs`): there is a
    /// next page when this one is full. `pages` and `total` are 0, unknown.
    pub fn open(noun: &'static str, path: &str, query: &str, page: i64, more: bool) -> Pager {
        let mut p = Pager::counting(noun, path, query, page, 1, page + i64::from(more));
        p.pages = 0;
        p.total = 0;
        p
    }
}

/// How many pages `total` items fill, `per_page` to a page (at least one).
pub(super) fn pages_of(total: i64, per_page: i64) -> i64 {
    if per_page > 0 {
        ((total + per_page - 1) / per_page).max(1)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("abc-1_2.3~"), "abc-1_2.3~");
        assert_eq!(segment("a/b?c d"), "a%2Fb%3Fc%20d");
    }

    #[test]
    fn pager_links_keep_the_query() {
        let p = Pager::counting("team(s)", "/org/teams", "a b", 2, 30, 61);
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev.as_deref(), Some("/org/teams?query=a+b&page=1"));
        assert_eq!(p.next.as_deref(), Some("/org/teams?query=a+b&page=3"));
        let p = Pager::counting("team(s)", "/org/teams", "", 1, 30, 0);
        assert_eq!((p.pages, p.prev, p.next), (1, None, None));
        let p = Pager::open("org(s)", "/admin/orgs", "", 2, true);
        assert_eq!(p.prev.as_deref(), Some("/admin/orgs?page=1"));
        assert_eq!(p.next.as_deref(), Some("/admin/orgs?page=3"));
        let p = Pager::open("org(s)", "/admin/orgs", "x", 1, false);
        assert_eq!((p.pages, p.prev, p.next), (0, None, None));
    }
}
