"""The official `openai` package, pointed at the gateway, does what it does against OpenAI."""

from __future__ import annotations

import aiohttp
from openai.types.chat import ChatCompletionMessageParam

from tests.gateway.conftest import DeckFactory, upstream_json
from tests.waiting import until

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
# The tiny model's 400 tokens took about 0.2 s, and on a loaded machine the look at /slots after the first piece
# once came after the last; 1,600 (most of a slot's 2,048) keep it generating four times as long (0.7-0.9 s here).
STREAMED_TOKENS = 1600


async def test_chat_by_alias_then_completions_and_the_models_list(deck: DeckFactory) -> None:
    running = await deck(models={"tiny": {"aliases": ["gpt-4o-mini", "local/tiny"]}, "other": {}})
    client = running.client()

    listed = {model.id: model.model_dump() for model in (await client.models.list()).data}
    assert set(listed) == {"tiny", "other"}
    assert listed["tiny"]["status"] == "stopped" and listed["tiny"]["aliases"] == ["gpt-4o-mini", "local/tiny"]
    assert listed["tiny"]["object"] == "model" and listed["tiny"]["owned_by"] == "modeldeck"

    chat = await client.chat.completions.create(model="GPT-4o-mini", messages=HELLO, max_tokens=4, temperature=0)
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].message.content
    assert chat.model == "tiny"  # the server answers under the configuration's name, not its file path
    assert chat.usage is not None and chat.usage.completion_tokens == 4

    completion = await client.completions.create(model="local/tiny", prompt="once upon", max_tokens=3, temperature=0)
    assert completion.choices[0].text and completion.usage is not None and completion.usage.completion_tokens == 3

    assert {m.id: m.model_dump()["status"] for m in (await client.models.list()).data} == {
        "tiny": "running", "other": "stopped"}
    await until(lambda: len(running.rows("SELECT * FROM gateway_request")) == 4, message="four requests recorded")
    chat_row = running.rows("SELECT * FROM gateway_request WHERE route = '/v1/chat/completions'")[0]
    assert (chat_row["model"], chat_row["key_name"], chat_row["status"]) == ("GPT-4o-mini", "local", 200)
    assert chat_row["completion_tokens"] == 4 and chat_row["prompt_tokens"] > 0
    assert chat_row["tokens_per_second"] > 0 and chat_row["uid"] == running.models["tiny"].uid


async def test_a_stream_arrives_chunk_by_chunk_while_the_model_still_generates(deck: DeckFactory) -> None:
    running = await deck(models={"tiny": {"ctx_size": 4096}})  # 2,048 a slot
    client = running.client()
    stream = await client.chat.completions.create(model="tiny", messages=HELLO, max_tokens=STREAMED_TOKENS,
                                                  temperature=0, stream=True, stream_options={"include_usage": True})
    contents, busy_after_first = [], None
    async with aiohttp.ClientSession() as http:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                contents.append(chunk.choices[0].delta.content)
                if busy_after_first is None:  # not buffered: the first piece comes while the server still works
                    slots = await upstream_json(http, running, "tiny", "slots")
                    busy_after_first = any(slot["is_processing"] for slot in slots)
            usage = chunk.usage
    assert busy_after_first is True
    assert len(contents) > 100  # a piece per token or so (bytes of a character not yet whole wait for the rest)
    assert usage is not None and usage.completion_tokens == STREAMED_TOKENS
    streamed = "SELECT * FROM gateway_request WHERE route = '/v1/chat/completions'"
    await until(lambda: running.rows(streamed), message="the stream recorded")
    [row] = running.rows(streamed)
    assert row["status"] == 200
    print(f"{STREAMED_TOKENS} tokens streamed in {row['duration_ms']:.0f} ms")  # shown with -s
    assert row["completion_tokens"] == STREAMED_TOKENS and row["ttft_ms"] > 0 and row["duration_ms"] > row["ttft_ms"]


async def test_embeddings_from_a_model_started_with_embeddings(deck: DeckFactory) -> None:
    running = await deck(models={"embed": {"extra_args": ["--embeddings", "--pooling", "mean"]}})
    answer = await running.client().embeddings.create(model="embed", input=["hello", "good night"])
    assert [item.index for item in answer.data] == [0, 1]
    assert len(answer.data[0].embedding) == 64 and answer.data[0].embedding != answer.data[1].embedding


async def test_the_anthropic_style_messages_route(deck: DeckFactory, http: aiohttp.ClientSession) -> None:
    running = await deck(models={"tiny": {}})
    async with http.post(f"{running.base_url}/messages", json={
            "model": "tiny", "max_tokens": 4, "messages": HELLO}) as answer:
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    assert body["type"] == "message" and body["content"][0]["type"] == "text"


async def test_upstream_passthrough_reaches_the_models_own_endpoints(deck: DeckFactory,
                                                                    http: aiohttp.ClientSession) -> None:
    running = await deck(models={"tiny": {"parallel": 3}})
    await running.client().completions.create(model="tiny", prompt="hi", max_tokens=1)
    props = await upstream_json(http, running, "tiny", "props")
    assert props["total_slots"] == 3
    async with http.get(f"{running.app.url}/upstream/tiny/metrics") as metrics:
        assert metrics.status == 200 and metrics.content_type == "text/plain"
        assert "llamacpp:tokens_predicted_total" in await metrics.text()


