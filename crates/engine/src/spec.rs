//! The application spec: what an app stores (entities, fields, relations) and what it does
//! (operations and named actions), its checks, and the JSON schema a model answers in.

mod edit;
mod extract;
mod merge;
mod render;
mod sentences;
mod with_model;
pub mod words;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;

pub use edit::{MAX_EDITED_SPEC_BYTES, edited};
pub use extract::{Extraction, MAX_DESCRIPTION_BYTES, extract};
pub use merge::refine;
pub use render::summary;
pub use with_model::{extract_with_model, refine_with_model};

/// Most entities one spec holds.
pub const MAX_ENTITIES: usize = 40;
/// Most fields one entity holds.
pub const MAX_FIELDS: usize = 60;
/// Most values one enum holds, and the longest value.
pub const MAX_ENUM_VALUES: usize = 50;
pub const MAX_ENUM_VALUE_CHARS: usize = 60;
/// Most relations and actions one spec holds.
pub const MAX_RELATIONS: usize = 100;
pub const MAX_ACTIONS: usize = 60;
/// Longest summary.
pub const MAX_SUMMARY_CHARS: usize = 500;

/// Field names every generated app uses itself.
pub const RESERVED_FIELDS: &[&str] = &["id"];

/// An application, as the generator needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// snake_case name of the app (`library`, `expense_tracker`).
    pub name: String,
    /// One or two sentences saying what it is for.
    pub summary: String,
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub relations: Vec<Relation>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// A kind of thing the app stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// snake_case singular (`book`, `order_item`).
    pub name: String,
    /// snake_case plural, the collection's path (`books`, `order_items`).
    pub plural: String,
    pub fields: Vec<Field>,
    #[serde(default = "Operation::all")]
    pub operations: Vec<Operation>,
}

/// One stored value of an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// snake_case, as it appears in JSON.
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
}

fn yes() -> bool {
    true
}

/// The value types a field may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum FieldType {
    String,
    Text,
    Integer,
    Number,
    Boolean,
    Date,
    Datetime,
    Email,
    Url,
    /// One of these values, spelled as the description spells them.
    Enum(Vec<String>),
}

impl FieldType {
    /// The type's name in the spec (`string`, `enum`, …).
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Email => "email",
            Self::Url => "url",
            Self::Enum(_) => "enum",
        }
    }
}

/// How two entities are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// `from` holds a `<to>_id` field.
    BelongsTo,
    /// `to` holds a `<from>_id` field.
    HasMany,
    /// A link table joins the two.
    ManyToMany,
}

/// A link between two entities (by their singular names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub kind: RelationKind,
    pub from: String,
    pub to: String,
    /// Whether the link must be set (belongs-to only).
    #[serde(default = "yes")]
    pub required: bool,
}

/// The standard operations on an entity's collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    List,
    Read,
    Update,
    Delete,
}

impl Operation {
    /// All five, in REST order.
    pub fn all() -> Vec<Operation> {
        vec![Self::Create, Self::List, Self::Read, Self::Update, Self::Delete]
    }
}

/// A named thing people do beyond the standard operations (`borrow` a book).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// snake_case verb (`borrow`, `mark_done`).
    pub name: String,
    /// The entity acted on.
    pub entity: String,
    /// The entity that acts, when the description names one.
    #[serde(default)]
    pub actor: Option<String>,
}

