from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Node(Table, tablename="org_node"):
    """One node of the organisation tree: federation → grassroots union → enterprise."""

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    kind = Varchar(length=16)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    # Materialised path of ids, e.g. "/1/4/9/": a subtree is one indexed LIKE prefix query.
    path = Varchar(length=255, index=True, index_method=IndexMethod.btree)
    depth = Integer(default=0)


class Member(Table, tablename="org_member"):
    phone = Varchar(length=11, unique=True)
    name = Varchar(length=50)
    node = ForeignKey(Node, null=False, on_delete=OnDelete.restrict)
    worker_group = Varchar(length=20, default="other")
    # Sorted, comma-separated role codes: worker, staff, organiser, admin.
    roles = Varchar(length=64, default="worker")
    language = Varchar(length=8, default="zh-CN")
    created_at = Timestamptz(default=TimestamptzNow())
    # The name as people sort it: pinyin for Chinese (张 after 李), written with the name.
    name_sort = Varchar(length=200, default="")


class Assignment(Table, tablename="org_assignment"):
    """One member given one role at one scope (door staff of an activity; a booth's or a
    delivery team's staff next), by whom and when. Unique per (scope, role, member): a
    unique index of the migration, whose column order also serves "who is assigned here"."""

    member_id = Integer(index=True)
    role = Varchar(length=32)
    scope_kind = Varchar(length=32)
    scope_id = Integer()
    assigned_by = Integer(null=True, default=None)  # member id; None for the system or a copy
    assigned_at = Timestamptz(default=TimestamptzNow())
