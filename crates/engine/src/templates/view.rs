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
    /// The values an enum allows (empty for other kinds).
    pub values: Vec<String>,
    /// A Python expression of a valid value, using the integer `n` for variety.
    pub sample_py: String,
    /// The same as a TypeScript expression.
    pub sample_ts: String,
    /// The same as a Rust expression of a `serde_json::Value`.
    pub sample_rs: String,
    /// Values the app must refuse, with an id each.
    pub invalid: Vec<InvalidValue>,
}

/// A value the app must refuse, written in each language the tests are.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidValue {
    pub id: String,
    pub py: String,
    pub ts: String,
    /// A Rust expression that `serde_json::json!` takes.
    pub rs: String,
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

/// A kind's name, Python type, SQL type, sample values (Python, TypeScript) and the values it
/// refuses as (id, Python, TypeScript).
type KindRules<'a> =
    (&'static str, String, &'static str, String, String, Vec<(&'a str, &'a str, &'a str)>);

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
    let label = name.replace('_', " ");
    let long =
        |limit: usize| (format!("\"x\" * {}", limit + 1), format!("\"x\".repeat({})", limit + 1));
    let (long_string_py, long_string_ts) = long(MAX_STRING);
    let (long_text_py, long_text_ts) = long(MAX_TEXT);
    // (id, Python, TypeScript) of each value the app must refuse.
    let not_a_number: (&str, &str, &str) = ("string", "\"twelve\"", "\"twelve\"");
    let a_number: (&str, &str, &str) = ("number", "12345", "12345");
    let huge: (&str, &str, &str) = ("huge", "2**64", "2 ** 64");
    let a_boolean: (&str, &str, &str) = ("boolean", "True", "true");
    let mut values = Vec::new();
    let (kind, py_type, sql_type, sample_py, sample_ts, invalid): KindRules = match (ty, parent) {
        (_, Some(_)) => (
            "link",
            "IdValue".to_owned(),
            "INTEGER",
            String::new(),
            String::new(),
            vec![("string", "\"1\"", "\"1\""), ("zero", "0", "0"), huge],
        ),
        (FieldType::String, _) => (
            "string",
            format!("Annotated[StrictStr, Field(max_length={MAX_STRING})]"),
            "TEXT",
            format!("f\"{label} {{n}}\""),
            format!("`{label} ${{n}}`"),
            vec![a_number, ("too_long", &long_string_py, &long_string_ts), ("list", "[\"a\"]", "[\"a\"]")],
        ),
        (FieldType::Text, _) => (
            "text",
            format!("Annotated[StrictStr, Field(max_length={MAX_TEXT})]"),
            "TEXT",
            format!("f\"Some {label} for item {{n}}.\""),
            format!("`Some {label} for item ${{n}}.`"),
            vec![a_number, ("too_long", &long_text_py, &long_text_ts)],
        ),
        (FieldType::Integer, _) => (
            "integer",
            "IntegerValue".to_owned(),
            "INTEGER",
            "1000 + n".to_owned(),
            "1000 + n".to_owned(),
            vec![not_a_number, ("fraction", "1.5", "1.5"), huge, a_boolean],
        ),
        (FieldType::Number, _) => (
            "number",
            "Annotated[float, Field(strict=True, allow_inf_nan=False)]".to_owned(),
            "REAL",
            "n + 0.5".to_owned(),
            "n + 0.5".to_owned(),
            vec![not_a_number, a_boolean],
        ),
        (FieldType::Boolean, _) => (
            "boolean",
            "StrictBool".to_owned(),
            "INTEGER",
            "n % 2 == 0".to_owned(),
            "n % 2 === 0".to_owned(),
            vec![("string", "\"yes\"", "\"yes\""), ("number", "1", "1")],
        ),
        (FieldType::Date, _) => (
            "date",
            "IsoDate".to_owned(),
            "TEXT",
            "(datetime.date(2024, 1, 1) + datetime.timedelta(days=n)).isoformat()".to_owned(),
            "isoDate(n)".to_owned(),
            vec![
                ("text", "\"not-a-date\"", "\"not-a-date\""),
                ("number", "20240101", "20240101"),
                ("month_13", "\"2024-13-01\"", "\"2024-13-01\""),
            ],
        ),
        (FieldType::Datetime, _) => (
            "datetime",
            "IsoDatetime".to_owned(),
            "TEXT",
            "(datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=n)).isoformat()".to_owned(),
            "isoDatetime(n)".to_owned(),
            vec![("text", "\"not-a-time\"", "\"not-a-time\""), ("number", "1700000000", "1700000000")],
        ),
        (FieldType::Email, _) => (
            "email",
            "Annotated[StrictStr, Field(max_length=254, pattern=EMAIL_PATTERN)]".to_owned(),
            "TEXT",
            "f\"user{n}@example.com\"".to_owned(),
            "`user${n}@example.com`".to_owned(),
            vec![("no_at", "\"not-an-email\"", "\"not-an-email\""), a_number],
        ),
        (FieldType::Url, _) => (
            "url",
            "Annotated[StrictStr, Field(max_length=2048, pattern=URL_PATTERN)]".to_owned(),
            "TEXT",
            format!("f\"https://example.com/{name}/{{n}}\""),
            format!("`https://example.com/{name}/${{n}}`"),
            vec![("no_scheme", "\"not a url\"", "\"not a url\""), a_number],
        ),
        (FieldType::Enum(listed), _) => {
            values = listed.clone();
            // JSON string literals are Python's and TypeScript's too.
            let literals: Vec<String> = listed.iter().map(|value| python_string(value)).collect();
            (
                "enum",
                format!("Literal[{}]", literals.join(", ")),
                "TEXT",
                format!("[{}][n % {}]", literals.join(", "), literals.len()),
                format!("[{}][n % {}]", literals.join(", "), literals.len()),
                vec![
                    ("not_listed", "\"NOT-A-LISTED-VALUE\"", "\"NOT-A-LISTED-VALUE\""),
                    a_number,
                ],
            )
        }
    };
    let sample_rs = rust_sample(kind, name, &values);
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
        sample_rs,
        values,
        sample_py,
        sample_ts,
        invalid: invalid
            .into_iter()
            .map(|(id, py, ts)| InvalidValue {
                id: id.to_owned(),
                py: py.to_owned(),
                ts: ts.to_owned(),
                // TypeScript's literals (and `"x".repeat(n)`) are Rust's too, but for powers.
                rs: ts.replace("2 ** 64", "18446744073709551616.0"),
            })
            .collect(),
    }
}

