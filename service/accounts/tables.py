from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.orgs.tables import Member


class SignInCode(Table, tablename="account_signin_code"):
    """A one-time code sent to a phone; only its keyed hash is stored."""

    phone = Varchar(length=11, index=True)
    code_hash = Varchar(length=64)
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    # Set when the code was used, or superseded by a newer one: either way it is spent.
    spent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Session(Table, tablename="account_session"):
    """A server-side session. Before sign-up completes it holds only a verified phone."""

    token_hash = Varchar(length=64, unique=True)
    member = ForeignKey(Member, null=True)
    verified_phone = Varchar(length=11, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class ApiToken(Table, tablename="account_api_token"):
    token_hash = Varchar(length=64, unique=True)
    member = ForeignKey(Member, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
