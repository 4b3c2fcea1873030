//! Pure translation between OpenAI's chat format and Anthropic's Messages API, both ways,
//! streams included.

use serde_json::{Map, Value, json};

use crate::error::RouterError;
use crate::provider::StreamChunk;
pub use crate::providers::translate::Mode;
use crate::providers::translate::{
    self, JSON_OBJECT_INSTRUCTION, JSON_TOOL_DESCRIPTION, push_turn, role_delta, text_delta,
    tool_call_arguments, tool_call_opened,
};
use crate::wire::{ChatRequest, ChatResponse, Content, Delta, FunctionCall, Role, ToolCall, Usage};

/// Anthropic requires `max_tokens`; this is sent when the client gave none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The Messages API body for an OpenAI request.
pub fn request_body(
    request: &ChatRequest,
    model: &str,
    stream: bool,
) -> Result<(Value, Mode), RouterError> {
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for message in &request.messages {
        match message.role {
            Role::System | Role::Developer => system.push(message.text_content()),
            Role::User => push_turn(&mut messages, "user", user_blocks(message.content.as_ref())?),
            Role::Assistant => {
                let mut blocks = Vec::new();
                let text = message.text_content();
                if !text.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                for call in message.tool_calls.iter().flatten() {
                    let input = translate::tool_call_input(call)?;
                    blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.function.name, "input": input}));
                }
                push_turn(&mut messages, "assistant", blocks);
            }
            Role::Tool => {
                let id = message.tool_call_id.clone().ok_or_else(|| {
                    RouterError::InvalidRequest("a `tool` message needs its `tool_call_id`".into())
                })?;
                let block = json!({"type": "tool_result", "tool_use_id": id, "content": message.text_content()});
                push_turn(&mut messages, "user", vec![block]);
            }
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("max_tokens".into(), json!(request.output_limit().unwrap_or(DEFAULT_MAX_TOKENS)));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(translate::unit_temperature(temperature)));
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    let stops = request.stop_sequences();
    if !stops.is_empty() {
        body.insert("stop_sequences".into(), json!(stops));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    let mut tools: Vec<Value> = request
        .tools
        .iter()
        .flatten()
        .map(|tool| {
            let mut entry = json!({
                "name": tool.function.name,
                "input_schema": tool.function.parameters.clone().unwrap_or_else(|| json!({"type": "object"})),
            });
            if let Some(description) = &tool.function.description {
                entry["description"] = json!(description);
            }
            entry
        })
        .collect();
    let mut tool_choice = request.tool_choice.as_ref().map(tool_choice).transpose()?.flatten();
    let mut mode = Mode::default();
    if let Some((name, input_schema)) = translate::json_schema_tool(request) {
        tools.push(json!({"name": name, "description": JSON_TOOL_DESCRIPTION, "input_schema": input_schema}));
        tool_choice = Some(json!({"type": "tool", "name": name}));
        mode.json_tool = Some(name);
    } else if request.response_format.as_ref().is_some_and(|format| format.kind == "json_object") {
        system.push(JSON_OBJECT_INSTRUCTION.to_owned());
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        body.insert("tool_choice".into(), choice);
    }
    let system = system.join("\n\n");
    if !system.is_empty() {
        body.insert("system".into(), json!(system));
    }
    if let Some(user) = &request.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    Ok((Value::Object(body), mode))
}

fn user_blocks(content: Option<&Content>) -> Result<Vec<Value>, RouterError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(text)) => Ok(vec![json!({"type": "text", "text": text})]),
        Some(Content::Parts(parts)) => parts
            .iter()
            .map(|part| match (part.kind.as_str(), &part.text, &part.image_url) {
                ("text", Some(text), _) => Ok(json!({"type": "text", "text": text})),
                ("image_url", _, Some(image)) => Ok(image_block(&image.url)),
                (other, _, _) => Err(RouterError::InvalidRequest(format!(
                    "content parts of type `{other}` cannot be sent to Anthropic"
                ))),
            })
            .collect(),
    }
}

fn image_block(url: &str) -> Value {
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((media_type, data)) = rest.split_once(";base64,")
    {
        return json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}});
    }
    json!({"type": "image", "source": {"type": "url", "url": url}})
}

fn tool_choice(choice: &Value) -> Result<Option<Value>, RouterError> {
    match choice {
        Value::String(mode) => match mode.as_str() {
            "auto" => Ok(Some(json!({"type": "auto"}))),
            "required" => Ok(Some(json!({"type": "any"}))),
            "none" => Ok(Some(json!({"type": "none"}))),
            other => Err(RouterError::InvalidRequest(format!("unknown tool_choice `{other}`"))),
        },
        Value::Object(_) => match choice.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Ok(Some(json!({"type": "tool", "name": name}))),
            None => Err(RouterError::InvalidRequest("tool_choice names no function".into())),
        },
        _ => Ok(None),
    }
}

/// OpenAI's `finish_reason` for Anthropic's `stop_reason`.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// Anthropic's usage as OpenAI's: cached input counts as input.
pub fn usage(value: &Value) -> Usage {
    let count = |key: &str| value[key].as_u64().unwrap_or(0);
    Usage::new(
        count("input_tokens")
            + count("cache_creation_input_tokens")
            + count("cache_read_input_tokens"),
        count("output_tokens"),
    )
}