impl AppSpec {
    /// The entity with this singular name.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|entity| entity.name == name)
    }

    /// Checks names, references and limits; the first problem found, as a sentence.
    pub fn check(&self) -> Result<(), EngineError> {
        let invalid = |message: String| Err(EngineError::InvalidSpec(message));
        check_limits(self)?;
        check_identifier("app name", &self.name)?;
        if self.summary.chars().count() > MAX_SUMMARY_CHARS {
            return invalid(format!("the summary is over {MAX_SUMMARY_CHARS} characters"));
        }
        if self.entities.is_empty() {
            return invalid("the spec has no entities".into());
        }
        let mut names = HashSet::new();
        for entity in &self.entities {
            check_identifier("entity name", &entity.name)?;
            check_identifier("entity plural", &entity.plural)?;
            let plural_is_new =
                entity.plural == entity.name || names.insert(entity.plural.as_str());
            if !names.insert(entity.name.as_str()) || !plural_is_new {
                return invalid(format!(
                    "the entity name `{}` or plural `{}` is used twice",
                    entity.name, entity.plural
                ));
            }
            check_fields(entity)?;
        }
        for relation in &self.relations {
            for end in [&relation.from, &relation.to] {
                if self.entity(end).is_none() {
                    return invalid(format!("a relation names `{end}`, which is not an entity"));
                }
            }
        }
        for action in &self.actions {
            check_identifier("action name", &action.name)?;
            for end in std::iter::once(&action.entity).chain(action.actor.as_ref()) {
                if self.entity(end).is_none() {
                    return invalid(format!(
                        "the action `{}` names `{end}`, which is not an entity",
                        action.name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The counts: how many entities, fields, relations and actions (and enum values) a spec
/// holds, before anything looks at their names.
fn check_limits(spec: &AppSpec) -> Result<(), EngineError> {
    let invalid = |message: String| Err(EngineError::InvalidSpec(message));
    if spec.entities.len() > MAX_ENTITIES {
        return invalid(format!("{} entities; at most {MAX_ENTITIES}", spec.entities.len()));
    }
    if spec.relations.len() > MAX_RELATIONS || spec.actions.len() > MAX_ACTIONS {
        return invalid(format!("at most {MAX_RELATIONS} relations and {MAX_ACTIONS} actions"));
    }
    for entity in &spec.entities {
        if entity.fields.len() > MAX_FIELDS {
            return invalid(format!(
                "`{}` has {} fields; at most {MAX_FIELDS}",
                entity.name.chars().take(80).collect::<String>(),
                entity.fields.len()
            ));
        }
        let too_many_values = entity.fields.iter().any(
            |field| matches!(&field.ty, FieldType::Enum(values) if values.len() > MAX_ENUM_VALUES),
        );
        if too_many_values {
            return invalid(format!(
                "`{}`: an enum holds at most {MAX_ENUM_VALUES} values",
                entity.name.chars().take(80).collect::<String>()
            ));
        }
    }
    Ok(())
}

fn check_fields(entity: &Entity) -> Result<(), EngineError> {
    let invalid = |message: String| Err(EngineError::InvalidSpec(message));
    let mut names = HashSet::new();
    for field in &entity.fields {
        check_identifier("field name", &field.name)?;
        if RESERVED_FIELDS.contains(&field.name.as_str()) {
            return invalid(format!(
                "`{}.{}`: every app adds `id` itself",
                entity.name, field.name
            ));
        }
        if !names.insert(field.name.as_str()) {
            return invalid(format!("`{}` has the field `{}` twice", entity.name, field.name));
        }
        if let FieldType::Enum(values) = &field.ty {
            if values.is_empty() || values.len() > MAX_ENUM_VALUES {
                return invalid(format!(
                    "`{}.{}`: an enum needs 1 to {MAX_ENUM_VALUES} values",
                    entity.name, field.name
                ));
            }
            let mut seen = HashSet::new();
            for value in values {
                let length = value.chars().count();
                if value.trim().is_empty() || length > MAX_ENUM_VALUE_CHARS || value.trim() != value
                {
                    return invalid(format!(
                        "`{}.{}`: enum values are 1 to {MAX_ENUM_VALUE_CHARS} characters without surrounding spaces",
                        entity.name, field.name
                    ));
                }
                if value.chars().any(char::is_control) {
                    return invalid(format!(
                        "`{}.{}`: an enum value holds a control character",
                        entity.name, field.name
                    ));
                }
                if !seen.insert(value.as_str()) {
                    return invalid(format!(
                        "`{}.{}`: the value `{value}` is listed twice",
                        entity.name, field.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Names are lowercase ASCII letters, digits and underscores, starting with a letter.
fn check_identifier(what: &str, name: &str) -> Result<(), EngineError> {
    let valid = !name.is_empty()
        && name.len() <= words::MAX_IDENTIFIER
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(EngineError::InvalidSpec(format!(
            "the {what} `{}` must be 1 to {} lowercase letters, digits or underscores, starting with a letter",
            name.chars().take(80).collect::<String>(),
            words::MAX_IDENTIFIER
        )))
    }
}

/// The JSON schema of an `AppSpec`, for a model's structured output.
pub fn json_schema() -> serde_json::Value {
    let identifier = serde_json::json!({
        "type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": words::MAX_IDENTIFIER
    });
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "summary", "entities", "relations", "actions"],
        "properties": {
            "name": identifier,
            "summary": { "type": "string", "maxLength": MAX_SUMMARY_CHARS },
            "entities": {
                "type": "array", "minItems": 1, "maxItems": MAX_ENTITIES,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "plural", "fields", "operations"],
                    "properties": {
                        "name": identifier,
                        "plural": identifier,
                        "fields": {
                            "type": "array", "maxItems": MAX_FIELDS,
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["name", "type", "required", "unique"],
                                "properties": {
                                    "name": identifier,
                                    "type": {
                                        "type": "object",
                                        "additionalProperties": false,
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": { "enum": ["string", "text", "integer", "number", "boolean", "date", "datetime", "email", "url", "enum"] },
                                            "values": {
                                                "type": "array", "maxItems": MAX_ENUM_VALUES,
                                                "items": { "type": "string", "minLength": 1, "maxLength": MAX_ENUM_VALUE_CHARS }
                                            }
                                        }
                                    },
                                    "required": { "type": "boolean" },
                                    "unique": { "type": "boolean" }
                                }
                            }
                        },
                        "operations": {
                            "type": "array",
                            "items": { "enum": ["create", "list", "read", "update", "delete"] }
                        }
                    }
                }
            },
            "relations": {
                "type": "array", "maxItems": MAX_RELATIONS,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind", "from", "to", "required"],
                    "properties": {
                        "kind": { "enum": ["belongs_to", "has_many", "many_to_many"] },
                        "from": identifier,
                        "to": identifier,
                        "required": { "type": "boolean" }
                    }
                }
            },
            "actions": {
                "type": "array", "maxItems": MAX_ACTIONS,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "entity", "actor"],
                    "properties": {
                        "name": identifier,
                        "entity": identifier,
                        "actor": { "type": ["string", "null"] }
                    }
                }
            }
        }
    })
}

/// Reads a model's JSON answer as a spec and checks it.
pub fn from_json(text: &str) -> Result<AppSpec, EngineError> {
    let spec: AppSpec = serde_json::from_str(text)
        .map_err(|error| EngineError::InvalidSpec(format!("the answer is not a spec: {error}")))?;
    spec.check()?;
    Ok(spec)
}

#[cfg(test)]
mod tests;
