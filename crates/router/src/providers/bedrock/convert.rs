//! Pure translation between OpenAI's chat format and Bedrock's Converse API, both ways,
//! stream events included.

use serde_json::{Map, Value, json};

use crate::error::RouterError;
use crate::provider::StreamChunk;
use crate::providers::translate::{
    self, JSON_OBJECT_INSTRUCTION, JSON_TOOL_DESCRIPTION, Mode, push_turn, role_delta, text_delta,
    tool_call_arguments, tool_call_opened,
};
use crate::wire::{ChatRequest, ChatResponse, Content, Delta, FunctionCall, Role, ToolCall, Usage};

/// The Converse request body (the model travels in the URL).
pub fn request_body(request: &ChatRequest) -> Result<(Value, Mode), RouterError> {
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for message in &request.messages {
        match message.role {
            Role::System | Role::Developer => system.push(json!({"text": message.text_content()})),
            Role::User => push_turn(&mut messages, "user", user_blocks(message.content.as_ref())?),
            Role::Assistant => {
                let mut blocks = Vec::new();
                let text = message.text_content();
                if !text.is_empty() {
                    blocks.push(json!({"text": text}));
                }
                for call in message.tool_calls.iter().flatten() {
                    let input = translate::tool_call_input(call)?;
                    blocks.push(json!({"toolUse": {"toolUseId": call.id, "name": call.function.name, "input": input}}));
                }
                push_turn(&mut messages, "assistant", blocks);
            }
            Role::Tool => {
                let id = message.tool_call_id.clone().ok_or_else(|| {
                    RouterError::InvalidRequest("a `tool` message needs its `tool_call_id`".into())
                })?;
                let block = json!({"toolResult": {"toolUseId": id, "content": [{"text": message.text_content()}]}});
                push_turn(&mut messages, "user", vec![block]);
            }
        }
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    let mut inference = Map::new();
    if let Some(limit) = request.output_limit() {
        inference.insert("maxTokens".into(), json!(limit));
    }
    if let Some(temperature) = request.temperature {
        inference.insert("temperature".into(), json!(translate::unit_temperature(temperature)));
    }
    if let Some(top_p) = request.top_p {
        inference.insert("topP".into(), json!(top_p));
    }
    let stops = request.stop_sequences();
    if !stops.is_empty() {
        inference.insert("stopSequences".into(), json!(stops));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    let none_chosen = request.tool_choice.as_ref().and_then(Value::as_str) == Some("none");
    let mut tools: Vec<Value> = if none_chosen {
        Vec::new()
    } else {
        request
            .tools
            .iter()
            .flatten()
            .map(|tool| {
                let mut spec = json!({
                    "name": tool.function.name,
                    "inputSchema": {"json": tool.function.parameters.clone().unwrap_or_else(|| json!({"type": "object"}))},
                });
                if let Some(description) = &tool.function.description {
                    spec["description"] = json!(description);
                }
                json!({"toolSpec": spec})
            })
            .collect()
    };
    let mut tool_choice = match &request.tool_choice {
        Some(Value::String(mode)) if mode == "required" => Some(json!({"any": {}})),
        Some(Value::String(mode)) if mode == "auto" => Some(json!({"auto": {}})),
        Some(choice @ Value::Object(_)) => {
            match choice.pointer("/function/name").and_then(Value::as_str) {
                Some(name) => Some(json!({"tool": {"name": name}})),
                None => {
                    return Err(RouterError::InvalidRequest(
                        "tool_choice names no function".into(),
                    ));
                }
            }
        }
        _ => None,
    };
    let mut mode = Mode::default();
    if let Some((name, input_schema)) = translate::json_schema_tool(request) {
        tools.push(json!({"toolSpec": {"name": name, "description": JSON_TOOL_DESCRIPTION, "inputSchema": {"json": input_schema}}}));
        tool_choice = Some(json!({"tool": {"name": name}}));
        mode.json_tool = Some(name);
    } else if request.response_format.as_ref().is_some_and(|format| format.kind == "json_object") {
        system.push(json!({"text": JSON_OBJECT_INSTRUCTION}));
    }
    if !tools.is_empty() {
        let mut config = json!({"tools": tools});
        if let Some(choice) = tool_choice {
            config["toolChoice"] = choice;
        }
        body.insert("toolConfig".into(), config);
    }
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    Ok((Value::Object(body), mode))
}

fn user_blocks(content: Option<&Content>) -> Result<Vec<Value>, RouterError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(text)) => Ok(vec![json!({"text": text})]),
        Some(Content::Parts(parts)) => parts
            .iter()
            .map(|part| match (part.kind.as_str(), &part.text, &part.image_url) {
                ("text", Some(text), _) => Ok(json!({"text": text})),
                ("image_url", _, Some(image)) => image_block(&image.url),
                (other, _, _) => Err(RouterError::InvalidRequest(format!(
                    "content parts of type `{other}` cannot be sent to Bedrock"
                ))),
            })
            .collect(),
    }
}

