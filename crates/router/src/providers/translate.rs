//! What the translating providers (Anthropic, Bedrock, the scripted one) share: OpenAI answers
//! and chunks built from parts, turns merged by role, and `response_format: json_schema`
//! carried as a forced tool.

use serde_json::{Value, json};

use crate::error::RouterError;
use crate::http::unix_now;
use crate::provider::StreamChunk;
use crate::wire::{
    AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta,
    FunctionCallDelta, Role, ToolCall, ToolCallDelta, Usage,
};

/// How the answer maps back: with `response_format: json_schema` the schema travels as a
/// forced tool whose input becomes the message text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mode {
    pub json_tool: Option<String>,
}

impl Mode {
    /// The finish reason: a forced JSON-schema tool ends as a plain `stop`.
    pub fn finish<'a>(&self, has_tool_calls: bool, mapped: &'a str) -> &'a str {
        if self.json_tool.is_some() && !has_tool_calls { "stop" } else { mapped }
    }

    /// Whether a tool-use block is the JSON-schema answer rather than a real tool call.
    pub fn is_json_tool(&self, name: Option<&str>) -> bool {
        self.json_tool.is_some() && self.json_tool.as_deref() == name
    }
}

/// The tool that carries `response_format: json_schema` (its name and input schema), if asked.
pub fn json_schema_tool(request: &ChatRequest) -> Option<(String, Value)> {
    let format = request.response_format.as_ref().filter(|format| format.kind == "json_schema")?;
    let schema = format.json_schema.as_ref();
    let name = schema.map_or("json_response".to_owned(), |s| s.name.clone());
    let input_schema =
        schema.and_then(|s| s.schema.clone()).unwrap_or_else(|| json!({"type": "object"}));
    Some((name, input_schema))
}

/// OpenAI's temperature (0 to 2) for vendors whose range is 0 to 1: values above 1 are capped,
/// values within it pass unchanged (as clients tuned for those models expect).
pub fn unit_temperature(temperature: f64) -> f64 {
    temperature.clamp(0.0, 1.0)
}

/// The system-prompt line that asks for `response_format: json_object`.
pub const JSON_OBJECT_INSTRUCTION: &str = "Respond with a single JSON object and nothing else.";

/// The description given to the JSON-schema tool.
pub const JSON_TOOL_DESCRIPTION: &str = "Answer with this tool's input as the response.";

/// Appends blocks as a turn, merging with the previous turn of the same role (these APIs want
/// roles to alternate; consecutive tool results become one user turn).
pub fn push_turn(messages: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if let Some(last) = messages.last_mut()
        && last["role"] == role
        && let Some(content) = last["content"].as_array_mut()
    {
        content.extend(blocks);
        return;
    }
    messages.push(json!({"role": role, "content": blocks}));
}

/// A tool call's arguments as JSON (OpenAI sends them as a JSON text).
pub fn tool_call_input(call: &ToolCall) -> Result<Value, RouterError> {
    serde_json::from_str(&call.function.arguments).map_err(|error| {
        RouterError::InvalidRequest(format!(
            "the arguments of tool call `{}` are not JSON: {error}",
            call.id
        ))
    })
}

/// A one-choice chat completion.
pub fn response(
    id: String,
    model: String,
    text: String,
    calls: Vec<ToolCall>,
    finish: &str,
    usage: Usage,
) -> ChatResponse {
    ChatResponse {
        id,
        object: "chat.completion".into(),
        created: unix_now(),
        model,
        choices: vec![Choice {
            index: 0,
            message: AssistantMessage {
                role: Role::Assistant,
                content: if text.is_empty() && !calls.is_empty() { None } else { Some(text) },
                tool_calls: (!calls.is_empty()).then_some(calls),
            },
            finish_reason: Some(finish.to_owned()),
        }],
        usage: Some(usage),
    }
}

/// One stream chunk: a delta with an optional finish reason, or (with `usage`) the usage-only
/// chunk that ends a stream.
pub fn chunk(
    id: &str,
    model: &str,
    delta: Delta,
    finish: Option<String>,
    usage: Option<Usage>,
) -> StreamChunk {
    let choices = if usage.is_some() {
        Vec::new()
    } else {
        vec![ChunkChoice { index: 0, delta, finish_reason: finish }]
    };
    let chunk = ChatChunk {
        id: id.to_owned(),
        object: "chat.completion.chunk".into(),
        created: unix_now(),
        model: model.to_owned(),
        choices,
        usage,
    };
    StreamChunk {
        data: serde_json::to_vec(&chunk).unwrap_or_default().into(),
        usage,
        usage_only: usage.is_some(),
    }
}

/// The first delta of an answer.
pub fn role_delta() -> Delta {
    Delta { role: Some(Role::Assistant), content: Some(String::new()), tool_calls: None }
}

/// A piece of text.
pub fn text_delta(text: impl Into<String>) -> Delta {
    Delta { content: Some(text.into()), ..Delta::default() }
}

/// A tool call opens: its id and name, no arguments yet.
pub fn tool_call_opened(index: u32, id: Option<&str>, name: Option<&str>) -> Delta {
    let call = ToolCallDelta {
        index,
        id: id.map(str::to_owned),
        kind: Some("function".into()),
        function: FunctionCallDelta {
            name: name.map(str::to_owned),
            arguments: Some(String::new()),
        },
    };
    Delta { tool_calls: Some(vec![call]), ..Delta::default() }
}

/// More of a tool call's arguments.
pub fn tool_call_arguments(index: u32, arguments: impl Into<String>) -> Delta {
    let call = ToolCallDelta {
        index,
        id: None,
        kind: None,
        function: FunctionCallDelta { name: None, arguments: Some(arguments.into()) },
    };
    Delta { tool_calls: Some(vec![call]), ..Delta::default() }
}
