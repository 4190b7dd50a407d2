"""Admin pages for the organisation tree and its members (organisers see their subtree)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from service.errors import DomainError, Forbidden
from service.http import form_error, page, require_actor
from service.orgs import services as orgs
from service.orgs.schemas import NODE_KINDS, ROLES, WORKER_GROUPS, MemberIn, NodeIn

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 20


def _member_in(form: Any) -> MemberIn:
    return MemberIn(
        phone=str(form.get("phone", "")),
        name=str(form.get("name", "")),
        node=str(form.get("node", "")) or None,
        group=str(form.get("group", "")),
        roles=[str(role) for role in form.getall("roles", [])],
    )


class OrgPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/nodes")
    async def nodes(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        if not actor.has("organiser", "admin"):
            raise Forbidden()
        return page(
            request,
            "orgs/nodes.html",
            nodes=await orgs.list_nodes(actor.node_path),
            kinds=NODE_KINDS,
            values={},
        )

    @post("/nodes")
    async def create_node(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        data = NodeIn(
            code=str(form.get("code", "")),
            name=str(form.get("name", "")),
            kind=str(form.get("kind", "")),
            parent=str(form.get("parent", "")) or None,
        )
        try:
            await orgs.create_node(actor, data)
        except DomainError as error:
            if error.code == "forbidden":
                raise
            return page(
                request,
                "orgs/nodes.html",
                status_code=error.status_code,
                nodes=await orgs.list_nodes(actor.node_path),
                kinds=NODE_KINDS,
                values={
                    "code": data.code[:32],
                    "name": data.name[:100],
                    "kind": data.kind,
                    "parent": data.parent,
                },
                **form_error(error),
            )
        return Redirect("/admin/nodes")

    @get("/members")
    async def members(
        self,
        request: AnyRequest,
        q: FromQuery[str] = "",
        node: FromQuery[str | None] = None,
        offset: FromQuery[int] = 0,
    ) -> Template:
        actor = require_actor(request)
        result = await orgs.search_members(actor, q, node_code=node, limit=PAGE_SIZE, offset=offset)
        return page(
            request,
            "orgs/members.html",
            partials={"member-list": "member_list"},
            result=result,
            q=q,
            node=node,
            offset=offset,
            page_size=PAGE_SIZE,
        )

    @get("/members/new")
    async def new_member(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        if not actor.has("admin"):
            raise Forbidden()
        return await self._member_form(request, member=None, values={})

    @post("/members")
    async def create_member(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        data = _member_in(await request.form())
        try:
            created = await orgs.create_member(actor, data)
        except DomainError as error:
            if error.code == "forbidden":
                raise
            return await self._member_form(
                request,
                member=None,
                values=_echo(data),
                status_code=error.status_code,
                **form_error(error),
            )
        return Redirect(f"/admin/members/{created.id}?saved=1")

    @get("/members/{member_id:int}")
    async def member(self, request: AnyRequest, member_id: FromPath[int]) -> Template:
        actor = require_actor(request)
        member = await orgs.get_member(actor, member_id)
        return await self._member_form(
            request, member=member, values={}, saved=request.query_params.get("saved") == "1"
        )

    @post("/members/{member_id:int}")
    async def update_member(
        self, request: AnyRequest, member_id: FromPath[int]
    ) -> Template | Redirect:
        actor = require_actor(request)
        data = _member_in(await request.form())
        try:
            await orgs.update_member(actor, member_id, data)
        except DomainError as error:
            if error.code in {"forbidden", "not_found"}:
                raise
            member = await orgs.get_member(actor, member_id)
            return await self._member_form(
                request,
                member=member,
                values=_echo(data),
                status_code=error.status_code,
                **form_error(error),
            )
        return Redirect(f"/admin/members/{member_id}?saved=1")

    async def _member_form(
        self, request: AnyRequest, status_code: int = 200, **context: Any
    ) -> Template:
        actor = require_actor(request)
        return page(
            request,
            "orgs/member.html",
            status_code=status_code,
            nodes=await orgs.list_nodes(actor.node_path),
            groups=WORKER_GROUPS,
            roles=ROLES,
            **context,
        )


def _echo(data: MemberIn) -> dict[str, Any]:
    """What the user typed, cut to size, to refill the form after an error."""
    return {
        "phone": data.phone[:20],
        "name": data.name[:50],
        "node": data.node,
        "group": data.group,
        "roles": data.roles,
    }


ROUTES = [OrgPages]