/// The OpenAI chat completion for a Messages API answer.
pub fn response(answer: &Value, mode: &Mode) -> Result<ChatResponse, String> {
    let blocks = answer["content"].as_array().ok_or("the answer has no `content` list")?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in blocks {
        match block["type"].as_str() {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or("")),
            Some("tool_use") if mode.is_json_tool(block["name"].as_str()) => {
                text.push_str(&block["input"].to_string());
            }
            Some("tool_use") => calls.push(ToolCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                kind: "function".into(),
                function: FunctionCall {
                    name: block["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: block["input"].to_string(),
                },
            }),
            _ => {}
        }
    }
    let stop_reason = answer["stop_reason"].as_str().unwrap_or("end_turn");
    let finish = mode.finish(!calls.is_empty(), finish_reason(stop_reason));
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let model = answer["model"].as_str().unwrap_or_default().to_owned();
    Ok(translate::response(id, model, text, calls, finish, usage(&answer["usage"])))
}

/// Turns Messages API stream events into OpenAI chunks, keeping what later events need.
#[derive(Debug, Default)]
pub struct StreamTranslator {
    mode: Mode,
    id: String,
    model: String,
    input_tokens: u64,
    output_tokens: u64,
    /// Content block index → OpenAI tool call index, for tool-use blocks.
    tool_index: Vec<(u64, u32)>,
    finished: bool,
}

/// What one event means for the stream.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Chunks to send (possibly none, for `ping` and block ends).
    Chunks(Vec<StreamChunk>),
    /// `message_stop`: the usage chunk, then the end.
    End(StreamChunk),
}

impl StreamTranslator {
    pub fn new(mode: Mode) -> Self {
        Self { mode, ..Self::default() }
    }

    pub fn finished(&self) -> bool {
        self.finished
    }

    fn chunk(&self, delta: Delta, finish: Option<String>, usage: Option<Usage>) -> StreamChunk {
        translate::chunk(&self.id, &self.model, delta, finish, usage)
    }

    /// Translates one event (its JSON `data`).
    pub fn event(&mut self, event: &Value) -> Result<Step, String> {
        let one = |chunk| Ok(Step::Chunks(vec![chunk]));
        match event["type"].as_str().unwrap_or("") {
            "message_start" => {
                let message = &event["message"];
                self.id = message["id"].as_str().unwrap_or_default().to_owned();
                self.model = message["model"].as_str().unwrap_or_default().to_owned();
                let start = usage(&message["usage"]);
                self.input_tokens = start.prompt_tokens;
                self.output_tokens = start.completion_tokens;
                one(self.chunk(role_delta(), None, None))
            }
            "content_block_start" => {
                let block = &event["content_block"];
                let index = event["index"].as_u64().unwrap_or(0);
                match block["type"].as_str() {
                    Some("tool_use") if !self.mode.is_json_tool(block["name"].as_str()) => {
                        let call = self.tool_index.len() as u32;
                        self.tool_index.push((index, call));
                        let delta =
                            tool_call_opened(call, block["id"].as_str(), block["name"].as_str());
                        one(self.chunk(delta, None, None))
                    }
                    Some("text") => match block["text"].as_str() {
                        Some(text) if !text.is_empty() => {
                            one(self.chunk(text_delta(text), None, None))
                        }
                        _ => Ok(Step::Chunks(Vec::new())),
                    },
                    _ => Ok(Step::Chunks(Vec::new())),
                }
            }
            "content_block_delta" => {
                let delta = &event["delta"];
                let index = event["index"].as_u64().unwrap_or(0);
                match delta["type"].as_str() {
                    Some("text_delta") => one(self.chunk(
                        text_delta(delta["text"].as_str().unwrap_or_default()),
                        None,
                        None,
                    )),
                    Some("input_json_delta") => {
                        let partial = delta["partial_json"].as_str().unwrap_or_default();
                        match self.tool_index.iter().find(|(block, _)| *block == index) {
                            Some(&(_, call)) => {
                                one(self.chunk(tool_call_arguments(call, partial), None, None))
                            }
                            // The JSON-schema tool: its input is the answer's text.
                            None => one(self.chunk(text_delta(partial), None, None)),
                        }
                    }
                    _ => Ok(Step::Chunks(Vec::new())),
                }
            }
            "message_delta" => {
                if let Some(output) = event["usage"]["output_tokens"].as_u64() {
                    self.output_tokens = output;
                }
                match event["delta"]["stop_reason"].as_str() {
                    Some(reason) => {
                        let finish =
                            self.mode.finish(!self.tool_index.is_empty(), finish_reason(reason));
                        one(self.chunk(Delta::default(), Some(finish.to_owned()), None))
                    }
                    None => Ok(Step::Chunks(Vec::new())),
                }
            }
            "message_stop" => {
                self.finished = true;
                let usage = Usage::new(self.input_tokens, self.output_tokens);
                Ok(Step::End(self.chunk(Delta::default(), None, Some(usage))))
            }
            "error" => Err(event["error"]["message"]
                .as_str()
                .unwrap_or("the stream reported an error")
                .to_owned()),
            // `ping`, `content_block_stop` and event types added later.
            _ => Ok(Step::Chunks(Vec::new())),
        }
    }
}

#[cfg(test)]
mod tests;
