"""Operator commands, in every mode: institutions and their staff without the sandbox.

    flask --app app institution create --code 1341245676 --name "本町薬局" --kind pharmacy
    flask --app app institution admin 1341245676 --login-id honmachi-admin
    flask --app app institution set 1341245676 --qualification-only on|off
    flask --app app institution set 1341245676 --phone 03-1234-5678 --privacy-url https://example.jp/privacy
    flask --app app institution set 1341245676 --lapse-days 90|none
    flask --app app institution list
    flask --app app staff list 1341245676
    flask --app app staff disable LOGIN_ID

Bad input: a clear message and exit status 2; each command is one transaction, so nothing is
ever half-created.
"""
from __future__ import annotations

import re
import secrets

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from consent import home_visits
from consent.institutions import (
    MAX_LAPSE_DAYS, MIN_LAPSE_DAYS, InstitutionError, add_staff, create_institution, disable_staff, institution_by_code, set_contact, staff_of,
)
from consent.qualification_only import set_qualification_only
from consent.vocabulary import INSTITUTION_KINDS, QUALIFICATION_ONLY_LABEL, RECEPTION_SETTINGS
from integrations.oqs.numbering import institution_table, is_valid_institution_code
from consent.institutions import Institution, Staff
from web.sessions import end_sessions_of_staff

# The kind each 点数表番号 names (consent/vocabulary.py): the code must be one of the kind asked for.
KINDS = {kind.code: kind.table for kind in INSTITUTION_KINDS.values()}
KIND_LABELS = {kind.table: kind.label for kind in INSTITUTION_KINDS.values()}
LOGIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$")
# Operators' words for the contact settings' refusals (consent/institutions.py).
CONTACT_PROBLEMS = {
    "invalid_phone": "--phone: a Japanese phone number such as 03-1234-5678 (0 first, 10 or 11 digits, hyphens between groups)",
    "invalid_privacy_url": "--privacy-url: an absolute http:// or https:// URL of at most 500 characters",
}


# Home visits: the project's own lapse rule, off unless set (consent/home_visits.py).
LAPSE_DAYS_HELP = (f"Home visits: days without a recorded visit before a relationship ends ({MIN_LAPSE_DAYS}-"
                   f"{MAX_LAPSE_DAYS}; the project's own rule), or 'none': no lapse, it lasts until 訪問終了 or the "
                   "patient's 取消 (the default).")


def fail(message: str) -> None:
    raise click.UsageError(message)  # click prints it and exits with status 2


def parse_lapse_days(value: str) -> int | None:
    """--lapse-days: 'none' (no lapse) or a whole number of days in range; else a usage error."""
    text = value.strip().lower()
    if text == "none":
        return None
    if not (text.isascii() and text.isdigit()) or not MIN_LAPSE_DAYS <= int(text) <= MAX_LAPSE_DAYS:
        fail(f"--lapse-days: 'none' (no lapse) or a whole number from {MIN_LAPSE_DAYS} to {MAX_LAPSE_DAYS}")
    return int(text)


def lapse_days_text(days: int | None) -> str:
    return "none (no lapse)" if days is None else f"{days} days without a recorded visit"


def _sessionmaker():
    return current_app.extensions["sessionmaker"]


def _now():
    return current_app.extensions["clock"].now()


