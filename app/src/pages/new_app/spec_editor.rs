//! The extracted spec as a form: the app's name and summary, each entity with its fields
//! (name, type, required, unique, an enum's values), the relations between entities and the
//! named actions — each editable, removable and addable. Rows hold their own signals, so
//! typing in one redraws nothing else; relations and actions point at entities by row, so a
//! renamed entity stays linked. The form's hidden `spec` input carries the result as JSON;
//! the server turns typed names into identifiers and checks the whole.

use leptos::prelude::*;

use crate::wire::{ActionDraft, EntityDraft, FieldDraft, FieldTypeDraft, RelationDraft, SpecDraft};

/// The field types, as the spec names them, with the words people read.
const FIELD_TYPES: &[(&str, &str)] = &[
    ("string", "short text"),
    ("text", "long text"),
    ("integer", "whole number"),
    ("number", "number"),
    ("boolean", "yes/no"),
    ("date", "date"),
    ("datetime", "date and time"),
    ("email", "email"),
    ("url", "web address"),
    ("enum", "one of a list"),
];

const RELATION_KINDS: &[(&str, &str)] = &[
    ("belongs_to", "belongs to"),
    ("has_many", "has many"),
    ("many_to_many", "many-to-many with"),
];

/// The whole editable spec. Every part is a signal, so the editor is `Copy`.
#[derive(Clone, Copy)]
struct EditedSpec {
    name: RwSignal<String>,
    summary: RwSignal<String>,
    entities: RwSignal<Vec<EntityRow>>,
    relations: RwSignal<Vec<RelationRow>>,
    actions: RwSignal<Vec<ActionRow>>,
    next_key: StoredValue<u32>,
    /// Where rows added later belong, so they live as long as the editor.
    owner: StoredValue<Owner>,
}

#[derive(Clone, Copy)]
struct EntityRow {
    key: u32,
    name: RwSignal<String>,
    /// The name and plural as read: the plural is kept while the name is.
    original: StoredValue<(String, String)>,
    fields: RwSignal<Vec<FieldRow>>,
    operations: StoredValue<Vec<String>>,
}

#[derive(Clone, Copy)]
struct FieldRow {
    key: u32,
    name: RwSignal<String>,
    kind: RwSignal<String>,
    /// An enum's values, separated by commas.
    values: RwSignal<String>,
    required: RwSignal<bool>,
    unique: RwSignal<bool>,
}

#[derive(Clone, Copy)]
struct RelationRow {
    key: u32,
    kind: RwSignal<String>,
    from: RwSignal<u32>,
    to: RwSignal<u32>,
    required: RwSignal<bool>,
}

#[derive(Clone, Copy)]
struct ActionRow {
    key: u32,
    name: StoredValue<String>,
    entity: u32,
    actor: Option<u32>,
}

impl EditedSpec {
    fn new(draft: SpecDraft) -> Self {
        let spec = Self {
            name: RwSignal::new(draft.name),
            summary: RwSignal::new(draft.summary),
            entities: RwSignal::new(Vec::new()),
            relations: RwSignal::new(Vec::new()),
            actions: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        };
        let entities: Vec<EntityRow> =
            draft.entities.into_iter().map(|entity| spec.entity_row(entity)).collect();
        let key_of = |name: &str| {
            entities.iter().find(|row| row.original.with_value(|o| o.0 == name)).map(|row| row.key)
        };
        let relations = draft
            .relations
            .into_iter()
            .filter_map(|relation| {
                Some(spec.relation_row(
                    &relation.kind,
                    key_of(&relation.from)?,
                    key_of(&relation.to)?,
                    relation.required,
                ))
            })
            .collect();
        let actions = draft
            .actions
            .into_iter()
            .filter_map(|action| {
                Some(ActionRow {
                    key: spec.key(),
                    name: StoredValue::new(action.name),
                    entity: key_of(&action.entity)?,
                    actor: action.actor.as_deref().and_then(key_of),
                })
            })
            .collect();
        spec.entities.set(entities);
        spec.relations.set(relations);
        spec.actions.set(actions);
        spec
    }

