//! The spec as templates see it: entities in dependency order with their link columns as
//! fields, names escaped for the target language, and sample values (valid and invalid) for
//! the generated tests.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::spec::{AppSpec, Entity, FieldType, RelationKind};

/// Python words a field may not be called as an attribute (keywords, and names pydantic's
/// `BaseModel` already uses).
const PYTHON_RESERVED: &[&str] = &[
    "false",
    "none",
    "true",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "match",
    "case",
    "type",
    "json",
    "dict",
    "copy",
    "schema",
    "validate",
    "construct",
    "fields",
    "parse_obj",
    "parse_raw",
    "parse_file",
    "from_orm",
    "schema_json",
    "update_forward_refs",
    "id",
];

#[derive(Debug, Clone, Serialize)]
pub struct ProjectView {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub entities: Vec<EntityView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityView {
    pub name: String,
    pub plural: String,
    /// CamelCase, for class names (always used with a suffix: `BookIn`, `BookOut`).
    pub class: String,
    /// Words for people: `line item`.
    pub label: String,
    pub fields: Vec<FieldView>,
    /// Many-to-many links this entity owns (its routes serve them).
    pub links: Vec<LinkView>,
    /// Entities whose rows point at this one (deleting a referenced row is refused).
    pub referenced_by: Vec<ReferenceView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    /// The JSON name.
    pub name: String,
    /// The Python attribute (the name, or the name and `_` when Python or pydantic reserves it).
    pub py: String,
    /// Whether `py` differs from `name` (then the model declares an alias).
    pub aliased: bool,
    pub kind: &'static str,
    pub required: bool,
    pub unique: bool,
    /// A Python type annotation for the value (without `Optional`).
    pub py_type: String,
    pub sql_type: &'static str,
    /// The referenced entity's name and table, for link columns.
    pub parent: Option<String>,
    pub parent_table: Option<String>,
    /// A Python expression of a valid value, using the integer `n` for variety.
    pub sample_py: String,
    /// Python literals the app must refuse, with an id each.
    pub invalid: Vec<InvalidValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvalidValue {
    pub id: String,
    pub py: String,
}

/// A child entity's link column that points at this entity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ReferenceView {
    pub child: String,
    pub column: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub table: String,
    pub from_name: String,
    pub from_plural: String,
    pub to_name: String,
    pub to_plural: String,
    pub to_class: String,
    pub to_label: String,
}

/// Longest string and text values the generated apps accept.
pub const MAX_STRING: usize = 255;
pub const MAX_TEXT: usize = 10_000;

pub fn project(spec: &AppSpec) -> ProjectView {
    let order = dependency_order(spec);
    let mut entities: Vec<EntityView> =
        order.iter().map(|entity| entity_view(spec, entity)).collect();
    for relation in
        spec.relations.iter().filter(|relation| relation.kind == RelationKind::ManyToMany)
    {
        let (Some(from), Some(to)) = (spec.entity(&relation.from), spec.entity(&relation.to))
        else {
            continue;
        };
        let link = LinkView {
            table: format!("{}_{}", from.plural, to.plural),
            from_name: from.name.clone(),
            from_plural: from.plural.clone(),
            to_name: to.name.clone(),
            to_plural: to.plural.clone(),
            to_class: camel(&to.name),
            to_label: to.name.replace('_', " "),
        };
        if let Some(owner) = entities.iter_mut().find(|entity| entity.name == from.name) {
            owner.links.push(link);
        }
    }
    let references: Vec<(String, ReferenceView)> = entities
        .iter()
        .flat_map(|entity| {
            entity.fields.iter().filter_map(|field| {
                let reference =
                    ReferenceView { child: entity.name.clone(), column: field.name.clone() };
                field.parent.clone().map(|parent| (parent, reference))
            })
        })
        .collect();
    for entity in &mut entities {
        entity.referenced_by = references
            .iter()
            .filter(|(parent, _)| *parent == entity.name)
            .map(|(_, reference)| reference.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    }
    ProjectView {
        name: spec.name.clone(),
        title: spec.name.replace('_', " "),
        summary: spec.summary.clone(),
        entities,
    }
}

/// Parents before children; a cycle of required links is broken by making the link that
/// closes it optional (see `link_fields`).
fn dependency_order(spec: &AppSpec) -> Vec<&Entity> {
    let parents = parent_map(spec);
    let mut placed: Vec<&Entity> = Vec::new();
    let mut visiting = BTreeSet::new();
    fn visit<'a>(
        entity: &'a Entity,
        spec: &'a AppSpec,
        parents: &HashMap<String, Vec<(String, bool)>>,
        placed: &mut Vec<&'a Entity>,
        visiting: &mut BTreeSet<String>,
    ) {
        if placed.iter().any(|done| done.name == entity.name)
            || !visiting.insert(entity.name.clone())
        {
            return;
        }
        for (parent, _) in parents.get(&entity.name).into_iter().flatten() {
            if let Some(parent) = spec.entity(parent) {
                visit(parent, spec, parents, placed, visiting);
            }
        }
        placed.push(entity);
    }
    for entity in &spec.entities {
        visit(entity, spec, &parents, &mut placed, &mut visiting);
    }
    placed
}

/// Each entity's parents (the entities it holds an id of), with whether the link is required.
fn parent_map(spec: &AppSpec) -> HashMap<String, Vec<(String, bool)>> {
    let mut parents: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for relation in &spec.relations {
        let (child, parent, required) = match relation.kind {
            RelationKind::BelongsTo => (&relation.from, &relation.to, relation.required),
            RelationKind::HasMany => (&relation.to, &relation.from, true),
            RelationKind::ManyToMany => continue,
        };
        let list = parents.entry(child.clone()).or_default();
        if !list.iter().any(|(existing, _)| existing == parent) {
            list.push((parent.clone(), required));
        }
    }
    parents
}

fn entity_view(spec: &AppSpec, entity: &Entity) -> EntityView {
    let mut fields: Vec<FieldView> = entity
        .fields
        .iter()
        .map(|field| field_view(&field.name, &field.ty, field.required, field.unique, None))
        .collect();
    let order: Vec<String> =
        dependency_order(spec).iter().map(|entity| entity.name.clone()).collect();
    let position = |name: &str| order.iter().position(|other| other == name).unwrap_or(usize::MAX);
    for (parent, required) in parent_map(spec).remove(&entity.name).unwrap_or_default() {
        let column = format!("{parent}_id");
        if fields.iter().any(|field| field.name == column) {
            continue;
        }
        // A parent that comes later in the order closes a cycle: that link is optional.
        let required = required && position(&parent) < position(&entity.name);
        let Some(parent_entity) = spec.entity(&parent) else { continue };
        fields.push(field_view(&column, &FieldType::Integer, required, false, Some(parent_entity)));
    }
    EntityView {
        name: entity.name.clone(),
        plural: entity.plural.clone(),
        class: camel(&entity.name),
        label: entity.name.replace('_', " "),
        fields,
        links: Vec::new(),
        referenced_by: Vec::new(),
    }
}

fn field_view(
    name: &str,
    ty: &FieldType,
    required: bool,
    unique: bool,
    parent: Option<&Entity>,
) -> FieldView {
    let py = if PYTHON_RESERVED.contains(&name) || name.starts_with("model_") {
        format!("{name}_")
    } else {
        name.to_owned()
    };
    let invalid = |pairs: &[(&str, &str)]| -> Vec<InvalidValue> {
        pairs
            .iter()
            .map(|(id, py)| InvalidValue { id: (*id).to_owned(), py: (*py).to_owned() })
            .collect()
    };
    let long_string = format!("\"x\" * {}", MAX_STRING + 1);
    let long_text = format!("\"x\" * {}", MAX_TEXT + 1);
    let (kind, py_type, sql_type, sample_py, invalid) = match (ty, parent) {
        (_, Some(_)) => (
            "link",
            "IdValue".to_owned(),
            "INTEGER",
            String::new(),
            invalid(&[("string", "\"1\""), ("zero", "0"), ("huge", "2**64")]),
        ),
        (FieldType::String, _) => (
            "string",
            format!("Annotated[StrictStr, Field(max_length={MAX_STRING})]"),
            "TEXT",
            format!("f\"{} {{n}}\"", name.replace('_', " ")),
            invalid(&[("number", "12345"), ("too_long", &long_string), ("list", "[\"a\"]")]),
        ),
        (FieldType::Text, _) => (
            "text",
            format!("Annotated[StrictStr, Field(max_length={MAX_TEXT})]"),
            "TEXT",
            format!("f\"Some {} for item {{n}}.\"", name.replace('_', " ")),
            invalid(&[("number", "12345"), ("too_long", &long_text)]),
        ),
        (FieldType::Integer, _) => (
            "integer",
            "IntegerValue".to_owned(),
            "INTEGER",
            "1000 + n".to_owned(),
            invalid(&[("string", "\"twelve\""), ("fraction", "1.5"), ("huge", "2**64"), ("boolean", "True")]),
        ),
        (FieldType::Number, _) => (
            "number",
            "Annotated[float, Field(strict=True, allow_inf_nan=False)]".to_owned(),
            "REAL",
            "n + 0.5".to_owned(),
            invalid(&[("string", "\"twelve\""), ("boolean", "True")]),
        ),
        (FieldType::Boolean, _) => (
            "boolean",
            "StrictBool".to_owned(),
            "INTEGER",
            "n % 2 == 0".to_owned(),
            invalid(&[("string", "\"yes\""), ("number", "1")]),
        ),
        (FieldType::Date, _) => (
            "date",
            "IsoDate".to_owned(),
            "TEXT",
            "(datetime.date(2024, 1, 1) + datetime.timedelta(days=n)).isoformat()".to_owned(),
            invalid(&[("text", "\"not-a-date\""), ("number", "20240101"), ("month_13", "\"2024-13-01\"")]),
        ),
        (FieldType::Datetime, _) => (
            "datetime",
            "IsoDatetime".to_owned(),
            "TEXT",
            "(datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=n)).isoformat()".to_owned(),
            invalid(&[("text", "\"not-a-time\""), ("number", "1700000000")]),
        ),
        (FieldType::Email, _) => (
            "email",
            "Annotated[StrictStr, Field(max_length=254, pattern=EMAIL_PATTERN)]".to_owned(),
            "TEXT",
            "f\"user{n}@example.com\"".to_owned(),
            invalid(&[("no_at", "\"not-an-email\""), ("number", "12345")]),
        ),
        (FieldType::Url, _) => (
            "url",
            "Annotated[StrictStr, Field(max_length=2048, pattern=URL_PATTERN)]".to_owned(),
            "TEXT",
            format!("f\"https://example.com/{name}/{{n}}\""),
            invalid(&[("no_scheme", "\"not a url\""), ("number", "12345")]),
        ),
        (FieldType::Enum(values), _) => {
            let literals: Vec<String> = values.iter().map(|value| python_string(value)).collect();
            (
                "enum",
                format!("Literal[{}]", literals.join(", ")),
                "TEXT",
                format!("[{}][n % {}]", literals.join(", "), literals.len()),
                invalid(&[("not_listed", "\"NOT-A-LISTED-VALUE\""), ("number", "12345")]),
            )
        }
    };
    FieldView {
        aliased: py != name,
        name: name.to_owned(),
        py,
        kind,
        required,
        unique,
        py_type,
        sql_type,
        parent: parent.map(|parent| parent.name.clone()),
        parent_table: parent.map(|parent| parent.plural.clone()),
        sample_py,
        invalid,
    }
}

/// A Python string literal for any text (JSON's escapes are Python's).
pub fn python_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `line_item` → `LineItem`.
pub fn camel(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut characters = part.chars();
            characters
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + characters.as_str())
                .unwrap_or_default()
        })
        .collect()
}
