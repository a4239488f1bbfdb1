from __future__ import annotations

from tests.gateway.conftest import DeckFactory


async def test_smoke(deck: DeckFactory) -> None:
    d = await deck(models={"tiny": {"aliases": ["gpt-tiny"]}})
    client = d.client()
    models = await client.models.list()
    print([m.model_dump() for m in models.data])
    answer = await client.chat.completions.create(model="gpt-tiny", messages=[{"role": "user", "content": "hi"}],
                                                  max_tokens=4, temperature=0)
    print(answer)
    print(d.rows("SELECT * FROM gateway_request"))
    print(d.rows("SELECT * FROM audit_log"))