    fn key(&self) -> u32 {
        self.next_key.update_value(|key| *key += 1);
        self.next_key.get_value()
    }

    /// Runs `make` under the editor's owner, so signals made in an event handler live on.
    fn owned<T>(&self, make: impl FnOnce() -> T) -> T {
        self.owner.get_value().with(make)
    }

    fn entity_row(&self, entity: EntityDraft) -> EntityRow {
        self.owned(|| EntityRow {
            key: self.key(),
            name: RwSignal::new(entity.name.clone()),
            original: StoredValue::new((entity.name, entity.plural)),
            fields: RwSignal::new(
                entity.fields.into_iter().map(|field| self.field_row(field)).collect(),
            ),
            operations: StoredValue::new(entity.operations),
        })
    }

    fn field_row(&self, field: FieldDraft) -> FieldRow {
        self.owned(|| FieldRow {
            key: self.key(),
            name: RwSignal::new(field.name),
            values: RwSignal::new(field.ty.values.unwrap_or_default().join(", ")),
            kind: RwSignal::new(field.ty.kind),
            required: RwSignal::new(field.required),
            unique: RwSignal::new(field.unique),
        })
    }

    fn relation_row(&self, kind: &str, from: u32, to: u32, required: bool) -> RelationRow {
        self.owned(|| RelationRow {
            key: self.key(),
            kind: RwSignal::new(kind.to_owned()),
            from: RwSignal::new(from),
            to: RwSignal::new(to),
            required: RwSignal::new(required),
        })
    }

    fn add_entity(&self) {
        let draft = EntityDraft {
            operations: ["create", "list", "read", "update", "delete"].map(str::to_owned).to_vec(),
            ..EntityDraft::default()
        };
        let row = self.entity_row(draft);
        self.entities.update(|rows| rows.push(row));
    }

    /// Removes the entity and whatever links to it.
    fn remove_entity(&self, key: u32) {
        self.entities.update(|rows| rows.retain(|row| row.key != key));
        self.relations.update(|rows| {
            rows.retain(|row| row.from.get_untracked() != key && row.to.get_untracked() != key)
        });
        self.actions.update(|rows| {
            rows.retain(|row| row.entity != key);
            for row in rows.iter_mut().filter(|row| row.actor == Some(key)) {
                row.actor = None;
            }
        });
    }

    fn add_field(&self, entity: EntityRow) {
        let draft = FieldDraft {
            ty: FieldTypeDraft { kind: "string".into(), values: None },
            required: true,
            ..FieldDraft::default()
        };
        let row = self.field_row(draft);
        entity.fields.update(|rows| rows.push(row));
    }

    fn add_relation(&self) {
        let ends = self.entities.with_untracked(|rows| rows.first().map(|row| row.key));
        if let Some(first) = ends {
            let row = self.relation_row("belongs_to", first, first, true);
            self.relations.update(|rows| rows.push(row));
        }
    }

    fn entity_name(&self, key: u32) -> String {
        self.entities
            .with(|rows| rows.iter().find(|row| row.key == key).map(|row| row.name.get()))
            .unwrap_or_default()
    }

    /// The spec as it stands, in the engine's format.
    fn draft(&self) -> SpecDraft {
        let entities = self.entities.get();
        SpecDraft {
            name: self.name.get(),
            summary: self.summary.get(),
            entities: entities.iter().map(EntityRow::draft).collect(),
            relations: self.relations.with(|rows| {
                rows.iter()
                    .map(|row| RelationDraft {
                        kind: row.kind.get(),
                        from: self.entity_name(row.from.get()),
                        to: self.entity_name(row.to.get()),
                        required: row.required.get(),
                    })
                    .collect()
            }),
            actions: self.actions.with(|rows| {
                rows.iter()
                    .map(|row| ActionDraft {
                        name: row.name.get_value(),
                        entity: self.entity_name(row.entity),
                        actor: row.actor.map(|key| self.entity_name(key)),
                    })
                    .collect()
            }),
        }
    }
}