/// A Rust expression of a valid `serde_json::Value` for a field of `kind`, using the integer
/// `n` (an `i64`) for variety.
fn rust_sample(kind: &str, name: &str, values: &[String]) -> String {
    let label = name.replace('_', " ");
    match kind {
        "string" => format!("json!(format!(\"{label} {{n}}\"))"),
        "text" => format!("json!(format!(\"Some {label} for item {{n}}.\"))"),
        "integer" => "json!(1000 + n)".to_owned(),
        "number" => "json!(n as f64 + 0.5)".to_owned(),
        "boolean" => "json!(n % 2 == 0)".to_owned(),
        "date" => "json!(format!(\"2024-01-{:02}\", 1 + n % 28))".to_owned(),
        "datetime" => "json!(format!(\"2024-01-01T{:02}:00:00Z\", n % 24))".to_owned(),
        "email" => "json!(format!(\"user{n}@example.com\"))".to_owned(),
        "url" => format!("json!(format!(\"https://example.com/{name}/{{n}}\"))"),
        "enum" => {
            let literals: Vec<String> = values.iter().map(|value| format!("{value:?}")).collect();
            format!("json!([{}][(n % {}) as usize])", literals.join(", "), literals.len())
        }
        _ => "json!(null)".to_owned(),
    }
}

/// A Python string literal for any text (JSON's escapes are Python's).
pub fn python_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `line_items` → `lineItems`.
pub fn lower_camel(name: &str) -> String {
    let upper = camel(name);
    let mut characters = upper.chars();
    characters
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + characters.as_str())
        .unwrap_or_default()
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
