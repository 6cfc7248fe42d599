//! `GET /avatar/:hash`: the image behind every user DTO's `avatarUrl`. Grafana fetches it from
//! Gravatar (`pkg/api/avatar/avatar.go`) unless `[security] disable_gravatar`; this server has
//! no way out to the internet in the places it is built for, so it draws an identicon from the
//! hash instead: the same hash always gives the same picture, and a page never shows a broken
//! image.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A 5×5 mirrored pattern and a colour, both taken from the hash, as SVG.
pub fn identicon(hash: &str) -> String {
    let bytes: Vec<u8> = (0..hash.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).ok())
        .collect();
    let byte = |i: usize| bytes.get(i % bytes.len().max(1)).copied().unwrap_or(0);
    let hue = (u16::from(byte(0)) * 360 / 256) as u32;
    let mut cells = String::new();
    for row in 0..5 {
        for col in 0..3 {
            let bit = byte(1 + row * 3 + col) & 1 == 1;
            if bit {
                for x in [col, 4 - col] {
                    cells.push_str(&format!(
                        r#"<rect x="{}" y="{}" width="1" height="1"/>"#,
                        x + 1,
                        row + 1
                    ));
                    if x == 2 {
                        break;
                    }
                }
            }
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" shape-rendering="crispEdges"><rect width="7" height="7" fill="#f0f0f0"/><g fill="hsl({hue},55%,48%)">{cells}</g></svg>"##
    )
}

pub async fn serve(Path(hash): Path<String>) -> Response {
    let hash = hash.to_ascii_lowercase();
    let valid = !hash.is_empty() && hash.len() <= 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"message": "Avatar not found"})),
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        identicon(&hash),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::identicon;

    #[test]
    fn the_same_hash_draws_the_same_picture_and_others_differ() {
        let a = identicon("0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(a, identicon("0cc175b9c0f1b6a831c399e269772661"));
        assert_ne!(a, identicon("92eb5ffee6ae2fec3ad71c777531578f"));
        assert!(a.starts_with("<svg"));
    }
}
