//! A short plain-text view of a spec, for people (the CLI, the built-in model's answers) and
//! for snapshot tests.

use std::fmt::Write;

use super::{AppSpec, Field, FieldType, RelationKind};

/// One line for the app, one per entity, then the relations and actions.
pub fn summary(spec: &AppSpec) -> String {
    let mut out = format!("app {}: {}\n", spec.name, spec.summary);
    for entity in &spec.entities {
        let fields: Vec<String> = entity.fields.iter().map(field).collect();
        let _ = writeln!(out, "{} ({}): {}", entity.name, entity.plural, fields.join(", "));
    }
    for relation in &spec.relations {
        let kind = match relation.kind {
            RelationKind::BelongsTo => "belongs to",
            RelationKind::HasMany => "has many",
            RelationKind::ManyToMany => "many-to-many with",
        };
        let optional = if relation.required || relation.kind != RelationKind::BelongsTo {
            ""
        } else {
            " (optional)"
        };
        let to = match relation.kind {
            RelationKind::BelongsTo => relation.to.as_str(),
            _ => spec
                .entity(&relation.to)
                .map_or(relation.to.as_str(), |entity| entity.plural.as_str()),
        };
        let _ = writeln!(out, "{} {kind} {to}{optional}", relation.from);
    }
    for action in &spec.actions {
        let actor = action.actor.as_deref().unwrap_or("anyone");
        let _ = writeln!(
            out,
            "{actor} can {} {}",
            action.name,
            super::extract::with_article(&action.entity)
        );
    }
    out
}

fn field(field: &Field) -> String {
    let ty = match &field.ty {
        FieldType::Enum(values) => format!("enum({})", values.join("|")),
        other => other.keyword().to_owned(),
    };
    let optional = if field.required { "" } else { "?" };
    let unique = if field.unique { " unique" } else { "" };
    format!("{}{optional} {ty}{unique}", field.name)
}
