//! Refining a spec people may have edited: what an instruction changed is applied to the spec
//! as it is, not to what the words alone would give.
//!
//! A three-way merge. `base` is the spec the earlier description gives, `theirs` the spec the
//! description with the instruction gives, `ours` the spec the earlier app was really built
//! from (the person's edits included). Whatever differs between `base` and `theirs` — an
//! entity, field, relation, action or operation added, removed or changed — is applied to
//! `ours`; everything else in `ours` stays as the person left it. Items are matched by name
//! (relations by kind and ends). References left dangling by the person's own removals are
//! dropped, and the result is held to the same checks as every spec.

use super::{Action, AppSpec, Entity, Field, Operation, Relation};
use crate::error::EngineError;

/// `ours` with the changes from `base` to `theirs` applied (see the module's documentation).
pub fn refine(base: &AppSpec, ours: &AppSpec, theirs: &AppSpec) -> Result<AppSpec, EngineError> {
    let specs = [base, ours, theirs];
    let mut merged = AppSpec {
        name: scalar(&base.name, &ours.name, &theirs.name),
        summary: scalar(&base.summary, &ours.summary, &theirs.summary),
        entities: keyed(parts(specs, |spec| &spec.entities), |e| e.name.clone(), entity),
        relations: keyed(
            parts(specs, |spec| &spec.relations),
            |r| (r.kind, r.from.clone(), r.to.clone()),
            whole::<Relation>,
        ),
        actions: keyed(parts(specs, |spec| &spec.actions), |a| a.name.clone(), whole::<Action>),
    };
    let known = |name: &String| merged.entities.iter().any(|entity| &entity.name == name);
    let relations = std::mem::take(&mut merged.relations);
    merged.relations = relations
        .into_iter()
        .filter(|relation| known(&relation.from) && known(&relation.to))
        .collect();
    let actions = std::mem::take(&mut merged.actions);
    merged.actions = actions
        .into_iter()
        .filter(|action| known(&action.entity) && action.actor.as_ref().is_none_or(known))
        .collect();
    merged.check()?;
    Ok(merged)
}

/// Theirs when the instruction changed it, else ours.
fn scalar<T: Clone + PartialEq>(base: &T, ours: &T, theirs: &T) -> T {
    if base == theirs { ours.clone() } else { theirs.clone() }
}

/// An item merged as a whole: theirs when the instruction changed it, else ours.
fn whole<T: Clone + PartialEq>(base: &T, ours: &T, theirs: &T) -> T {
    scalar(base, ours, theirs)
}

fn entity(base: &Entity, ours: &Entity, theirs: &Entity) -> Entity {
    let entities = [base, ours, theirs];
    Entity {
        name: ours.name.clone(),
        plural: scalar(&base.plural, &ours.plural, &theirs.plural),
        fields: keyed(parts(entities, |e| &e.fields), |f| f.name.clone(), whole::<Field>),
        operations: keyed(parts(entities, |e| &e.operations), |o| *o, whole::<Operation>),
    }
}

/// One list of each of base, ours and theirs.
fn parts<'a, S, T>(of: [&'a S; 3], list: impl Fn(&'a S) -> &'a Vec<T>) -> [&'a [T]; 3] {
    of.map(|whole| list(whole).as_slice())
}

/// Lists merged item by item: ours in its order, without what the instruction removed and
/// with what it changed merged in by `merge`, then what it added (unless ours has it already).
/// What ours added or removed on its own stays so.
fn keyed<T, K, Key, Merge>([base, ours, theirs]: [&[T]; 3], key: Key, merge: Merge) -> Vec<T>
where
    T: Clone + PartialEq,
    K: PartialEq,
    Key: Fn(&T) -> K,
    Merge: Fn(&T, &T, &T) -> T,
{
    let find = |items: &[T], wanted: &K| items.iter().find(|item| &key(item) == wanted).cloned();
    let mut merged = Vec::with_capacity(ours.len());
    for item in ours {
        let id = key(item);
        match (find(base, &id), find(theirs, &id)) {
            (Some(_), None) => {}
            (Some(before), Some(after)) => merged.push(merge(&before, item, &after)),
            (None, _) => merged.push(item.clone()),
        }
    }
    for item in theirs {
        let id = key(item);
        if find(base, &id).is_none() && find(ours, &id).is_none() {
            merged.push(item.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::extract;

    fn spec_of(description: &str) -> AppSpec {
        extract(description).expect("extracts").spec
    }

    fn fields(spec: &AppSpec, entity: &str) -> Vec<String> {
        let entity = spec.entity(entity).expect("entity");
        entity.fields.iter().map(|field| field.name.clone()).collect()
    }

    const EXPENSES: &str = "Track expenses: each expense has an amount and a note.";
    const WITH_CATEGORY: &str =
        "Track expenses: each expense has an amount and a note.\n\nExpenses also have a category.";

    #[test]
    fn without_edits_the_refinement_is_what_the_words_give() {
        let (base, theirs) = (spec_of(EXPENSES), spec_of(WITH_CATEGORY));
        assert_eq!(refine(&base, &base, &theirs).expect("merges"), theirs);
    }

    #[test]
    fn the_persons_edits_stay_and_the_instructions_changes_apply() {
        let (base, theirs) = (spec_of(EXPENSES), spec_of(WITH_CATEGORY));
        assert!(fields(&theirs, "expense").contains(&"category".to_owned()));
        // The person added a merchant, made the note optional and took `delete` away.
        let mut ours = base.clone();
        let expense = &mut ours.entities[0];
        let mut merchant = expense.fields[0].clone();
        merchant.name = "merchant".into();
        expense.fields.push(merchant);
        for field in &mut expense.fields {
            if field.name == "note" {
                field.required = false;
            }
        }
        expense.operations.retain(|operation| *operation != Operation::Delete);

        let merged = refine(&base, &ours, &theirs).expect("merges");
        let names = fields(&merged, "expense");
        for kept in ["amount", "note", "merchant", "category"] {
            assert!(names.contains(&kept.to_owned()), "{kept} in {names:?}");
        }
        let expense = merged.entity("expense").expect("expense");
        let note = expense.fields.iter().find(|field| field.name == "note").expect("note");
        assert!(!note.required, "the person's change to a field the instruction left alone stays");
        assert!(!expense.operations.contains(&Operation::Delete));
    }

    #[test]
    fn what_the_instruction_removes_goes_and_dangling_references_are_dropped() {
        let base = spec_of("A library where members borrow books. Books have a title.");
        let mut theirs = base.clone();
        theirs.entities.retain(|entity| entity.name == "book");
        theirs.relations.clear();
        theirs.actions.clear();
        let merged = refine(&base, &base, &theirs).expect("merges");
        assert_eq!(merged.entities.len(), 1);
        assert!(merged.relations.is_empty() && merged.actions.is_empty());

        // The person removed members; the instruction adds an action of theirs: it is dropped.
        let mut ours = base.clone();
        ours.entities.retain(|entity| entity.name == "book");
        ours.relations.clear();
        ours.actions.clear();
        let mut theirs = base.clone();
        theirs.actions.push(Action {
            name: "reserve".into(),
            entity: "book".into(),
            actor: Some("member".into()),
        });
        let merged = refine(&base, &ours, &theirs).expect("merges");
        assert!(merged.entity("member").is_none());
        assert!(merged.actions.iter().all(|action| action.name != "reserve"));
    }
}
