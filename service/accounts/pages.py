"""Sign-in, self-registration, profile and language pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from service.accounts import services as accounts
from service.errors import DomainError
from service.http import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    client_ip,
    form_error,
    is_https,
    optional_actor,
    page,
    require_actor,
    safe_next,
    with_session,
    without_session,
)
from service.i18n import LANGUAGES, current_language, normalise_language
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS, Actor
from service.reminders import services as reminders

AnyRequest = Request[Any, Any, Any]


async def _profile_refused(
    request: AnyRequest, actor: Actor, error: DomainError, channels: reminders.Prefs
) -> Template:
    """The profile again with the refused form's message beside its field."""
    profile, phone = await orgs.own_profile(actor)
    return page(
        request,
        "accounts/profile.html",
        status_code=400,
        profile=profile,
        phone=phone,
        groups=WORKER_GROUPS,
        saved=False,
        channels=channels,
        **form_error(error),
    )


class AccountPages(Controller):
    include_in_schema = False

    @get("/signin")
    async def signin_form(
        self, request: AnyRequest, next: FromQuery[str | None] = None
    ) -> Template:
        return page(request, "accounts/signin.html", next=safe_next(next), phone="")

    @post("/signin")
    async def request_code(self, request: AnyRequest) -> Template:
        form = await request.form()
        phone, target = str(form.get("phone", "")), safe_next(form.get("next"))
        try:
            sent = await accounts.request_code(phone, client_ip(request))
        except DomainError as error:
            return page(
                request,
                "accounts/signin.html",
                status_code=error.status_code,
                phone=phone[:20],
                next=target,
                **form_error(error),
            )
        return page(
            request,
            "accounts/code.html",
            phone=sent.phone,
            phone_masked=orgs.mask_phone(sent.phone),
            demo_code=sent.demo_code,
            next=target,
        )

    @post("/signin/verify")
    async def verify_code(self, request: AnyRequest) -> Template | Redirect:
        form = await request.form()
        phone, target = str(form.get("phone", "")), safe_next(form.get("next"))
        try:
            token, is_member = await accounts.sign_in_with_code(
                phone,
                str(form.get("code", "")),
                client_ip(request),
                replacing=request.cookies.get(SESSION_COOKIE),
                language=normalise_language(request.cookies.get(LANGUAGE_COOKIE)),
            )
        except DomainError as error:
            safe_phone = phone if phone.isdigit() and len(phone) == 11 else ""
            return page(
                request,
                "accounts/code.html",
                status_code=error.status_code,
                phone=safe_phone,
                phone_masked=orgs.mask_phone(safe_phone),
                demo_code=None,
                next=target,
                **form_error(error),
            )
        response = Redirect(target if is_member else "/signup")
        return with_session(response, request, token, max_age=accounts.SESSION_TTL)

    @get("/signup")
    async def signup_form(self, request: AnyRequest) -> Template | Redirect:
        if request.state.get("verified_phone") is None:
            return Redirect("/signin")
        return await self._signup_page(request, {})

    @post("/signup")
    async def signup(self, request: AnyRequest) -> Template | Redirect:
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in ("name", "node", "group")}
        try:
            token = await accounts.complete_signup(
                request.cookies.get(SESSION_COOKIE, ""),
                values["name"],
                values["node"],
                values["group"],
                language=normalise_language(request.cookies.get(LANGUAGE_COOKIE)),
            )
        except DomainError as error:
            if error.code == "not_signed_in":
                raise
            return await self._signup_page(request, values, status_code=400, **form_error(error))
        return with_session(Redirect("/"), request, token, max_age=accounts.SESSION_TTL)

    async def _signup_page(
        self, request: AnyRequest, values: dict[str, str], status_code: int = 200, **extra: Any
    ) -> Template:
        phone = request.state.get("verified_phone") or ""
        return page(
            request,
            "accounts/signup.html",
            status_code=status_code,
            phone_masked=orgs.mask_phone(phone),
            nodes=await orgs.list_nodes(),
            groups=WORKER_GROUPS,
            values={**values, "name": values.get("name", "")[:50]},
            **extra,
        )

    @get("/profile")
    async def profile(self, request: AnyRequest) -> Template:
        actor = require_actor(request)
        profile, phone = await orgs.own_profile(actor)
        return page(
            request,
            "accounts/profile.html",
            profile=profile,
            phone=phone,
            groups=WORKER_GROUPS,
            saved=request.query_params.get("saved") == "1",
            channels=await reminders.channel_prefs(actor.member_id or 0),
            channels_saved=request.query_params.get("saved") == "channels",
        )

    @post("/profile/channels")
    async def save_channels(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        values = {key: form.get(key) == "1" for key in ("sms", "push", "email_on")}
        email = str(form.get("email", ""))
        try:
            await reminders.update_channel_prefs(actor, email=email, **values)
        except DomainError as error:
            channels = reminders.Prefs(email=email[:254], **values)
            return await _profile_refused(request, actor, error, channels)
        return Redirect("/profile?saved=channels#channels")

    @post("/profile")
    async def save_profile(self, request: AnyRequest) -> Template | Redirect:
        actor = require_actor(request)
        form = await request.form()
        try:
            await orgs.update_own_profile(
                actor, str(form.get("name", "")), str(form.get("group", ""))
            )
        except DomainError as error:
            channels = await reminders.channel_prefs(actor.member_id or 0)
            return await _profile_refused(request, actor, error, channels)
        return Redirect("/profile?saved=1")

    @post("/signout")
    async def signout(self, request: AnyRequest) -> Redirect:
        await accounts.end_session(request.cookies.get(SESSION_COOKIE))
        return without_session(Redirect("/signin"))

    @post("/signout/everywhere")
    async def signout_everywhere(self, request: AnyRequest) -> Redirect:
        await accounts.end_all_sessions(require_actor(request))
        return without_session(Redirect("/signin"))

    @post("/language")
    async def set_language(self, request: AnyRequest) -> Redirect:
        form = await request.form()
        language = normalise_language(str(form.get("language", ""))) or current_language.get()
        if language not in LANGUAGES:
            language = current_language.get()
        actor = optional_actor(request)
        if actor is not None and actor.member_id is not None:
            await orgs.set_language(actor.member_id, language)
        response = Redirect(safe_next(form.get("next")))
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
        return response


ROUTES = [AccountPages]
