//! A spec as a person edited it before generating. People type names as words ("Due date",
//! "Order items"): they become identifiers, entity names singular; a plural left empty is
//! derived; relations and actions name entities as they were typed and follow them. The
//! result is then held to the same checks as every spec.

use std::collections::{HashMap, HashSet};

use super::{AppSpec, FieldType, check_limits, words};
use crate::error::EngineError;

/// The largest edited spec accepted, in bytes of JSON.
pub const MAX_EDITED_SPEC_BYTES: usize = 256 * 1024;

/// Reads an edited spec (the `AppSpec` JSON format), normalises its names and checks it.
pub fn edited(json: &str) -> Result<AppSpec, EngineError> {
    if json.len() > MAX_EDITED_SPEC_BYTES {
        return Err(EngineError::InvalidSpec(format!(
            "the spec is larger than {} KB",
            MAX_EDITED_SPEC_BYTES / 1024
        )));
    }
    let mut spec: AppSpec = serde_json::from_str(json)
        .map_err(|error| EngineError::InvalidSpec(format!("the spec cannot be read: {error}")))?;
    check_limits(&spec)?;
    normalise(&mut spec)?;
    spec.check()?;
    Ok(spec)
}

fn normalise(spec: &mut AppSpec) -> Result<(), EngineError> {
    let missing = |message: &str| Err(EngineError::InvalidSpec(message.to_owned()));
    spec.name = words::identifier(&spec.name);
    if spec.name.is_empty() {
        return missing("give the app a name");
    }
    spec.summary = spec.summary.trim().to_owned();
    let mut renamed = HashMap::new();
    for entity in &mut spec.entities {
        let name = words::singular(&words::identifier(&entity.name));
        if name.is_empty() {
            return missing("every entity needs a name");
        }
        let plural = words::identifier(&entity.plural);
        entity.plural = if plural.is_empty() { words::plural(&name) } else { plural };
        renamed.insert(entity.name.clone(), name.clone());
        entity.name = name;
        for field in &mut entity.fields {
            field.name = words::identifier(&field.name);
            if field.name.is_empty() {
                return Err(EngineError::InvalidSpec(format!(
                    "`{}` has a field without a name",
                    entity.name
                )));
            }
            if let FieldType::Enum(values) = &mut field.ty {
                *values = values
                    .iter()
                    .map(|value| value.trim().to_owned())
                    .filter(|value| !value.is_empty())
                    .collect();
            }
        }
    }
    let entity_name = |typed: &String| {
        renamed.get(typed).cloned().unwrap_or_else(|| words::singular(&words::identifier(typed)))
    };
    let mut seen = HashSet::new();
    spec.relations.retain_mut(|relation| {
        relation.from = entity_name(&relation.from);
        relation.to = entity_name(&relation.to);
        seen.insert((relation.kind, relation.from.clone(), relation.to.clone()))
    });
    for action in &mut spec.actions {
        action.name = words::identifier(&action.name);
        action.entity = entity_name(&action.entity);
        action.actor = action.actor.as_ref().map(entity_name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(json: &str, expected: Expect) {
        let rendered = match edited(json) {
            Ok(spec) => super::super::summary(&spec),
            Err(error) => format!("error: {error}\n"),
        };
        expected.assert_eq(&rendered);
    }

    const LIBRARY: &str = r#"{"name": "Library", "summary": " Members borrow books ",
        "entities": [
            {"name": "Members", "plural": "", "fields": [{"name": "Full name", "type": {"kind": "string"}}]},
            {"name": "Book", "plural": "books", "fields": [
                {"name": "title", "type": {"kind": "string"}, "unique": true},
                {"name": "Shelf", "type": {"kind": "enum", "values": [" A ", "", "B"]}, "required": false}
            ]},
            {"name": "Loan item", "plural": "", "fields": []}
        ],
        "relations": [
            {"kind": "belongs_to", "from": "Loan item", "to": "Members"},
            {"kind": "belongs_to", "from": "Loan item", "to": "Book"},
            {"kind": "belongs_to", "from": "Loan item", "to": "Book"}
        ],
        "actions": [{"name": "Borrow", "entity": "Book", "actor": "Members"}]}"#;

    #[test]
    fn typed_names_become_identifiers_and_references_follow_them() {
        check(
            LIBRARY,
            expect![[r#"
                app library: Members borrow books
                member (members): full_name string
                book (books): title string unique, shelf? enum(A|B)
                loan_item (loan_items): 
                loan_item belongs to member
                loan_item belongs to book
                member can borrow a book
            "#]],
        );
    }

    #[test]
    fn what_cannot_be_generated_is_refused_with_the_reason() {
        let cases = [
            (
                r#"{"name": "", "summary": "", "entities": []}"#,
                expect!["error: invalid spec: give the app a name\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": []}"#,
                expect!["error: invalid spec: the spec has no entities\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": " ", "plural": "", "fields": []}]}"#,
                expect!["error: invalid spec: every entity needs a name\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": "item", "plural": "", "fields": [{"name": "?", "type": {"kind": "string"}}]}]}"#,
                expect!["error: invalid spec: `item` has a field without a name\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": "item", "plural": "", "fields": [{"name": "ID", "type": {"kind": "string"}}]}]}"#,
                expect!["error: invalid spec: `item.id`: every app adds `id` itself\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": "item", "plural": "", "fields": [{"name": "size", "type": {"kind": "enum", "values": [" "]}}]}]}"#,
                expect!["error: invalid spec: `item.size`: an enum needs 1 to 50 values\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": "item", "plural": "", "fields": []}], "relations": [{"kind": "belongs_to", "from": "item", "to": "order"}]}"#,
                expect!["error: invalid spec: a relation names `order`, which is not an entity\n"],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [{"name": "Item", "plural": "", "fields": []}, {"name": "items", "plural": "", "fields": []}]}"#,
                expect![
                    "error: invalid spec: the entity name `item` or plural `items` is used twice\n"
                ],
            ),
            (
                r#"{"name": "shop", "summary": "", "entities": [], "extra": 1}"#,
                expect![[r#"
                    error: invalid spec: the spec cannot be read: unknown field `extra`, expected one of `name`, `summary`, `entities`, `relations`, `actions` at line 1 column 55
                "#]],
            ),
        ];
        for (json, expected) in cases {
            check(json, expected);
        }
    }

    #[test]
    fn sizes_and_counts_are_bounded_before_any_work() {
        let huge = format!(r#"{{"name": "{}"}}"#, "a".repeat(MAX_EDITED_SPEC_BYTES));
        check(&huge, expect!["error: invalid spec: the spec is larger than 256 KB\n"]);
        let entity = r#"{"name": "e", "plural": "", "fields": []}"#;
        let many = format!(
            r#"{{"name": "shop", "summary": "", "entities": [{}]}}"#,
            vec![entity; 41].join(",")
        );
        check(&many, expect!["error: invalid spec: 41 entities; at most 40\n"]);
    }
}
