"""JSON API for the organisation tree and members."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.http import require_actor
from service.orgs import services as orgs
from service.orgs.schemas import MemberIn, MemberOut, MemberPage, MemberPatch, NodeIn, NodeOut

AnyRequest = Request[Any, Any, Any]


class OrgApi(Controller):
    path = "/api/v1"
    tags = ["organisations"]  # noqa: RUF012

    @get("/nodes")
    async def list_nodes(self, request: AnyRequest) -> list[NodeOut]:
        return await orgs.list_nodes(require_actor(request).node_path)

    @post("/nodes")
    async def create_node(self, request: AnyRequest, data: JSONBody[NodeIn]) -> NodeOut:
        return await orgs.create_node(require_actor(request), data)

    @get("/members")
    async def search_members(
        self,
        request: AnyRequest,
        q: FromQuery[str] = "",
        node: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> MemberPage:
        return await orgs.search_members(
            require_actor(request), q, node_code=node, limit=limit, offset=offset
        )

    @get("/members/{member_id:int}")
    async def get_member(self, request: AnyRequest, member_id: FromPath[int]) -> MemberOut:
        return await orgs.get_member(require_actor(request), member_id)

    @post("/members")
    async def create_member(self, request: AnyRequest, data: JSONBody[MemberIn]) -> MemberOut:
        return await orgs.create_member(require_actor(request), data)

    @put("/members/{member_id:int}")
    async def update_member(
        self, request: AnyRequest, member_id: FromPath[int], data: JSONBody[MemberPatch]
    ) -> MemberOut:
        """A partial update: a field left out keeps its value; unknown fields are refused
        (400). The federation's last admin cannot be demoted or moved away (409)."""
        return await orgs.patch_member(require_actor(request), member_id, data)


ROUTES = [OrgApi]
