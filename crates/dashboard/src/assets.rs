//! The dashboard's one stylesheet, compiled into the binary and served under a name that
//! carries a hash of its content, so browsers may cache it for a year: a new stylesheet is a
//! new address.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::PageError;

/// The stylesheet.
const STYLE: &str = include_str!("style.css");

/// FNV-1a over the stylesheet, computed at compile time.
const STYLE_HASH: u64 = fnv1a(STYLE.as_bytes());

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The route of the static files.
pub const ROUTE: &str = "/tai-nguyen/{file}";

/// The file name of the current stylesheet, `giao-dien-<hash>.css`.
pub fn style_file() -> String {
    format!("giao-dien-{STYLE_HASH:016x}.css")
}

/// The address pages link the stylesheet at.
pub fn style_href() -> String {
    format!("/tai-nguyen/{}", style_file())
}

/// Serves the stylesheet under its current name; any other name is the 404 page.
pub async fn serve(Path(file): Path<String>) -> Response {
    if file != style_file() {
        return PageError::NoSuchPage(format!("/tai-nguyen/{file}")).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        STYLE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_changes_with_the_content() {
        assert_ne!(fnv1a(b"a{}"), fnv1a(b"b{}"));
        assert!(style_href().starts_with("/tai-nguyen/giao-dien-"));
        assert!(style_href().ends_with(".css"));
    }
}
