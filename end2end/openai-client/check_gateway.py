"""The official `openai` Python package as a real client of the QuantumLayer gateway.

Run by server/tests/python_client.rs with OPENAI_BASE_URL and OPENAI_API_KEY pointing at a
gateway whose `fast` route goes to a mock upstream speaking OpenAI's protocol. Each check
raises on failure; the script prints one line per passed check.
"""

import json
import os
import sys

import openai
from openai import OpenAI

client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"], max_retries=0)


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok {name}")


def non_streaming():
    answer = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    check("non-streaming content", answer.choices[0].message.content == "Hello there", answer)
    check("non-streaming usage", answer.usage.total_tokens == 11, answer.usage)
    raw = client.chat.completions.with_raw_response.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    check("served headers", raw.headers.get("x-ql-provider") == "upstream", dict(raw.headers))


def streaming():
    pieces, usage, finish = [], None, None
    stream = client.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    check("streamed text", "".join(pieces) == "Hello there", pieces)
    check("streamed finish", finish == "stop", finish)
    check("streamed usage", usage is not None and usage.total_tokens == 11, usage)


def tool_calls():
    tools = [{"type": "function", "function": {"name": "get_current_weather", "parameters": {
        "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]
    answer = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "mock:tool"}], tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    check("tool call", call.function.name == "get_current_weather", call)
    check("tool call arguments", json.loads(call.function.arguments) == {"location": "Boston, MA"}, call)
    arguments = ""
    stream = client.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "mock:tool"}], tools=tools, stream=True
    )
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                arguments += delta.function.arguments or ""
    check("streamed tool call", json.loads(arguments) == {"location": "Boston, MA"}, arguments)


def errors():
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("unknown model: no error")
    except openai.NotFoundError as error:
        check("unknown model is NotFoundError", error.status_code == 404 and "no-such-model" in str(error), error)
    try:
        client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "mock:rate-limit"}])
        raise AssertionError("rate limit: no error")
    except openai.RateLimitError as error:
        check("upstream 429 is RateLimitError", error.response.headers.get("retry-after") == "7", error)
    try:
        OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="ql_wrong", max_retries=0).chat.completions.create(
            model="fast", messages=[{"role": "user", "content": "hi"}]
        )
        raise AssertionError("bad key: no error")
    except openai.AuthenticationError as error:
        check("bad key is AuthenticationError", error.status_code == 401, error)
    try:
        stream = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "mock:cut"}], stream=True)
        for _ in stream:
            pass
        raise AssertionError("broken stream: no error")
    except openai.APIError as error:
        check("broken stream raises APIError", "broke" in str(error), error)


def models():
    names = [model.id for model in client.models.list()]
    check("models list", names == ["builtin", "fast"], names)


def builtin():
    answer = client.chat.completions.create(
        model="builtin",
        messages=[{"role": "user", "content": "Todos have a title and a done flag."}],
        response_format={"type": "json_schema", "json_schema": {"name": "app_spec", "schema": {"type": "object"}}},
    )
    spec = json.loads(answer.choices[0].message.content)
    check("builtin model answers a spec", spec["entities"][0]["name"] == "todo", spec)


for run in (non_streaming, streaming, tool_calls, errors, models, builtin):
    run()
print(f"all checks passed with openai {openai.__version__}", file=sys.stderr)
