//! Translation cases written out: OpenAI in, Anthropic out, and back.

use super::*;

fn request(value: Value) -> ChatRequest {
    serde_json::from_value(value).expect("chat request")
}

#[test]
fn a_conversation_with_system_tools_and_tool_results_translates() {
    let openai = request(json!({
        "model": "smart",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "24C"}
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "tool_choice": "required",
        "temperature": 1.5, "max_tokens": 300, "stop": ["END"], "user": "u-1"
    }));
    let (body, mode) = request_body(&openai, "claude-3-5-haiku-latest", true).expect("translates");
    assert_eq!(mode, Mode::default());
    assert_eq!(
        body,
        json!({
            "model": "claude-3-5-haiku-latest",
            "max_tokens": 300,
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image, and the weather?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "24C"}]}
            ],
            "temperature": 1.0,
            "stop_sequences": ["END"],
            "stream": true,
            "tools": [{"name": "weather", "description": "Weather in a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
            "tool_choice": {"type": "any"},
            "metadata": {"user_id": "u-1"}
        })
    );
}

#[test]
fn json_schema_travels_as_a_forced_tool_and_comes_back_as_text() {
    let openai = request(json!({
        "model": "smart", "messages": [{"role": "user", "content": "A book, please"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "book",
            "schema": {"type": "object", "properties": {"title": {"type": "string"}}}}}
    }));
    let (body, mode) = request_body(&openai, "claude", false).expect("translates");
    assert_eq!(mode.json_tool.as_deref(), Some("book"));
    assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "book"}));
    assert_eq!(body["tools"][0]["input_schema"]["properties"]["title"]["type"], "string");

    let answer = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
        "content": [{"type": "tool_use", "id": "toolu_9", "name": "book", "input": {"title": "Dune"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 20, "output_tokens": 8}});
    let converted = response(&answer, &mode).expect("converts");
    assert_eq!(converted.choices[0].message.content.as_deref(), Some(r#"{"title":"Dune"}"#));
    assert_eq!(converted.choices[0].message.tool_calls, None);
    assert_eq!(converted.choices[0].finish_reason.as_deref(), Some("stop"));
}

#[test]
fn answers_map_text_tool_calls_stop_reasons_and_usage() {
    let answer = json!({"id": "msg_2", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_3", "name": "weather", "input": {"city": "Oslo"}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 7}});
    let converted = response(&answer, &Mode::default()).expect("converts");
    let message = &converted.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("Checking."));
    let call = &message.tool_calls.as_ref().expect("calls")[0];
    assert_eq!(
        (call.id.as_str(), call.function.arguments.as_str()),
        ("toolu_3", r#"{"city":"Oslo"}"#)
    );
    assert_eq!(converted.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(converted.usage, Some(Usage::new(15, 7)));
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
    ] {
        assert_eq!(finish_reason(stop), finish);
    }
    assert!(response(&json!({"type": "message"}), &Mode::default()).is_err());
}

#[test]
fn bad_requests_are_refused_before_sending() {
    let cases = [
        (json!({"role": "tool", "content": "x"}), "tool_call_id"),
        (
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}),
            "not JSON",
        ),
        (json!({"role": "user", "content": [{"type": "input_audio"}]}), "input_audio"),
    ];
    for (message, needle) in cases {
        let openai = request(json!({"model": "m", "messages": [message]}));
        let error = request_body(&openai, "claude", false).expect_err("refused");
        assert!(error.to_string().contains(needle), "{error}");
    }
}

fn chunk_json(step: &Step) -> Vec<Value> {
    let chunks = match step {
        Step::Chunks(chunks) => chunks.clone(),
        Step::End(chunk) => vec![chunk.clone()],
    };
    chunks.iter().map(|c| serde_json::from_slice(&c.data).expect("json")).collect()
}

#[test]
fn stream_events_become_openai_chunks() {
    let mut translator = StreamTranslator::new(Mode::default());
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_7", "model": "claude-3-5-haiku-20241022", "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_4", "name": "weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"Oslo\"}"}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 12}}),
        json!({"type": "message_stop"}),
    ];
    let chunks: Vec<Value> =
        events.iter().flat_map(|e| chunk_json(&translator.event(e).expect("event"))).collect();
    let deltas: Vec<Value> = chunks.iter().map(|c| c["choices"][0]["delta"].clone()).collect();
    assert_eq!(deltas[0], json!({"role": "assistant", "content": ""}));
    assert_eq!(deltas[1], json!({"content": "Hi"}));
    assert_eq!(
        deltas[2],
        json!({"tool_calls": [{"index": 0, "id": "toolu_4", "type": "function", "function": {"name": "weather", "arguments": ""}}]})
    );
    assert_eq!(
        deltas[3],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})
    );
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        chunks[6]["usage"],
        json!({"prompt_tokens": 25, "completion_tokens": 12, "total_tokens": 37})
    );
    assert_eq!(chunks[6]["choices"], json!([]));
    assert!(chunks.iter().all(|c| c["id"] == "msg_7" && c["object"] == "chat.completion.chunk"));
    assert!(translator.finished());
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    assert_eq!(StreamTranslator::default().event(&overloaded), Err("Overloaded".to_owned()));
}