impl EntityRow {
    fn draft(&self) -> EntityDraft {
        let name = self.name.get();
        let (original_name, original_plural) = self.original.get_value();
        EntityDraft {
            // A renamed entity's plural is derived again from its new name.
            plural: if name.trim() == original_name { original_plural } else { String::new() },
            name,
            fields: self.fields.with(|rows| rows.iter().map(FieldRow::draft).collect()),
            operations: self.operations.get_value(),
        }
    }
}

impl FieldRow {
    fn draft(&self) -> FieldDraft {
        let kind = self.kind.get();
        let values = (kind == "enum").then(|| {
            self.values.with(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
        });
        FieldDraft {
            name: self.name.get(),
            ty: FieldTypeDraft { kind, values },
            required: self.required.get(),
            unique: self.unique.get(),
        }
    }
}

/// The spec form, and the hidden input that gives it to Generate.
#[component]
pub fn SpecEditor(draft: SpecDraft) -> AnyView {
    let spec = EditedSpec::new(draft);
    let json = move || serde_json::to_string(&spec.draft()).unwrap_or_default();
    // Enter in a name would submit the whole form: here it does nothing.
    let keep_enter = |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Enter" {
            event.prevent_default();
        }
    };
    view! {
        <div class="spec-editor" on:keydown=keep_enter>
            <input type="hidden" name="spec" prop:value=json />
            <div class="row">
                <label>"App name" <input type="text" maxlength="63" prop:value=move || spec.name.get()
                    on:input=move |ev| spec.name.set(event_target_value(&ev)) /></label>
                <label>"Summary" <input type="text" maxlength="500" prop:value=move || spec.summary.get()
                    on:input=move |ev| spec.summary.set(event_target_value(&ev)) /></label>
            </div>
            <For each=move || spec.entities.get() key=|row| row.key let:entity>
                <EntityEditor spec entity />
            </For>
            <button type="button" class="button-quiet" on:click=move |_| spec.add_entity()>"Add entity"</button>
            <RelationsEditor spec />
            <ActionsEditor spec />
        </div>
    }
    .into_any()
}

#[component]
fn EntityEditor(spec: EditedSpec, entity: EntityRow) -> AnyView {
    let name = entity.name;
    let label = move |what: &str| format!("{what} {}", name.get());
    view! {
        <fieldset class="entity">
            <legend>{move || label("Entity")}</legend>
            <div class="entity-head">
                <label>"Entity name" <input type="text" maxlength="63" required prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <button type="button" class="button-quiet danger" aria-label=move || label("Remove entity")
                    on:click=move |_| spec.remove_entity(entity.key)>"Remove"</button>
            </div>
            <For each=move || entity.fields.get() key=|row| row.key let:field>
                <FieldEditor entity field />
            </For>
            <button type="button" class="button-quiet" aria-label=move || label("Add a field to")
                on:click=move |_| spec.add_field(entity)>"Add field"</button>
        </fieldset>
    }
    .into_any()
}

