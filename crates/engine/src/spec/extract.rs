//! The built-in, offline spec extractor: rules, no model. It reads the description's clauses
//! as statements, decides which nouns are entities, then places every field, relation and
//! action; what it cannot place becomes a question instead of a guess.

mod grammar;

use std::collections::HashSet;

use self::grammar::{Item, NOT_ENTITIES, Noun, PEOPLE, Statement};
use super::sentences::{clauses, tokens};
use super::words;
use super::{
    Action, AppSpec, Entity, Field, FieldType, MAX_ENTITIES, MAX_FIELDS, MAX_SUMMARY_CHARS,
    Operation, Relation, RelationKind,
};
use crate::error::EngineError;

/// Longest description the extractor reads.
pub const MAX_DESCRIPTION_BYTES: usize = 20 * 1024;

/// A spec and what the extractor would like the author to say more clearly.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    pub spec: AppSpec,
    pub questions: Vec<String>,
}

/// Reads a description into a spec, without a model.
pub fn extract(description: &str) -> Result<Extraction, EngineError> {
    if description.len() > MAX_DESCRIPTION_BYTES {
        return Err(EngineError::DescriptionTooLong {
            bytes: description.len(),
            limit: MAX_DESCRIPTION_BYTES,
        });
    }
    let clause_texts = clauses(description);
    let statements: Vec<Statement> = clause_texts
        .iter()
        .enumerate()
        .flat_map(|(index, clause)| grammar::statements(&tokens(clause), index == 0))
        .collect();
    let mut draft = Draft::default();
    draft.collect_entities(&statements);
    for statement in &statements {
        draft.apply(statement);
    }
    draft.finish(clause_texts.first().map(String::as_str).unwrap_or_default())
}

#[derive(Default)]
struct Draft {
    name: Option<String>,
    entities: Vec<Entity>,
    relations: Vec<Relation>,
    actions: Vec<Action>,
    questions: Vec<String>,
    /// Entities the description gave something to store (fields or a link).
    described: HashSet<String>,
}

impl Draft {
    /// First pass: every noun that a statement treats as a thing of its own.
    fn collect_entities(&mut self, statements: &[Statement]) {
        for statement in statements {
            match statement {
                Statement::Intro { tracked, .. } | Statement::Entities(tracked) => {
                    tracked.iter().for_each(|noun| self.add_entity(noun))
                }
                Statement::Fields { subjects, .. } => {
                    subjects.iter().for_each(|noun| self.add_entity(noun))
                }
                Statement::BelongsTo { subjects, targets, .. }
                | Statement::HasMany { subjects, targets } => {
                    subjects.iter().chain(targets).for_each(|noun| self.add_entity(noun));
                }
                Statement::ManyToMany(a, b) => {
                    self.add_entity(a);
                    self.add_entity(b);
                }
                Statement::Action { actor, object, .. } => {
                    // Acting alone makes an entity only of a plural thing (`members borrow`).
                    for noun in actor.iter().chain([object]) {
                        if noun.is_plural() && !is_one_of(noun, PEOPLE) {
                            self.add_entity(noun);
                        }
                    }
                }
                Statement::Unplaced(_) => {}
            }
        }
    }

    fn add_entity(&mut self, noun: &Noun) {
        let name = noun.entity_name();
        if name.is_empty() || is_one_of(noun, NOT_ENTITIES) || self.has_entity(&name) {
            return;
        }
        self.entities.push(Entity {
            plural: words::plural(&name),
            name,
            fields: Vec::new(),
            operations: Operation::all(),
        });
    }

    fn has_entity(&self, name: &str) -> bool {
        self.entities.iter().any(|entity| entity.name == name)
    }

    /// Second pass: place what each statement says.
    fn apply(&mut self, statement: &Statement) {
        match statement {
            Statement::Intro { name, .. } => {
                if self.name.is_none() {
                    self.name.clone_from(name);
                }
            }
            Statement::Entities(_) => {}
            Statement::Fields { subjects, items } => {
                for subject in subjects {
                    let subject = subject.entity_name();
                    for item in items {
                        self.place_item(&subject, item);
                    }
                }
            }
            Statement::BelongsTo { subjects, targets, optional } => {
                for subject in subjects {
                    for target in targets {
                        self.relate(RelationKind::BelongsTo, &subject.entity_name(), &target.entity_name(), !optional);
                    }
                }
            }
            Statement::HasMany { subjects, targets } => {
                for subject in subjects {
                    for target in targets {
                        self.relate(RelationKind::HasMany, &subject.entity_name(), &target.entity_name(), true);
                    }
                }
            }
            Statement::ManyToMany(a, b) => self.relate(RelationKind::ManyToMany, &a.entity_name(), &b.entity_name(), true),
            Statement::Action { actor, verb, object } => self.add_action(actor.as_ref(), verb, object),
            Statement::Unplaced(text) => self.questions.push(format!(
                "I could not place \"{}\". Say it as \"<things> have <fields>\", \"each <thing> belongs to a <thing>\" or \"<people> can <verb> <things>\".",
                text.chars().take(200).collect::<String>()
            )),
        }
    }

