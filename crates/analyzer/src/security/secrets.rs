//! Hard-coded secrets: known token formats anywhere in strings and comments, and
//! high-entropy strings bound to names that say they are secret.

use std::sync::LazyLock;

use regex::Regex;

/// Known token formats: (rule id, what it is, pattern).
const TOKEN_FORMATS: &[(&str, &str, &str)] = &[
    ("secret.aws-access-key", "an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "secret.github-token",
        "a GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
    ),
    (
        "secret.private-key",
        "a private key",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
    ),
    ("secret.slack-token", "a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    ("secret.stripe-key", "a Stripe secret key", r"\b[sr]k_live_[0-9A-Za-z]{24,}\b"),
    ("secret.google-api-key", "a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
];

static TOKENS: LazyLock<Vec<(&'static str, &'static str, Regex)>> = LazyLock::new(|| {
    TOKEN_FORMATS
        .iter()
        .filter_map(|(id, what, pattern)| Regex::new(pattern).ok().map(|re| (*id, *what, re)))
        .collect()
});

/// Names that say a value is secret.
static SECRET_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(pass(word|wd)?|secret|token|api_?key|apikey|access_?key|private_?key|auth_?key|credential)")
        .ok()
});

/// Names that look secret but hold no secret.
const NOT_SECRET_NAMES: &[&str] =
    &["token_type", "tokenizer", "password_field", "secret_name", "key_name"];

/// All token formats in one automaton: most strings match none, and one pass says so.
static ANY_TOKEN: LazyLock<Option<regex::RegexSet>> =
    LazyLock::new(|| regex::RegexSet::new(TOKEN_FORMATS.iter().map(|(_, _, p)| *p)).ok());

/// The known tokens in `text`: (rule id, what it is).
pub(crate) fn known_tokens(text: &str) -> Vec<(&'static str, &'static str)> {
    let Some(set) = ANY_TOKEN.as_ref() else { return Vec::new() };
    let matched = set.matches(text);
    if !matched.matched_any() {
        return Vec::new();
    }
    TOKENS
        .iter()
        .enumerate()
        .filter(|(i, _)| matched.matched(*i))
        .map(|(_, (id, what, _))| (*id, *what))
        .collect()
}

/// Whether `name` says its value is a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !NOT_SECRET_NAMES.iter().any(|n| lower.ends_with(n))
        && SECRET_NAME.as_ref().is_some_and(|re| re.is_match(name))
}

/// A value that looks generated rather than written: long, no spaces, and mixed enough.
pub(crate) fn looks_random(value: &str) -> bool {
    let length = value.chars().count();
    (16..=256).contains(&length)
        && !value.chars().any(char::is_whitespace)
        && !value.contains("://")
        && !value.starts_with('$')
        && !value.starts_with('{')
        && shannon_entropy(value) >= 3.5
}

/// Bits of entropy per character.
pub(crate) fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let length = value.chars().count() as f64;
    counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / length;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_formats() {
        let cases: &[(&str, &[&str])] = &[
            ("AKIAIOSFODNN7EXAMPLE", &["secret.aws-access-key"]),
            ("key = AKIAIOSFODNN7EXAMPL", &[]),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", &["secret.github-token"]),
            ("-----BEGIN RSA PRIVATE KEY-----", &["secret.private-key"]),
            ("-----BEGIN PUBLIC KEY-----", &[]),
            ("xoxb-123456789012-abcdefghij", &["secret.slack-token"]),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", &["secret.stripe-key"]),
            ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", &[]),
            ("AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", &["secret.google-api-key"]),
            ("hello world", &[]),
        ];
        for (text, expected) in cases {
            let ids: Vec<_> = known_tokens(text).into_iter().map(|(id, _)| id).collect();
            assert_eq!(ids, *expected, "{text}");
        }
    }

    #[test]
    fn secret_names_and_random_values() {
        for name in [
            "password",
            "DB_PASSWORD",
            "apiKey",
            "api_key",
            "secret",
            "githubToken",
            "self.access_key",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["username", "token_type", "path", "keyboard"] {
            assert!(!is_secret_name(name), "{name}");
        }
        assert!(looks_random("9f8Kq2LmZx7Rt4Vb1Nc6"));
        assert!(!looks_random("changeme"), "too short");
        assert!(!looks_random("aaaaaaaaaaaaaaaaaaaa"), "one character repeated");
        assert!(!looks_random("correct horse battery staple"), "words with spaces");
        assert!(!looks_random("https://example.com/a/b/c/d"));
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
