//! Translation cases written out: OpenAI in, Converse out, and back.

use super::*;

fn request(value: Value) -> ChatRequest {
    serde_json::from_value(value).expect("chat request")
}

#[test]
fn a_conversation_with_tools_translates_to_converse() {
    let openai = request(json!({
        "model": "smart",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "-3C"}
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "temperature": 0.2, "max_completion_tokens": 200, "stop": "END"
    }));
    let (body, mode) = request_body(&openai).expect("translates");
    assert_eq!(mode, Mode::default());
    assert_eq!(
        body,
        json!({
            "messages": [
                {"role": "user", "content": [{"text": "Weather?"},
                    {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Oslo"}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "-3C"}]}}]}
            ],
            "inferenceConfig": {"maxTokens": 200, "temperature": 0.2, "stopSequences": ["END"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object"}}}}],
                "toolChoice": {"tool": {"name": "weather"}}},
            "system": [{"text": "Be brief."}]
        })
    );
    let remote_image = request(json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}));
    assert!(request_body(&remote_image).expect_err("refused").to_string().contains("inline only"));
}

#[test]
fn answers_and_json_schema_come_back_in_openai_shape() {
    let answer = json!({"output": {"message": {"role": "assistant", "content": [
            {"text": "Checking."}, {"toolUse": {"toolUseId": "t2", "name": "weather", "input": {"city": "Rome"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 30, "outputTokens": 9, "totalTokens": 39}});
    let converted =
        response(&answer, "anthropic.claude-3-5-haiku", &Mode::default()).expect("converts");
    let message = &converted.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("Checking."));
    assert_eq!(
        message.tool_calls.as_ref().expect("calls")[0].function.arguments,
        r#"{"city":"Rome"}"#
    );
    assert_eq!(converted.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(converted.usage, Some(Usage::new(30, 9)));

    let schema = request(json!({"model": "m", "messages": [{"role": "user", "content": "a book"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "book", "schema": {"type": "object"}}}}));
    let (body, mode) = request_body(&schema).expect("translates");
    assert_eq!(body["toolConfig"]["toolChoice"], json!({"tool": {"name": "book"}}));
    let answer = json!({"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t3", "name": "book", "input": {"title": "Dune"}}}]}}, "stopReason": "tool_use", "usage": {}});
    let converted = response(&answer, "m", &mode).expect("converts");
    assert_eq!(converted.choices[0].message.content.as_deref(), Some(r#"{"title":"Dune"}"#));
    assert_eq!(converted.choices[0].finish_reason.as_deref(), Some("stop"));
}

#[test]
fn stream_events_become_openai_chunks() {
    let mut translator = StreamTranslator::new(Mode::default(), "m");
    let events = [
        ("messageStart", json!({"role": "assistant"})),
        ("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}})),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        (
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t4", "name": "weather"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":\"Oslo\"}"}}}),
        ),
        ("messageStop", json!({"stopReason": "tool_use"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 11, "outputTokens": 4, "totalTokens": 15}, "metrics": {"latencyMs": 300}}),
        ),
    ];
    let chunks: Vec<Value> = events
        .iter()
        .flat_map(|(kind, payload)| translator.event(kind, payload))
        .map(|chunk| serde_json::from_slice(&chunk.data).expect("json"))
        .collect();
    let deltas: Vec<Value> = chunks.iter().map(|c| c["choices"][0]["delta"].clone()).collect();
    assert_eq!(deltas[0], json!({"role": "assistant", "content": ""}));
    assert_eq!(deltas[1], json!({"content": "Hi"}));
    assert_eq!(deltas[2]["tool_calls"][0]["id"], "t4");
    assert_eq!(deltas[3]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Oslo\"}");
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        chunks[5]["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15})
    );
    assert!(translator.stopped());
}
