from __future__ import annotations

from typing import Any

from tests.conftest import Org, sign_in


async def test_worker_signs_in_and_sees_home_in_chinese(client: Any, org: Org) -> None:
    response = await sign_in(client, org.phones["worker_a1"])
    assert response.status_code == 200
    assert "快递员小王" in response.text
    assert 'lang="zh-CN"' in response.text
