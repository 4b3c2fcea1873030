//! Limits on user input and the checks that enforce them, shared by browser and server.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest project name, in characters.
pub const PROJECT_NAME_MAX_CHARS: usize = 100;
/// The longest project description, in characters.
pub const PROJECT_DESCRIPTION_MAX_CHARS: usize = 10_000;

/// A problem with one field of a form, said so that a person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name in the form (`name`, `description`, …).
    pub field: String,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks a project name and returns it trimmed.
pub fn validate_project_name(name: &str) -> Result<String, FieldError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new("name", "Give the project a name."));
    }
    let chars = trimmed.chars().count();
    if chars > PROJECT_NAME_MAX_CHARS {
        return Err(FieldError::new(
            "name",
            format!("The name is {chars} characters long; the limit is {PROJECT_NAME_MAX_CHARS}."),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new("name", "The name cannot contain control characters."));
    }
    Ok(trimmed.to_owned())
}

/// Checks an optional project description and returns it trimmed.
pub fn validate_project_description(description: &str) -> Result<String, FieldError> {
    let trimmed = description.trim();
    let chars = trimmed.chars().count();
    if chars > PROJECT_DESCRIPTION_MAX_CHARS {
        return Err(FieldError::new(
            "description",
            format!(
                "The description is {chars} characters long; the limit is {PROJECT_DESCRIPTION_MAX_CHARS}."
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        let long_accented = "é".repeat(100);
        let too_long = "x".repeat(300);
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("Library", Ok("Library")),
            ("  spaced  ", Ok("spaced")),
            (&long_accented, Ok(&long_accented)),
            ("", Err("Give the project a name.")),
            ("   ", Err("Give the project a name.")),
            ("tab\tinside", Err("The name cannot contain control characters.")),
            (&too_long, Err("The name is 300 characters long; the limit is 100.")),
        ];
        for (input, expected) in cases {
            let got = validate_project_name(input);
            match expected {
                Ok(name) => assert_eq!(got.as_deref(), Ok(*name), "input {input:?}"),
                Err(message) => {
                    let err = got.expect_err(input);
                    assert_eq!(err.field, "name");
                    assert_eq!(err.message, *message);
                }
            }
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(validate_project_description("  a shop "), Ok("a shop".to_owned()));
        assert_eq!(validate_project_description(""), Ok(String::new()));
        let err = validate_project_description(&"d".repeat(10_001)).expect_err("too long");
        assert_eq!(err.field, "description");
    }
}
