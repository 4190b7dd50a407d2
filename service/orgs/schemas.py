from __future__ import annotations

from datetime import datetime

import msgspec

ROLES: tuple[str, ...] = ("worker", "staff", "organiser", "admin")
NODE_KINDS: tuple[str, ...] = ("federation", "union", "enterprise")
WORKER_GROUPS: tuple[str, ...] = (
    "courier",
    "food_delivery",
    "truck_driver",
    "security_guard",
    "property_agent",
    "domestic",
    "sanitation",
    "construction",
    "other",
)

# English msgids; translated where shown.
GROUP_LABELS: dict[str, str] = {
    "courier": "Courier",
    "food_delivery": "Food-delivery rider",
    "truck_driver": "Truck driver",
    "security_guard": "Security guard",
    "property_agent": "Property agent",
    "domestic": "Domestic worker",
    "sanitation": "Sanitation worker",
    "construction": "Construction worker",
    "other": "Other",
}
ROLE_LABELS: dict[str, str] = {
    "worker": "Worker",
    "staff": "Staff",
    "organiser": "Organiser",
    "admin": "Admin",
}
NODE_KIND_LABELS: dict[str, str] = {
    "federation": "Federation",
    "union": "Grassroots union",
    "enterprise": "Enterprise / work unit",
}


class Actor(msgspec.Struct, frozen=True):
    """Who is acting: a signed-in member (or the CLI's system actor), with their reach."""

    member_id: int | None
    node_id: int | None
    node_path: str  # the subtree this actor reaches, e.g. "/1/4/"; "/" reaches everything
    roles: frozenset[str]
    language: str = "zh-CN"
    name: str = ""
    group: str = "other"

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def reaches(self, node_path: str) -> bool:
        return node_path.startswith(self.node_path)


SYSTEM = Actor(member_id=None, node_id=None, node_path="/", roles=frozenset(ROLES), name="system")


class NodeOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    depth: int
    path: str


class MemberOut(msgspec.Struct):
    """A member as lists show them: the phone is masked."""

    id: int
    name: str
    phone_masked: str
    node_id: int
    node_code: str
    node_name: str
    group: str
    roles: list[str]
    language: str
    created_at: datetime


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: str
    name: str
    node: str | None = None
    group: str = "other"
    roles: list[str] = msgspec.field(default_factory=lambda: ["worker"])


class MemberPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A change to a member (`PUT /api/v1/members/{id}`): a partial update. A field left
    out keeps its value; a field the API does not know is refused."""

    phone: str | msgspec.UnsetType = msgspec.UNSET
    name: str | msgspec.UnsetType = msgspec.UNSET
    node: str | msgspec.UnsetType = msgspec.UNSET
    group: str | msgspec.UnsetType = msgspec.UNSET
    roles: list[str] | msgspec.UnsetType = msgspec.UNSET


class NodeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    kind: str
    parent: str | None = None


class MemberPage(msgspec.Struct):
    items: list[MemberOut]
    total: int