def register(app: Flask) -> None:
    @app.cli.group("institution")
    def institution_group():
        """Institutions (医療機関等) and their first admin."""

    @institution_group.command("create")
    @click.option("--code", required=True, help="医療機関等コード, 10 digits with its check digit.")
    @click.option("--name", required=True, help="The name patients see on the reception pages.")
    @click.option("--kind", required=True, type=click.Choice(sorted(KINDS)),
                  help="pharmacy (調剤, table 4), clinic (医科, 1), dental (歯科, 3) or visiting_nurse "
                       "(訪問看護ステーション, 6: home visits only).")
    @click.option("--qualification-only", is_flag=True,
                  help="資格確認限定型: confirms the insurance qualification only, never reads other data.")
    @click.option("--lapse-days", "lapse_days", default="none", show_default=True, help=LAPSE_DAYS_HELP)
    def institution_create(code: str, name: str, kind: str, qualification_only: bool, lapse_days: str):
        """Create an institution; prints its reception URL."""
        code, name = code.strip(), name.strip()
        days = parse_lapse_days(lapse_days)
        if not is_valid_institution_code(code):
            fail(f"{code!r} is not a valid institution code (10 digits, a known table digit, a correct check digit)")
        if institution_table(code) != KINDS[kind]:
            fail(f"code {code} is a {KIND_LABELS[institution_table(code)]} code, not {kind}")
        if not 1 <= len(name) <= 100:
            fail("--name must be 1 to 100 characters")
        with _sessionmaker()() as session, session.begin():
            if institution_by_code(session, code) is not None:
                fail(f"institution {code} exists already")
            institution = create_institution(session, code=code, name=name, now=_now(),
                                             qualification_only=qualification_only)
            institution.home_visit_lapse_days = days
            tokens = institution.reception_tokens
            functions = institution.functions
        base = current_app.config['SETTINGS'].origins[0]
        click.echo(f"created {code} {name} ({kind})" + (f" ({QUALIFICATION_ONLY_LABEL}: qualification only)"
                                               if qualification_only else ""))
        click.echo(f"reception URL: {base}/r/{tokens['online']}")
        click.echo(f"home-visit lapse: {lapse_days_text(days)}")
        # Online only at first (環境設定); the other entry points answer once their function is on.
        for setting, token in tokens.items():
            if setting != "online":
                state = "on" if functions[RECEPTION_SETTINGS[setting].function] else "off"
                click.echo(f"{setting} URL ({RECEPTION_SETTINGS[setting].function}: {state}): {base}/r/{token}")

    @institution_group.command("admin")
    @click.argument("code")
    @click.option("--login-id", required=True, help="Letters, digits, '-', '_', '.'; 3 to 64 characters.")
    @click.option("--name", "display_name", default="", help="The admin's name, for the console.")
    def institution_admin(code: str, login_id: str, display_name: str):
        """Create an admin for CODE with a one-time password (changed at first login)."""
        if not LOGIN_ID.match(login_id):
            fail("--login-id must be 3 to 64 letters, digits, '-', '_' or '.'")
        password = secrets.token_urlsafe(12)
        with _sessionmaker()() as session, session.begin():
            institution = institution_by_code(session, code)
            if institution is None:
                fail(f"no institution with code {code!r}")
            if session.scalar(select(Staff.id).where(Staff.login_id == login_id)) is not None:
                fail(f"login id {login_id!r} is taken")
            staff = add_staff(session, institution, login_id=login_id, password=password, role="admin",
                              now=_now(), display_name=display_name)
            staff.must_change_password = True
        click.echo(f"admin {login_id} created for {code}")
        click.echo(f"one-time password: {password}   (to be changed at the first login)")

    @institution_group.command("set")
    @click.argument("code")
    @click.option("--qualification-only", "qualification_only", type=click.Choice(["on", "off"]),
                  help="on: 資格確認限定型 - the data categories of open consents end now (利用目的の変更, "
                       "reason 3); off: data may be consented to again (nothing is granted back).")
    @click.option("--phone", help="The phone number patients call (e.g. 03-1234-5678), shown on every "
                                  "patient page and error page; \"\" removes it.")
    @click.option("--privacy-url", "privacy_url",
                  help="The URL of the institution's privacy notice, linked from every patient page; \"\" removes it.")
    @click.option("--lapse-days", "lapse_days", help=LAPSE_DAYS_HELP + " Open relationships follow at once.")
    def institution_set(code: str, qualification_only: str | None, phone: str | None, privacy_url: str | None,
                        lapse_days: str | None):
        """Change an institution's settings (the mode is audited)."""
        if qualification_only is None and phone is None and privacy_url is None and lapse_days is None:
            fail("nothing to set: give --qualification-only, --phone, --privacy-url or --lapse-days")
        days = parse_lapse_days(lapse_days) if lapse_days is not None else None
        ended = []
        with _sessionmaker()() as session, session.begin():
            institution = institution_by_code(session, code)
            if institution is None:
                fail(f"no institution with code {code!r}")
            try:
                set_contact(institution, phone=phone, privacy_url=privacy_url)
            except InstitutionError as exc:
                fail(CONTACT_PROBLEMS[exc.code])
            if qualification_only is not None:
                ended = set_qualification_only(session, institution_id=institution.id, on=qualification_only == "on",
                                               by="operator", now=_now())
            if lapse_days is not None:
                session.flush()
                home_visits.set_lapse_days(session, institution_id=institution.id, days=days, now=_now())
        if qualification_only is not None:
            click.echo(f"{code}: qualification-only {qualification_only}")
        if ended:
            click.echo(f"data categories ended in {len(ended)} open consent(s) (reason 3, 利用目的の変更)")
        if phone is not None:
            click.echo(f"{code}: phone {phone.strip() or '(none)'}")
        if privacy_url is not None:
            click.echo(f"{code}: privacy notice {privacy_url.strip() or '(none)'}")
        if lapse_days is not None:
            click.echo(f"{code}: home-visit lapse {lapse_days_text(days)}")

    @institution_group.command("list")
    def institution_list():
        """List institutions with their staff counts."""
        with _sessionmaker()() as session:
            rows = session.execute(
                select(Institution.institution_code, Institution.name, func.count(Staff.id),
                       Institution.qualification_only, Institution.kind)
                .outerjoin(Staff, Staff.institution_id == Institution.id)
                .group_by(Institution.id).order_by(Institution.institution_code)
            ).all()
        for code, name, count, qualification_only, kind in rows:
            mode = f"  {QUALIFICATION_ONLY_LABEL}" if qualification_only else ""
            click.echo(f"{code}  {INSTITUTION_KINDS[kind].label}  {name}  staff: {count}{mode}")

    @app.cli.group("staff")
    def staff_group():
        """Staff accounts."""

    @staff_group.command("list")
    @click.argument("code")
    def staff_list(code: str):
        """List the staff of institution CODE."""
        with _sessionmaker()() as session:
            institution = institution_by_code(session, code)
            if institution is None:
                fail(f"no institution with code {code!r}")
            for member in staff_of(session, institution.id):
                state = "disabled" if member.disabled_at else "active"
                click.echo(f"{member.login_id}  {member.role}  {state}  {member.display_name}")

    @staff_group.command("disable")
    @click.argument("login_id")
    def staff_disable(login_id: str):
        """Disable LOGIN_ID: their console sessions and API tokens stop working at once."""
        with _sessionmaker()() as session, session.begin():
            member = session.scalar(select(Staff).where(Staff.login_id == login_id))
            if member is None:
                fail(f"no staff member with login id {login_id!r}")
            disable_staff(session, institution_id=member.institution_id, staff_id=member.id, now=_now())
            end_sessions_of_staff(session, member.id)
        click.echo(f"disabled {login_id}")
