"""The organisation tree, members, scope and member imports (service layer)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from service.errors import DomainError
from service.orgs import services as orgs
from service.orgs.files import read_member_rows
from service.orgs.schemas import SYSTEM, MemberIn, MemberPatch, NodeIn
from service.orgs.tables import Member, Node
from tests.conftest import Org, add_member


async def member_count() -> int:
    return await Member.count().run()


async def stored_phone(member_id: int) -> str:
    row = await Member.select(Member.phone).where(Member.id == member_id).first().run()
    assert row is not None
    return row["phone"]


# --- nodes ------------------------------------------------------------------------------


async def test_nodes_get_materialised_paths_and_depths(org: Org) -> None:
    nodes = {node.code: node for node in await orgs.list_nodes()}
    fed, union_a, union_b, ent_a1 = (nodes[c] for c in ("fed", "union-a", "union-b", "ent-a1"))
    assert (fed.depth, union_a.depth, union_b.depth, ent_a1.depth) == (0, 1, 1, 2)
    assert fed.parent_id is None
    assert union_a.parent_id == fed.id and ent_a1.parent_id == union_a.id
    assert fed.path == f"/{fed.id}/"
    assert union_a.path == f"/{fed.id}/{union_a.id}/"
    assert ent_a1.path == f"/{fed.id}/{union_a.id}/{ent_a1.id}/"
    assert union_b.path == f"/{fed.id}/{union_b.id}/"


async def test_list_nodes_is_depth_first_and_can_be_limited_to_a_subtree(org: Org) -> None:
    assert [node.code for node in await orgs.list_nodes()] == [
        "fed",
        "union-a",
        "ent-a1",
        "union-b",
    ]
    union_a = await orgs.node_by_code("union-a")
    assert [node.code for node in await orgs.list_nodes(union_a.path)] == ["union-a", "ent-a1"]


async def test_children_created_later_still_follow_their_parent(org: Org) -> None:
    # ent-a2 gets a higher id than union-b, yet lists under union-a.
    await orgs.create_node(
        org.admin, NodeIn(code="ent-a2", name="甲二工地", kind="enterprise", parent="union-a")
    )
    assert [node.code for node in await orgs.list_nodes()] == [
        "fed",
        "union-a",
        "ent-a1",
        "ent-a2",
        "union-b",
    ]


async def test_duplicate_node_code_is_a_conflict(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(
            SYSTEM, NodeIn(code="ent-a1", name="又一个", kind="enterprise", parent="union-b")
        )
    assert caught.value.code == "conflict"
    assert caught.value.field == "code"
    assert await Node.count().run() == 4


async def test_unknown_parent_is_refused(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(
            SYSTEM, NodeIn(code="ent-x", name="无主", kind="enterprise", parent="nowhere")
        )
    assert caught.value.code == "unknown_node"
    assert await Node.count().run() == 4


@pytest.mark.parametrize("who", ["organiser_a", "staff_a", "worker_a1"])
async def test_only_admins_create_nodes(org: Org, who: str) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(
            getattr(org, who),
            NodeIn(code="ent-a9", name="甲九", kind="enterprise", parent="union-a"),
        )
    assert caught.value.code == "forbidden"
    assert await Node.count().run() == 4


async def test_a_second_root_is_refused(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(SYSTEM, NodeIn(code="fed2", name="另一个总工会", kind="federation"))
    assert caught.value.code == "validation_error"
    assert caught.value.field == "parent"
    assert await Node.count().run() == 4


@pytest.mark.parametrize(
    ("code", "name", "kind", "field"),
    [
        ("has space", "名称", "enterprise", "code"),
        ("", "名称", "enterprise", "code"),
        ("x" * 33, "名称", "enterprise", "code"),
        ("ok-code", "   ", "enterprise", "name"),
        ("ok-code", "名" * 101, "enterprise", "name"),
        ("ok-code", "名称", "company", "kind"),
    ],
)
async def test_bad_node_input_is_a_validation_error(
    org: Org, code: str, name: str, kind: str, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(SYSTEM, NodeIn(code=code, name=name, kind=kind, parent="union-a"))
    assert (caught.value.code, caught.value.field) == ("validation_error", field)
    assert await Node.count().run() == 4


async def test_tree_depth_is_limited(org: Org) -> None:
    parent = "ent-a1"  # depth 2
    for depth in (3, 4, 5):
        code = f"level-{depth}"
        node = await orgs.create_node(
            SYSTEM, NodeIn(code=code, name=code, kind="enterprise", parent=parent)
        )
        assert node.depth == depth
        parent = code
    with pytest.raises(DomainError) as caught:
        await orgs.create_node(
            SYSTEM, NodeIn(code="level-6", name="level-6", kind="enterprise", parent=parent)
        )
    assert (caught.value.code, caught.value.field) == ("validation_error", "parent")


# --- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        " 13800138000 ",
        "+8613800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "0086 138-0013-8000",
        "8613800138000",
    ],
)
def test_phone_formats_people_type_are_accepted(raw: str) -> None:
    assert orgs.normalise_phone(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "12800138000",  # no such mobile prefix
        "23800138000",
        "1380013800a",
        "phone number",
        "138 0013 800O",  # a letter O for a zero
        "1" * 4096,
        "x" * 4096,
        "+1 138 0013 8000",
    ],
)
def test_bad_phones_are_refused_on_the_phone_field(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        orgs.normalise_phone(raw)
    assert caught.value.code == "validation_error"
    assert caught.value.field == "phone"


@pytest.mark.parametrize(
    "raw",
    [
        "１３８００１３８０００",  # full-width digits, as Chinese input methods type them
        "138００１３８０００",  # full-width after an ASCII prefix
        "1380013800٠",  # an Arabic-Indic zero at the end
    ],
)
def test_non_ascii_digits_never_become_a_stored_phone(raw: str) -> None:
    """Either normalised to the ASCII number or refused: never stored as another 'number'."""
    try:
        phone = orgs.normalise_phone(raw)
    except DomainError as error:
        assert error.code == "validation_error"
    else:
        assert phone == "13800138000"


async def test_full_width_copy_of_a_phone_does_not_create_a_second_member(org: Org) -> None:
    before = await member_count()
    with pytest.raises(DomainError) as caught:
        await orgs.create_member(
            SYSTEM, MemberIn(phone="138０００００００５", name="冒名者", node="ent-a1")
        )
    assert caught.value.code in {"duplicate_phone", "validation_error"}
    assert await member_count() == before


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13800138000", "138****8000"), ("13912345678", "139****5678"), ("123", "****")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert orgs.mask_phone(phone) == masked


# --- members ----------------------------------------------------------------------------


async def test_create_member_stores_the_normalised_phone_and_shows_it_masked(org: Org) -> None:
    member = await orgs.create_member(
        org.admin,
        MemberIn(
            phone="+86 139-1234-5678",
            name="  新  成员 ",
            node="ent-a1",
            group="courier",
            roles=["staff", "worker", "staff"],
        ),
    )
    assert member.phone_masked == "139****5678"
    assert member.name == "新 成员"
    assert (member.node_code, member.group) == ("ent-a1", "courier")
    assert member.roles == ["staff", "worker"]
    assert await stored_phone(member.id) == "13912345678"


async def test_create_member_defaults_to_worker_at_the_root(org: Org) -> None:
    member = await orgs.create_member(SYSTEM, MemberIn(phone="13912345678", name="默认", roles=[]))
    assert member.node_code == "fed"
    assert member.roles == ["worker"]
    assert member.group == "other"


async def test_duplicate_phone_is_refused_even_in_another_format(org: Org) -> None:
    before = await member_count()
    with pytest.raises(DomainError) as caught:
        await orgs.create_member(
            SYSTEM, MemberIn(phone="+86 138 0000 0005", name="重复", node="union-b")
        )
    assert caught.value.code == "duplicate_phone"
    assert caught.value.field == "phone"
    assert await member_count() == before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"node": "no-such-node"}, "unknown_node", "node"),
        ({"group": "astronaut"}, "validation_error", "group"),
        ({"roles": ["worker", "king"]}, "validation_error", "roles"),
        ({"name": ""}, "validation_error", "name"),
        ({"name": "   "}, "validation_error", "name"),
        ({"name": "名" * 51}, "validation_error", "name"),
        ({"phone": "12345"}, "validation_error", "phone"),
    ],
)
async def test_bad_member_input_is_refused_and_writes_nothing(
    org: Org, change: dict[str, object], code: str, field: str
) -> None:
    values: dict[str, object] = {"phone": "13912345678", "name": "新成员", "node": "ent-a1"}
    values.update(change)
    before = await member_count()
    with pytest.raises(DomainError) as caught:
        await orgs.create_member(SYSTEM, MemberIn(**values))  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == (code, field)
    assert await member_count() == before


async def test_a_name_of_exactly_fifty_characters_is_accepted(org: Org) -> None:
    member = await orgs.create_member(
        SYSTEM, MemberIn(phone="13912345678", name="名" * 50, node="ent-a1")
    )
    assert member.name == "名" * 50


@pytest.mark.parametrize("who", ["organiser_a", "staff_a", "worker_a1"])
async def test_only_admins_create_members(org: Org, who: str) -> None:
    before = await member_count()
    with pytest.raises(DomainError) as caught:
        await orgs.create_member(
            getattr(org, who), MemberIn(phone="13912345678", name="新成员", node="ent-a1")
        )
    assert caught.value.code == "forbidden"
    assert await member_count() == before


# --- scope and search -------------------------------------------------------------------


async def test_organiser_sees_their_subtree_only(org: Org) -> None:
    page = await orgs.search_members(org.organiser_a)
    assert sorted(member.name for member in page.items) == sorted(
        ["甲组织者", "甲工作人员", "快递员小王"]
    )
    assert page.total == 3
    page_b = await orgs.search_members(org.organiser_b)
    assert [member.name for member in page_b.items] == ["乙组织者"]


async def test_admin_at_the_root_sees_everyone(org: Org) -> None:
    page = await orgs.search_members(org.admin)
    assert page.total == 5


async def test_search_results_show_masked_phones_only(org: Org) -> None:
    page = await orgs.search_members(org.admin)
    for member in page.items:
        assert "****" in member.phone_masked
    assert set(org.phones.values()).isdisjoint(str(page.items))


async def test_out_of_scope_member_looks_missing(org: Org) -> None:
    assert org.organiser_b.member_id is not None
    with pytest.raises(DomainError) as caught:
        await orgs.get_member(org.organiser_a, org.organiser_b.member_id)
    assert caught.value.code == "not_found"
    # ...exactly like a member that does not exist at all.
    with pytest.raises(DomainError) as missing:
        await orgs.get_member(org.organiser_a, 999_999)
    assert missing.value.code == "not_found"
    assert str(missing.value) == str(caught.value)


async def test_organiser_gets_a_member_in_scope(org: Org) -> None:
    assert org.worker_a1.member_id is not None
    member = await orgs.get_member(org.organiser_a, org.worker_a1.member_id)
    assert (member.name, member.phone_masked) == ("快递员小王", "138****0005")


async def test_organiser_cannot_search_another_branch_by_node(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.search_members(org.organiser_a, node_code="union-b")
    assert caught.value.code == "forbidden"
    narrowed = await orgs.search_members(org.organiser_a, node_code="ent-a1")
    assert [member.name for member in narrowed.items] == ["快递员小王"]


async def test_organiser_cannot_find_other_branch_members_by_search(org: Org) -> None:
    assert (await orgs.search_members(org.organiser_a, "乙组织者")).total == 0
    assert (await orgs.search_members(org.organiser_a, "0003")).total == 0
    assert (await orgs.search_members(org.admin, "0003")).total == 1


@pytest.mark.parametrize("who", ["staff_a", "worker_a1"])
async def test_staff_and_workers_cannot_search_or_read_members(org: Org, who: str) -> None:
    actor = getattr(org, who)
    with pytest.raises(DomainError) as searched:
        await orgs.search_members(actor)
    assert searched.value.code == "forbidden"
    assert org.worker_a1.member_id is not None
    with pytest.raises(DomainError) as got:
        await orgs.get_member(actor, org.worker_a1.member_id)
    assert got.value.code == "forbidden"


async def test_search_by_name_fragment(org: Org) -> None:
    page = await orgs.search_members(org.admin, "小王")
    assert [member.name for member in page.items] == ["快递员小王"]
    assert page.total == 1


async def test_search_by_last_four_digits(org: Org) -> None:
    page = await orgs.search_members(org.admin, "0005")
    assert [member.name for member in page.items] == ["快递员小王"]
    assert (await orgs.search_members(org.admin, "9999")).total == 0


async def test_search_by_leading_digits(org: Org) -> None:
    assert (await orgs.search_members(org.admin, "1380000000")).total == 5
    assert (await orgs.search_members(org.admin, "139")).total == 0


async def test_too_long_a_search_is_refused(org: Org) -> None:
    with pytest.raises(DomainError) as caught:
        await orgs.search_members(org.admin, "王" * 51)
    assert (caught.value.code, caught.value.field) == ("validation_error", "q")


async def test_pagination_reports_the_total_and_pages_do_not_overlap(org: Org) -> None:
    result = await orgs.import_members(
        [
            (line, {"phone": f"1391234{line:04d}", "name": f"会员{line:02d}", "node": "ent-a1"})
            for line in range(2, 27)
        ]
    )
    assert result.created == 25
    pages = [await orgs.search_members(org.organiser_a, limit=10, offset=o) for o in (0, 10, 20)]
    assert [page.total for page in pages] == [28, 28, 28]
    assert [len(page.items) for page in pages] == [10, 10, 8]
    ids = [member.id for page in pages for member in page.items]
    assert len(set(ids)) == 28


# --- updates ----------------------------------------------------------------------------


async def test_update_with_an_empty_phone_keeps_the_number(org: Org) -> None:
    worker_id = org.worker_a1.member_id
    assert worker_id is not None
    updated = await orgs.update_member(
        org.admin,
        worker_id,
        MemberIn(phone="  ", name="快递员老王", node="ent-a1", group="courier", roles=["worker"]),
    )
    assert updated.name == "快递员老王"
    assert await stored_phone(worker_id) == org.phones["worker_a1"]


async def test_update_changes_the_phone(org: Org) -> None:
    worker_id = org.worker_a1.member_id
    assert worker_id is not None
    updated = await orgs.update_member(
        org.admin, worker_id, MemberIn(phone="139 1234 5678", name="快递员小王", node="ent-a1")
    )
    assert updated.phone_masked == "139****5678"
    assert await stored_phone(worker_id) == "13912345678"


async def test_update_to_another_members_phone_is_refused(org: Org) -> None:
    worker_id = org.worker_a1.member_id
    assert worker_id is not None
    with pytest.raises(DomainError) as caught:
        await orgs.update_member(
            org.admin,
            worker_id,
            MemberIn(phone=org.phones["staff_a"], name="快递员小王", node="ent-a1"),
        )
    assert caught.value.code == "duplicate_phone"
    assert await stored_phone(worker_id) == org.phones["worker_a1"]


async def test_only_admins_update_members(org: Org) -> None:
    worker_id = org.worker_a1.member_id
    assert worker_id is not None
    with pytest.raises(DomainError) as caught:
        await orgs.update_member(
            org.organiser_a, worker_id, MemberIn(phone="", name="改名", node="ent-a1")
        )
    assert caught.value.code == "forbidden"
    assert (await orgs.get_member(org.admin, worker_id)).name == "快递员小王"


# --- imports ----------------------------------------------------------------------------


async def test_import_creates_members(org: Org) -> None:
    result = await orgs.import_members(
        [
            (2, {"phone": "13912345671", "name": "甲", "node": "ent-a1", "group": "courier"}),
            (3, {"phone": "13912345672", "name": "乙", "node": "", "roles": "staff;organiser"}),
        ]
    )
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    second = await orgs.search_members(SYSTEM, "乙")
    assert second.items[0].node_code == "fed"
    assert second.items[0].roles == ["organiser", "staff"]


async def test_import_with_bad_rows_writes_nothing_and_names_each_line(org: Org) -> None:
    before = await member_count()
    result = await orgs.import_members(
        [
            (2, {"phone": "13912345671", "name": "好一"}),
            (3, {"phone": "1391234567", "name": "号码短了"}),
            (4, {"phone": "13912345673", "name": "好二"}),
            (5, {"phone": "13912345674", "name": "错节点", "node": "nowhere"}),
            (6, {"phone": "13912345675", "name": "错分组", "group": "astronaut"}),
            (7, {"phone": "13912345676", "name": ""}),
            (8, {"phone": "13912345677", "name": "错角色", "roles": "worker;king"}),
        ]
    )
    assert (result.created, result.updated) == (0, 0)
    assert [line for line, _ in result.errors] == [3, 5, 6, 7, 8]
    assert all(message.strip() for _, message in result.errors)
    assert "nowhere" in dict(result.errors)[5]
    assert await member_count() == before


async def test_reimport_updates_by_phone(org: Org) -> None:
    first = await orgs.import_members([(2, {"phone": "13912345671", "name": "原名"})])
    assert first.created == 1
    before = await member_count()
    second = await orgs.import_members(
        [
            (2, {"phone": "139-1234-5671", "name": "新名", "node": "union-b"}),
            (3, {"phone": "13912345672", "name": "另一人"}),
        ]
    )
    assert (second.created, second.updated, second.errors) == (1, 1, [])
    assert await member_count() == before + 1
    page = await orgs.search_members(SYSTEM, "5671")
    assert [(m.name, m.node_code) for m in page.items] == [("新名", "union-b")]


async def test_import_reports_a_phone_repeated_within_the_file(org: Org) -> None:
    before = await member_count()
    result = await orgs.import_members(
        [
            (2, {"phone": "13912345671", "name": "第一次"}),
            (3, {"phone": "13912345672", "name": "别人"}),
            (4, {"phone": "+86 139 1234 5671", "name": "第二次"}),
        ]
    )
    assert [line for line, _ in result.errors] == [4]
    assert "2" in result.errors[0][1]  # points back at the first line
    assert result.created == 0
    assert await member_count() == before


# --- reading files ----------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_reads_utf8_csv_with_bom(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "members.csv",
        [
            ["Phone", " Name ", "node", "group", "roles", "notes"],
            ["13912345671", " 张三 ", "ent-a1", "courier", "worker", "ignored"],
            ["", "", "", "", "", ""],
            ["13912345672", "李四"],
        ],
    )
    assert read_member_rows(path) == [
        (
            2,
            {
                "phone": "13912345671",
                "name": "张三",
                "node": "ent-a1",
                "group": "courier",
                "roles": "worker",
            },
        ),
        (4, {"phone": "13912345672", "name": "李四", "node": "", "group": "", "roles": ""}),
    ]


def test_reads_xlsx_with_phones_stored_as_numbers(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["phone", "name", "node"])
    sheet.append([13912345671, "张三", "ent-a1"])
    sheet.append([13912345672.0, "李四", None])
    sheet.append(["13912345673", "王五", "union-b"])
    path = tmp_path / "members.xlsx"
    workbook.save(path)
    rows = read_member_rows(path)
    assert [(line, row["phone"], row["name"]) for line, row in rows] == [
        (2, "13912345671", "张三"),
        (3, "13912345672", "李四"),
        (4, "13912345673", "王五"),
    ]
    assert rows[1][1]["node"] == ""


async def test_a_file_goes_all_the_way_to_members(org: Org, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "members.csv",
        [["phone", "name", "node"], ["13912345671", "张三", "ent-a1"], ["13912345672", "李四", ""]],
    )
    result = await orgs.import_members(read_member_rows(path))
    assert (result.created, result.errors) == (2, [])
    assert (await orgs.search_members(org.organiser_a, "张三")).total == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing-header.csv", "13912345671,张三\n"),
        ("no-name.csv", "phone,node\n13912345671,ent-a1\n"),
        ("empty.csv", ""),
        ("members.txt", "phone,name\n13912345671,张三\n"),
        ("members.json", '[{"phone": "13912345671"}]'),
    ],
)
def test_unreadable_member_files_are_refused(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        read_member_rows(path)
    assert caught.value.code == "validation_error"


def test_gbk_csv_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "members.csv", [["phone", "name"], ["13912345671", "张三"]],
                     encoding="gbk")  # fmt: skip
    with pytest.raises(DomainError) as caught:
        read_member_rows(path)
    assert caught.value.code == "validation_error"
    assert "UTF-8" in caught.value.message


def test_a_broken_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "members.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(DomainError) as caught:
        read_member_rows(path)
    assert caught.value.code == "validation_error"


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as caught:
        read_member_rows(tmp_path / "nope.csv")
    assert caught.value.code == "not_found"


async def test_add_member_helper_sees_new_roles(org: Org) -> None:
    """The conftest helper and actor_for_member agree with what was stored."""
    actor = await add_member("13912345678", "双角色", "union-b", ["staff", "organiser"])
    assert actor.roles == frozenset({"staff", "organiser"})
    assert actor.node_path == (await orgs.node_by_code("union-b")).path


async def test_members_are_listed_by_the_pinyin_of_their_names(org: Org) -> None:
    """People look a name up by its sound: 阿强 (a), 李四 (li), Wang, 张三 (zhang); by code
    point it would be Wang, 张, 李, 阿. The key is written with the name and follows a
    rename."""
    for phone, name in (
        ("13700000001", "张三"),
        ("13700000002", "李四"),
        ("13700000003", "阿强"),
        ("13700000004", "Wang"),
    ):
        await add_member(phone, name, "ent-a1", ["worker"])
    found = await orgs.search_members(org.admin, node_code="ent-a1")
    assert [member.name for member in found.items] == ["阿强", "快递员小王", "李四", "Wang", "张三"]
    renamed = next(member for member in found.items if member.name == "阿强")
    await orgs.patch_member(org.admin, renamed.id, MemberPatch(name="周强"))
    again = await orgs.search_members(org.admin, node_code="ent-a1")
    assert [member.name for member in again.items][-1] == "周强"