fn image_block(url: &str) -> Result<Value, RouterError> {
    let inline = url.strip_prefix("data:image/").and_then(|rest| rest.split_once(";base64,"));
    match inline {
        Some((format, data)) if ["png", "jpeg", "gif", "webp"].contains(&format) => {
            Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
        }
        _ => Err(RouterError::InvalidRequest(
            "Bedrock takes images inline only: send a data:image/(png|jpeg|gif|webp);base64 URL"
                .into(),
        )),
    }
}

/// OpenAI's `finish_reason` for a Converse `stopReason`.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

fn usage(value: &Value) -> Usage {
    Usage::new(
        value["inputTokens"].as_u64().unwrap_or(0),
        value["outputTokens"].as_u64().unwrap_or(0),
    )
}

/// The OpenAI chat completion for a Converse answer.
pub fn response(answer: &Value, model: &str, mode: &Mode) -> Result<ChatResponse, String> {
    let blocks = answer
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or("the answer has no output message")?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in blocks {
        if let Some(piece) = block["text"].as_str() {
            text.push_str(piece);
        } else if let Some(tool) = block.get("toolUse") {
            if mode.is_json_tool(tool["name"].as_str()) {
                text.push_str(&tool["input"].to_string());
            } else {
                calls.push(ToolCall {
                    id: tool["toolUseId"].as_str().unwrap_or_default().to_owned(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: tool["name"].as_str().unwrap_or_default().to_owned(),
                        arguments: tool["input"].to_string(),
                    },
                });
            }
        }
    }
    let stop_reason = answer["stopReason"].as_str().unwrap_or("end_turn");
    let finish = mode.finish(!calls.is_empty(), finish_reason(stop_reason));
    let id = format!("chatcmpl-bedrock-{}", crate::http::unix_now());
    Ok(translate::response(id, model.to_owned(), text, calls, finish, usage(&answer["usage"])))
}

/// Turns ConverseStream events into OpenAI chunks.
#[derive(Debug, Default)]
pub struct StreamTranslator {
    mode: Mode,
    id: String,
    model: String,
    /// Content block index → OpenAI tool call index.
    tool_index: Vec<(u64, u32)>,
    stopped: bool,
}

impl StreamTranslator {
    pub fn new(mode: Mode, model: &str) -> Self {
        Self {
            mode,
            id: format!("chatcmpl-bedrock-{}", crate::http::unix_now()),
            model: model.to_owned(),
            ..Self::default()
        }
    }

    /// Whether `messageStop` has arrived (a stream may end cleanly after it).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    fn chunk(&self, delta: Delta, finish: Option<String>, usage: Option<Usage>) -> StreamChunk {
        translate::chunk(&self.id, &self.model, delta, finish, usage)
    }

    /// Translates one event, named by its `:event-type` header.
    pub fn event(&mut self, event_type: &str, payload: &Value) -> Vec<StreamChunk> {
        match event_type {
            "messageStart" => vec![self.chunk(role_delta(), None, None)],
            "contentBlockStart" => {
                let index = payload["contentBlockIndex"].as_u64().unwrap_or(0);
                let Some(tool) = payload.pointer("/start/toolUse") else { return Vec::new() };
                if self.mode.is_json_tool(tool["name"].as_str()) {
                    return Vec::new();
                }
                let call = self.tool_index.len() as u32;
                self.tool_index.push((index, call));
                vec![self.chunk(
                    tool_call_opened(call, tool["toolUseId"].as_str(), tool["name"].as_str()),
                    None,
                    None,
                )]
            }
            "contentBlockDelta" => {
                let index = payload["contentBlockIndex"].as_u64().unwrap_or(0);
                if let Some(text) = payload.pointer("/delta/text").and_then(Value::as_str) {
                    return vec![self.chunk(text_delta(text), None, None)];
                }
                let Some(input) = payload.pointer("/delta/toolUse/input").and_then(Value::as_str)
                else {
                    return Vec::new();
                };
                match self.tool_index.iter().find(|(block, _)| *block == index) {
                    Some(&(_, call)) => {
                        vec![self.chunk(tool_call_arguments(call, input), None, None)]
                    }
                    None => vec![self.chunk(text_delta(input), None, None)],
                }
            }
            "messageStop" => {
                self.stopped = true;
                let reason = payload["stopReason"].as_str().unwrap_or("end_turn");
                let finish = self.mode.finish(!self.tool_index.is_empty(), finish_reason(reason));
                vec![self.chunk(Delta::default(), Some(finish.to_owned()), None)]
            }
            "metadata" => vec![self.chunk(Delta::default(), None, Some(usage(&payload["usage"])))],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
