//! Specs from a model: the description (or, to refine, the spec so far with an instruction)
//! goes out with the spec's JSON schema as `response_format: json_schema`, and the answer is
//! held to the same rules as the built-in extractor's spec. An answer that is not a valid
//! spec is sent back once with the reason.

use ql_router::wire::{ChatRequest, JsonSchemaFormat, Message, ResponseFormat, Role, Usage};

use super::{AppSpec, MAX_DESCRIPTION_BYTES, from_json, json_schema};
use crate::EngineError;
use crate::model_generation::{ChatModel, ask};

const INSTRUCTIONS: &str = "You turn a description of an application into its spec, as JSON that follows the given schema. \
Entities are the things the app stores, named in snake_case singular with their plural; fields are named in snake_case \
with a type (string, text, integer, number, boolean, date, datetime, email, url, or enum with its values as written); \
do not add an `id` field; links between entities are relations (belongs_to, has_many, many_to_many), not fields; \
named actions are verbs people perform on an entity (borrow, complete). Answer the JSON only.";

/// Asks `model` for the spec of `description`; answers the spec and the tokens used.
pub async fn extract_with_model(
    description: &str,
    model: &dyn ChatModel,
) -> Result<(AppSpec, Usage), EngineError> {
    within_limit(description)?;
    if !description.chars().any(char::is_alphanumeric) {
        return Err(EngineError::NothingToBuild);
    }
    ask_for_spec(description.to_owned(), model).await
}

/// Asks `model` to change `current` (a spec people may have edited) as `instruction` says;
/// answers the whole changed spec and the tokens used.
pub async fn refine_with_model(
    current: &AppSpec,
    instruction: &str,
    model: &dyn ChatModel,
) -> Result<(AppSpec, Usage), EngineError> {
    within_limit(instruction)?;
    let current = serde_json::to_string_pretty(current)
        .map_err(|error| EngineError::InvalidSpec(error.to_string()))?;
    let prompt = format!(
        "The application is specified so far as:\n```json\n{current}\n```\n\
         Change it as follows, keep everything else as it is, and answer the whole changed spec:\n{instruction}"
    );
    ask_for_spec(prompt, model).await
}

fn within_limit(text: &str) -> Result<(), EngineError> {
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Err(EngineError::DescriptionTooLong {
            bytes: text.len(),
            limit: MAX_DESCRIPTION_BYTES,
        });
    }
    Ok(())
}

/// Sends `prompt` with the spec's schema; an answer that is not a valid spec goes back once
/// with the reason.
async fn ask_for_spec(
    prompt: String,
    model: &dyn ChatModel,
) -> Result<(AppSpec, Usage), EngineError> {
    let mut messages =
        vec![Message::text(Role::System, INSTRUCTIONS), Message::text(Role::User, prompt)];
    let mut usage = Usage::default();
    let mut last_problem = String::new();
    for _attempt in 0..2 {
        let request = ChatRequest {
            model: model.name(),
            messages: messages.clone(),
            temperature: Some(0.0),
            response_format: Some(ResponseFormat {
                kind: "json_schema".into(),
                json_schema: Some(JsonSchemaFormat {
                    name: "app_spec".into(),
                    description: Some("The application spec".into()),
                    schema: Some(json_schema()),
                    strict: Some(false),
                }),
            }),
            ..ChatRequest::default()
        };
        let answer = ask(model, &request, &mut usage).await?;
        match from_json(answer.trim().trim_start_matches("```json").trim_matches('`').trim()) {
            Ok(spec) => return Ok((spec, usage)),
            Err(problem) => {
                last_problem = problem.to_string();
                messages.push(Message::text(Role::Assistant, answer));
                messages.push(Message::text(
                    Role::User,
                    format!(
                        "That is not a valid spec: {last_problem}. Answer the corrected JSON only."
                    ),
                ));
            }
        }
    }
    Err(EngineError::Model(format!("the model did not answer a valid spec: {last_problem}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ql_router::providers::scripted::{Scripted, Step};

    use super::*;
    use crate::model_generation::ProviderModel;

    const TODO: &str = "A todo app: todos have a title, optional notes and a done flag.";

    #[tokio::test]
    async fn the_builtin_model_through_the_provider_trait_answers_the_same_spec() {
        let model = ProviderModel {
            provider: crate::builtin_model::provider("builtin"),
            model: "builtin".into(),
        };
        let (spec, usage) =
            extract_with_model(TODO, &model).await.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(spec, crate::spec::extract(TODO).unwrap_or_else(|error| panic!("{error}")).spec);
        assert!(usage.prompt_tokens > 0);
    }

    #[tokio::test]
    async fn an_invalid_answer_goes_back_once_with_its_reason() {
        let valid = serde_json::to_string(
            &crate::spec::extract(TODO).unwrap_or_else(|error| panic!("{error}")).spec,
        )
        .unwrap_or_default();
        let scripted = Arc::new(Scripted::new(
            "scripted",
            [
                Step::Reply(r#"{"name": "Bad Name", "summary": "", "entities": []}"#.into()),
                Step::Reply(format!("```json\n{valid}\n```")),
            ],
        ));
        let model = ProviderModel { provider: scripted.clone(), model: "m".into() };
        let (spec, _) =
            extract_with_model(TODO, &model).await.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(spec.entities[0].name, "todo");
        let requests = scripted.requests();
        assert_eq!(
            requests[0].response_format.as_ref().map(|format| format.kind.as_str()),
            Some("json_schema")
        );
        let retry = requests[1].messages.last().map(Message::text_content).unwrap_or_default();
        assert!(retry.contains("not a valid spec") && retry.contains("app name"), "{retry}");

        let stubborn = Arc::new(Scripted::new("scripted", [Step::Reply("{}".into())]));
        let model = ProviderModel { provider: stubborn.clone(), model: "m".into() };
        let error = extract_with_model(TODO, &model)
            .await
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("did not answer a valid spec"), "{error}");
        assert_eq!(stubborn.calls(), 2);
        assert!(matches!(extract_with_model("  ", &model).await, Err(EngineError::NothingToBuild)));
    }

    #[tokio::test]
    async fn a_refinement_sends_the_spec_so_far_with_the_instruction() {
        let current = crate::spec::extract(TODO).unwrap_or_else(|error| panic!("{error}")).spec;
        let mut changed = current.clone();
        changed.entities[0].fields.retain(|field| field.name != "notes");
        let answer = serde_json::to_string(&changed).unwrap_or_default();
        let scripted = Arc::new(Scripted::new("scripted", [Step::Reply(answer)]));
        let model = ProviderModel { provider: scripted.clone(), model: "m".into() };
        let (spec, _) = refine_with_model(&current, "Todos have no notes.", &model)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(spec, changed);
        let prompt = scripted.requests()[0].messages.last().map(Message::text_content);
        let prompt = prompt.unwrap_or_default();
        assert!(
            prompt.contains("\"notes\"") && prompt.ends_with("Todos have no notes."),
            "{prompt}"
        );
    }
}