#[component]
fn FieldEditor(entity: EntityRow, field: FieldRow) -> AnyView {
    let label = move |what: &str| format!("{what} {}", field.name.get());
    view! {
        <div class="field-row" role="group" aria-label=move || label("Field")>
            <input type="text" maxlength="63" aria-label="Field name" placeholder="name"
                prop:value=move || field.name.get() on:input=move |ev| field.name.set(event_target_value(&ev)) />
            <select aria-label="Type" on:change=move |ev| field.kind.set(event_target_value(&ev))>
                {FIELD_TYPES.iter().map(|(kind, words)| view! {
                    <option value=*kind selected=move || field.kind.get() == *kind>{*words}</option>
                }).collect_view()}
            </select>
            <Show when=move || field.kind.get() == "enum">
                <input type="text" aria-label="Values, separated by commas" placeholder="open, closed"
                    prop:value=move || field.values.get() on:input=move |ev| field.values.set(event_target_value(&ev)) />
            </Show>
            <label class="inline"><input type="checkbox" prop:checked=move || field.required.get()
                on:change=move |ev| field.required.set(event_target_checked(&ev)) />" required"</label>
            <label class="inline"><input type="checkbox" prop:checked=move || field.unique.get()
                on:change=move |ev| field.unique.set(event_target_checked(&ev)) />" unique"</label>
            <button type="button" class="button-quiet danger" aria-label=move || label("Remove field")
                on:click=move |_| entity.fields.update(|rows| rows.retain(|row| row.key != field.key))>"×"</button>
        </div>
    }
    .into_any()
}

#[component]
fn RelationsEditor(spec: EditedSpec) -> AnyView {
    view! {
        <fieldset class="relations">
            <legend>"Relations"</legend>
            <For each=move || spec.relations.get() key=|row| row.key let:relation>
                <div class="field-row" role="group" aria-label="Relation">
                    <EntitySelect spec label="From" chosen=relation.from />
                    <select aria-label="Link" on:change=move |ev| relation.kind.set(event_target_value(&ev))>
                        {RELATION_KINDS.iter().map(|(kind, words)| view! {
                            <option value=*kind selected=move || relation.kind.get() == *kind>{*words}</option>
                        }).collect_view()}
                    </select>
                    <EntitySelect spec label="To" chosen=relation.to />
                    <Show when=move || relation.kind.get() == "belongs_to">
                        <label class="inline"><input type="checkbox" prop:checked=move || relation.required.get()
                            on:change=move |ev| relation.required.set(event_target_checked(&ev)) />" required"</label>
                    </Show>
                    <button type="button" class="button-quiet danger" aria-label="Remove relation"
                        on:click=move |_| spec.relations.update(|rows| rows.retain(|row| row.key != relation.key))>"×"</button>
                </div>
            </For>
            <button type="button" class="button-quiet" disabled=move || spec.entities.with(Vec::is_empty)
                on:click=move |_| spec.add_relation()>"Add relation"</button>
        </fieldset>
    }
    .into_any()
}

#[component]
fn EntitySelect(spec: EditedSpec, label: &'static str, chosen: RwSignal<u32>) -> AnyView {
    view! {
        <select aria-label=label on:change=move |ev| {
            if let Ok(key) = event_target_value(&ev).parse() {
                chosen.set(key);
            }
        }>
            <For each=move || spec.entities.get() key=|row| row.key let:entity>
                <option value=entity.key.to_string() selected=move || chosen.get() == entity.key>
                    {move || entity.name.get()}
                </option>
            </For>
        </select>
    }
    .into_any()
}

#[component]
fn ActionsEditor(spec: EditedSpec) -> AnyView {
    view! {
        <Show when=move || spec.actions.with(|rows| !rows.is_empty())>
            <fieldset class="actions-list">
                <legend>"Actions"</legend>
                <ul>
                    <For each=move || spec.actions.get() key=|row| row.key let:action>
                        <li>
                            {move || {
                                let actor = action.actor.map_or_else(|| "anyone".to_owned(), |key| spec.entity_name(key));
                                format!("{actor} can {} a {}", action.name.get_value(), spec.entity_name(action.entity))
                            }}
                            " "
                            <button type="button" class="button-quiet danger"
                                aria-label=format!("Remove action {}", action.name.get_value())
                                on:click=move |_| spec.actions.update(|rows| rows.retain(|row| row.key != action.key))>"×"</button>
                        </li>
                    </For>
                </ul>
            </fieldset>
        </Show>
    }
    .into_any()
}