    fn place_item(&mut self, subject: &str, item: &Item) {
        let noun = item.as_noun();
        let target = noun.entity_name();
        if self.has_entity(&target) && target != subject {
            let kind = if item.many || noun.is_plural() {
                RelationKind::HasMany
            } else {
                RelationKind::BelongsTo
            };
            self.relate(kind, subject, &target, !item.optional);
            return;
        }
        let name = words::identifier(&item.noun.join(" "));
        if let Some(parent) = name.strip_suffix("_id")
            && self.has_entity(parent)
        {
            self.relate(RelationKind::BelongsTo, subject, parent, !item.optional);
            return;
        }
        if name.is_empty() || name == "id" {
            return;
        }
        let (inferred, _) = words::field_type_from_name(&name);
        let ty = match (&item.explicit_type, item.flag) {
            (Some(ty), _) => ty.clone(),
            (None, true) => FieldType::Boolean,
            (None, false) if item.many => {
                self.questions.push(format!(
                    "`{subject}.{name}` is stored as text: should {} be things of their own, with fields? Then describe them (\"{} have a name\").",
                    item.noun.join(" "),
                    capitalized(&item.noun.join(" "))
                ));
                FieldType::Text
            }
            (None, false) => inferred,
        };
        let Some(entity) = self.entities.iter_mut().find(|entity| entity.name == subject) else {
            return;
        };
        self.described.insert(subject.to_owned());
        let field = Field { name: name.clone(), ty, required: !item.optional, unique: item.unique };
        let full = entity.fields.len() >= MAX_FIELDS;
        match entity.fields.iter_mut().find(|existing| existing.name == name) {
            Some(existing) => *existing = field,
            None if !full => entity.fields.push(field),
            None => {}
        }
    }

    fn relate(&mut self, kind: RelationKind, from: &str, to: &str, required: bool) {
        if from == to || !self.has_entity(from) || !self.has_entity(to) {
            return;
        }
        self.described.insert(from.to_owned());
        if kind == RelationKind::HasMany {
            self.described.insert(to.to_owned());
        }
        let relation = Relation { kind, from: from.to_owned(), to: to.to_owned(), required };
        if !self
            .relations
            .iter()
            .any(|existing| existing.kind == kind && existing.from == from && existing.to == to)
        {
            self.relations.push(relation);
        }
    }

    fn add_action(&mut self, actor: Option<&Noun>, verb: &str, object: &Noun) {
        let entity = object.entity_name();
        if !self.has_entity(&entity) {
            self.questions.push(format!(
                "What can be `{verb}`? I found nothing called `{}` to keep track of.",
                object.0.join(" ")
            ));
            return;
        }
        let actor =
            actor.map(Noun::entity_name).filter(|actor| self.has_entity(actor) && *actor != entity);
        let action = Action { name: verb.to_owned(), entity, actor };
        if !self.actions.contains(&action) {
            self.actions.push(action);
        }
    }

    fn finish(mut self, first_clause: &str) -> Result<Extraction, EngineError> {
        if self.entities.is_empty() {
            return Err(EngineError::NothingToBuild);
        }
        if self.entities.len() > MAX_ENTITIES {
            return Err(EngineError::InvalidSpec(format!(
                "the description names {} kinds of things; at most {MAX_ENTITIES}",
                self.entities.len()
            )));
        }
        self.merge_relations();
        // A field named like a link's column is the link itself.
        for relation in &self.relations {
            let (holder, column) = match relation.kind {
                RelationKind::BelongsTo => (&relation.from, format!("{}_id", relation.to)),
                RelationKind::HasMany => (&relation.to, format!("{}_id", relation.from)),
                RelationKind::ManyToMany => continue,
            };
            if let Some(entity) = self.entities.iter_mut().find(|entity| &entity.name == holder) {
                entity.fields.retain(|field| field.name != column);
            }
        }
        for entity in &self.entities {
            if !self.described.contains(&entity.name) {
                self.questions.push(format!(
                    "What should {} record? For example: \"{} have a name and a description.\"",
                    with_article(&entity.name.replace('_', " ")),
                    capitalized(&entity.plural.replace('_', " "))
                ));
            }
        }
        let name = self
            .name
            .clone()
            .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
            .unwrap_or_else(|| {
                self.entities
                    .first()
                    .map(|entity| format!("{}_app", entity.name))
                    .unwrap_or_default()
            });
        let summary: String =
            first_clause.chars().filter(|c| !c.is_control()).take(MAX_SUMMARY_CHARS).collect();
        let spec = AppSpec {
            name,
            summary,
            entities: self.entities,
            relations: self.relations,
            actions: self.actions,
        };
        spec.check()?;
        Ok(Extraction { spec, questions: self.questions })
    }

    /// has-many both ways is many-to-many; has-many beside the same belongs-to is one fact.
    fn merge_relations(&mut self) {
        let relations = std::mem::take(&mut self.relations);
        let has = |kind: RelationKind, from: &str, to: &str| {
            relations
                .iter()
                .any(|relation| relation.kind == kind && relation.from == from && relation.to == to)
        };
        let mut merged: Vec<Relation> = Vec::new();
        for relation in &relations {
            let (from, to) = (relation.from.as_str(), relation.to.as_str());
            let replacement = match relation.kind {
                RelationKind::HasMany if has(RelationKind::HasMany, to, from) => {
                    let (a, b) = if from < to { (from, to) } else { (to, from) };
                    Relation {
                        kind: RelationKind::ManyToMany,
                        from: a.to_owned(),
                        to: b.to_owned(),
                        required: true,
                    }
                }
                RelationKind::HasMany if has(RelationKind::BelongsTo, to, from) => continue,
                RelationKind::BelongsTo
                    if has(RelationKind::HasMany, to, from)
                        && has(RelationKind::HasMany, from, to) =>
                {
                    continue;
                }
                _ => relation.clone(),
            };
            if !merged.contains(&replacement) {
                merged.push(replacement);
            }
        }
        self.relations = merged;
    }
}

fn is_one_of(noun: &Noun, words: &[&str]) -> bool {
    noun.0.len() == 1 && words.contains(&noun.0[0].as_str())
}

/// `a book`, `an author`.
pub(crate) fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {noun}")
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}
