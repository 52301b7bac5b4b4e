//! Login names: what a person types to sign in.
//!
//! Lowercase ASCII letters, digits, `.`, `-` and `_`, 3 to 64 characters, starting with a
//! letter. Vietnamese names are written without diacritics in a login (`hong.nguyen`), as in
//! the sector's own systems, so that a login can be typed on any keyboard and compared
//! byte for byte; the person's full name, with diacritics, is kept beside it.

use std::fmt;

/// A login name that meets the rule; compared case-insensitively by being lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoginName(String);

/// Why a login name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("login must be 3 to 64 characters long, got {0}")]
    Length(usize),
    #[error("login must start with a letter a-z")]
    Start,
    #[error("login may contain only a-z, 0-9, '.', '-' and '_'; {0:?} is not allowed")]
    Character(char),
}

impl LoginError {
    /// The refusal in Vietnamese, for the person creating the account.
    pub fn vietnamese(&self) -> String {
        match self {
            LoginError::Length(n) => {
                format!("Tên đăng nhập phải dài từ 3 đến 64 ký tự (đang có {n}).")
            }
            LoginError::Start => "Tên đăng nhập phải bắt đầu bằng một chữ cái a–z.".to_owned(),
            LoginError::Character(c) => format!(
                "Tên đăng nhập chỉ gồm chữ a–z không dấu, chữ số, dấu chấm, gạch ngang và \
                 gạch dưới; không dùng được ký tự «{c}»."
            ),
        }
    }
}

impl LoginName {
    /// Parses a login as typed: surrounding spaces are dropped and letters lowercased.
    pub fn parse(typed: &str) -> Result<Self, LoginError> {
        let login = typed.trim().to_ascii_lowercase();
        let length = login.chars().count();
        if !(3..=64).contains(&length) {
            return Err(LoginError::Length(length));
        }
        if !login.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(LoginError::Start);
        }
        if let Some(c) = login.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        }) {
            return Err(LoginError::Character(c));
        }
        Ok(Self(login))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_login_is_trimmed_and_lowercased() {
        assert_eq!(
            LoginName::parse("  Hong.Nguyen ").unwrap().as_str(),
            "hong.nguyen"
        );
    }

    #[test]
    fn diacritics_spaces_and_short_names_are_refused_with_the_rule() {
        assert_eq!(LoginName::parse("hồng"), Err(LoginError::Character('ồ')));
        assert_eq!(LoginName::parse("an hoa"), Err(LoginError::Character(' ')));
        assert_eq!(LoginName::parse("ab"), Err(LoginError::Length(2)));
        assert_eq!(LoginName::parse("9an"), Err(LoginError::Start));
        assert!(LoginError::Character('ồ').vietnamese().contains("«ồ»"));
    }
}
