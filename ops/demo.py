"""Demo data for `make run` (idempotent): a pharmacy with one staff member of each role, the
OQS simulator's demo people, a card for each, and today's consents so the console has patients;
a 資格確認限定型 (qualification-only) clinic with its own staff and today's confirmations; and a
visiting-nurse station (訪問看護) with nurse logins, sharing a home-visit patient with the pharmacy -
the one demo institution with a home-visit lapse (30 days; the others set none)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import select

from consent import disasters, grants, home_visits, oauth_clients
from consent.vocabulary import (
    BY_PATIENT, CATEGORIES, CLIENT_CREDENTIALS_SCOPES, CONFIRMATION_CARE_SETTING, HOME_VISIT, ONLINE_CARE, OUTPATIENT,
    SCOPES, VERIFICATION_PHOTO,
)
from consent.clock import JST
from consent.wareki import format_birth_date
from consent.institutions import (
    ALL_FUNCTIONS, Staff, add_staff, appointments_of, create_appointment, create_institution, institution_by_code,
    set_contact,
)
from consent.oauth_models import ApiClient
from integrations.card.models import CardRecord
from web.context import card_authority_for, oqs_for

# 13 東京都, 4 調剤, 郡市区 12, 番号 3456, check digit 3 (MHLW modulus-10 over all 9 digits).
DEMO_INSTITUTION_CODE = "1341234563"
DEMO_INSTITUTION_NAME = "デモ薬局 本町店"
# Demo-only credentials, printed by `make run`; the sandbox is never production.
DEMO_STAFF = [
    ("demo-pharmacist", "demo-pharmacist-pass", "pharmacist", "薬剤師 デモ"),
    ("demo-clerk", "demo-clerk-pass", "clerk", "事務 デモ"),
    ("demo-admin", "demo-admin-pass", "admin", "管理者 デモ"),
]
# A 資格確認限定型 clinic (13 東京都, 1 医科): it confirms qualifications only, never reads other data.
DEMO_QUALIFICATION_ONLY_CODE = "1311234577"
DEMO_QUALIFICATION_ONLY_NAME = "デモ健診クリニック 駅前"
# Whom the demo's patients ask (every patient page shows it): example numbers and addresses only.
DEMO_CONTACTS = {
    "pharmacy": {"phone": "03-1234-5678", "privacy_url": "https://example.jp/demo-pharmacy/privacy"},
    "clinic": {"phone": "0120-123-456", "privacy_url": "https://example.jp/demo-clinic/privacy"},
}
DEMO_QUALIFICATION_ONLY_STAFF = [
    ("demo-qo-doctor", "demo-qo-doctor-pass", "pharmacist", "医師 デモ"),  # the licensed role
    ("demo-qo-clerk", "demo-qo-clerk-pass", "clerk", "受付 デモ"),
    ("demo-qo-admin", "demo-qo-admin-pass", "admin", "管理者 デモ"),
]
# A visiting-nurse station (13 東京都, 6 訪問看護): home visits only, with nurse logins (the licensed
# role, labelled 看護師). It visits the demo pharmacy's home-visit patient too: first visit a week
# ago on the station's tablet, a visit recorded today.
DEMO_STATION_CODE = "1361234568"
DEMO_STATION_NAME = "デモ訪問看護ステーション 本町"
DEMO_STATION_STAFF = [
    ("demo-vn-nurse", "demo-vn-nurse-pass", "pharmacist", "看護師 デモ"),  # the licensed role
    ("demo-vn-admin", "demo-vn-admin-pass", "admin", "管理者 デモ"),
]
DEMO_STATION_VISITS = (7, 0)  # days before today: the first visit, then a recorded visit
# The one demo institution with a home-visit lapse (the project's own rule, off by default), so
# that it can be tried: the station's relationships end after 30 days without a recorded visit.
# The pharmacy and the clinic set none (環境設定 shows the field empty).
DEMO_STATION_LAPSE_DAYS = 30
# Today's qualification confirmations there: one valid, one lost (無効).
DEMO_CONFIRMATIONS = ("demo-kato-keiko", "demo-nakamura-koji")
# Someone who holds only a 資格確認書 (her card is not registered for health insurance use): the
# demo pharmacy confirmed her qualification from it today on the outpatient tablet (「資格確認書で確認」).
DEMO_CERTIFICATE_PERSON = "demo-mori-haruko"
# A system job's API client (client credentials), fixed so the README's curl lines work as they are.
DEMO_API_CLIENT = ("demo-system", "demo-system-secret")
# A desktop レセコン's client (authorization code + PKCE, loopback redirect), for the Python client
# package's authorize_in_browser (clients/python/README.md): a pharmacist approves it in the browser.
DEMO_DESKTOP_CLIENT = ("demo-desktop", "demo-desktop-secret", "http://127.0.0.1:8765/callback")
# Today's consents, as if these patients had done reception: what each one shows in the console.
DEMO_CONSENTS = {
    "demo-yamada-taro": CATEGORIES,
    "demo-yamada-hanako": ("drug", "checkup"),
    "demo-sato-ren": CATEGORIES,
    "demo-suzuki-ichiro": CATEGORIES,
    "demo-takahashi-fumiko": CATEGORIES,
    "demo-tanaka-misaki": ("limit",),
    "demo-ito-tadashi": CATEGORIES,
    "demo-watanabe-sachiko": CATEGORIES,
    "demo-kimura-yuki": CATEGORIES,  # 併用: health insurance and medical aid, a 調剤券 with its prescriber
}
# Consents taken on the pharmacy's tablet rather than the patient's phone (online care otherwise):
# (care setting, house_call), so the console's filter by 診療区分 has something to show.
DEMO_SETTINGS = {
    "demo-sato-ren": (OUTPATIENT, False),  # 外来: the outpatient alternative flow
    "demo-ito-tadashi": (HOME_VISIT, True),  # 往診: a house call today
}
# Per-category state worth showing (issue 17): consented in steps at different times, or with a
# category removed later through 同意照会・更新. (hours before now, categories) per step; the
# last step's categories are DEMO_CONSENTS' entry.
DEMO_CHANGES = {
    # 山田 太郎: drug, checkup and limit three hours ago; the other categories added an hour ago.
    "demo-yamada-taro": ((3, ("drug", "checkup", "limit")), (1, CATEGORIES)),
    # 山田 花子: limit consented two hours ago and removed an hour ago (同意なし from then on).
    "demo-yamada-hanako": ((2, ("drug", "checkup", "limit")), (1, ("drug", "checkup"))),
}
# A revoked 限度額 (issue 39: its flag is 0 or 1 only, so it reads 0 with 取消 and its reason):
# 田中 美咲 consented to 限度額 two hours ago and revoked it through 同意照会・更新 an hour ago.
DEMO_REVOKED = {"demo-tanaka-misaki": (2, 1)}  # (hours before now consented, hours before now revoked)
# A declared disaster (災害時特別措置) covering the demo pharmacy alone, so that 「災害時閲覧」 can be
# tried: from the start of the load day (JST) for DEMO_DISASTER_DAYS days.
DEMO_DISASTER_NAME = "デモ用 災害時特別措置（訓練）"
DEMO_DISASTER_DAYS = 30
# Whom to look for there (by name, birth date and postcode, as an evacuee without a card would say).
DEMO_DISASTER_PERSON = "demo-suzuki-ichiro"

# A home-visit patient (訪問患者, issue 19): first visit four weeks ago on the tablet, then two
# recorded visits - two weeks ago and today. (person, categories, days before today of each visit)
DEMO_HOME_VISIT = ("demo-kato-keiko", ("drug", "checkup", "limit"), (28, 14, 0))

# 「管理」's 予約 (issue 37): (days after today, memo, the patient it is for or None). The patient's
# kana and birth date are kept on the server; the link stays opaque.
DEMO_APPOINTMENTS = ((1, "10時 オンライン服薬指導", "demo-yamada-hanako"), (3, "15時 初回（紹介状あり）", None))
# A staff member 「利用停止」 in 「管理」's 職員, so that 「利用再開」 can be tried.
DEMO_STOPPED_STAFF = ("demo-stopped-clerk", "demo-stopped-clerk-pass", "clerk", "休職中 デモ")


@dataclass
class DemoSummary:
    institution_name: str
    reception_token: str
    staff: list[tuple[str, str, str]] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    # Every entry point's token (online, outpatient, home_visit, house_call).
    reception_tokens: dict[str, str] = field(default_factory=dict)
    qualification_only_token: str = ""
    confirmed: list[str] = field(default_factory=list)
    home_visit_patient: str = ""
    disaster: str = ""
    station_tokens: dict[str, str] = field(default_factory=dict)
    station_patient: str = ""
    # The 資格確認書 holder: her name and the keys as printed on it (to type on the tablet).
    certificate_holder: str = ""

    def describe(self, settings) -> str:
        base = settings.origins[0]
        lines = [
            "",
            f"  Demo pharmacy:      {self.institution_name}",
            f"  Patient reception:  {base}/r/{self.reception_token}   (open on a phone-sized window)",
            *(f"  Tablet ({name}):{' ' * (12 - len(name))}{base}/r/{token}   (tablet-sized window; sign in as"
              " demo-clerk, press 受付モード)" for name, token in self.reception_tokens.items() if name != "online"),
            f"  Pharmacist console: {base}/pharmacy/login",
            "  Demo staff logins (login id / password / role):",
        ]
        lines += [f"    {login} / {password} / {role}" for login, password, role in self.staff]
        lines.append(f"  Today's demo patients in the console: {', '.join(self.patients)}")
        if self.home_visit_patient:
            lines.append(f"  Home-visit patient (console 訪問患者, three visits): {self.home_visit_patient}")
        if self.certificate_holder:
            lines.append(f"  資格確認書 only (outpatient tablet → 資格確認書で確認): {self.certificate_holder}")
        lines.append(f"  Demo API client (client credentials): {DEMO_API_CLIENT[0]} / {DEMO_API_CLIENT[1]}")
        lines.append(f"  Demo desktop client (authorization code + PKCE): {DEMO_DESKTOP_CLIENT[0]} / "
                     f"{DEMO_DESKTOP_CLIENT[1]}, redirect {DEMO_DESKTOP_CLIENT[2]}")
        lines.append(f"  Sandbox demo cards (try reception by hand): {base}/demo/cards")
        if self.disaster:
            lines.append(f"  Disaster measure (災害時閲覧, sign in as demo-pharmacist): {base}/pharmacy/disaster"
                         f"   ({self.disaster})")
        lines += [
            f"  Qualification-only clinic (資格確認限定型): {DEMO_QUALIFICATION_ONLY_NAME}",
            f"    Counter device (資格確認をする; sign in as demo-qo-clerk):  {base}/r/{self.qualification_only_token}",
            "    Staff logins (login id / password / role):",
            *(f"      {login} / {password} / {role}" for login, password, role, _ in DEMO_QUALIFICATION_ONLY_STAFF),
            f"    Today's confirmations: {', '.join(self.confirmed)}",
        ]
        if self.station_tokens:
            lines += [
                f"  Visiting-nurse station (訪問看護, home visits only): {DEMO_STATION_NAME}",
                f"    Tablet (home_visit): {base}/r/{self.station_tokens['home_visit']}   (sign in as demo-vn-nurse)",
                "    Staff logins (login id / password / role):",
                *(f"      {login} / {password} / {role}" for login, password, role, _ in DEMO_STATION_STAFF),
                f"    Home-visit patient shared with the demo pharmacy: {self.station_patient}",
                f"    Home-visit lapse (the project's own rule, tried here only): {DEMO_STATION_LAPSE_DAYS} days"
                " without a recorded visit; the pharmacy and the clinic set none",
            ]
        return "\n".join(lines) + "\n"


def load_demo(app: Flask) -> DemoSummary:
    clock = app.extensions["clock"]
    now = clock.now()
    today = now.astimezone(JST).date()
    with app.app_context(), app.extensions["sessionmaker"]() as session, session.begin():
        institution = _demo_institution(session, DEMO_INSTITUTION_CODE, DEMO_INSTITUTION_NAME, DEMO_STAFF, now=now)
        # The demo pharmacy runs every function (環境設定), also when its row predates them.
        institution.set_functions(ALL_FUNCTIONS)
        set_contact(institution, **DEMO_CONTACTS["pharmacy"])
        people = {p.person_id: p for p in oqs_for(session).load_demo_population(
            today=today, institution_codes=[DEMO_INSTITUTION_CODE])}
        _demo_consents(session, institution, people, today=today, now=now)
        visiting = _demo_home_visit(session, institution, people, today=today, now=now)
        _demo_api_client(session, institution, now=now)
        _demo_admin(session, institution, people, today=today, now=now)
        disaster = _demo_disaster(session, today=today, now=now, person=people.get(DEMO_DISASTER_PERSON))
        holder = _demo_certificate(session, institution, people.get(DEMO_CERTIFICATE_PERSON), today=today, now=now)
        tokens = institution.reception_tokens
        names = [people[pid].name for pid in DEMO_CONSENTS if pid in people]
        clinic = _demo_institution(session, DEMO_QUALIFICATION_ONLY_CODE, DEMO_QUALIFICATION_ONLY_NAME,
                                   DEMO_QUALIFICATION_ONLY_STAFF, now=now, qualification_only=True)
        set_contact(clinic, **DEMO_CONTACTS["clinic"])
        _demo_confirmations(session, clinic, people, today=today, now=now)
        confirmed = [people[pid].name for pid in DEMO_CONFIRMATIONS if pid in people]
        station = _demo_institution(session, DEMO_STATION_CODE, DEMO_STATION_NAME, DEMO_STATION_STAFF, now=now)
        session.flush()
        home_visits.set_lapse_days(session, institution_id=station.id, days=DEMO_STATION_LAPSE_DAYS, now=now)
        shared = _demo_station_visits(session, station, people, today=today, now=now)
        return DemoSummary(DEMO_INSTITUTION_NAME, tokens["online"], [(l, p, r) for l, p, r, _ in DEMO_STAFF],
                           names, tokens, qualification_only_token=clinic.reception_token, confirmed=confirmed,
                           home_visit_patient=visiting,
                           disaster=disaster, station_tokens=station.reception_tokens, station_patient=shared,
                           certificate_holder=holder)


def reset_demo(app: Flask) -> DemoSummary:
    """The demo data as `load_demo` first makes it: the demo institutions go with everything they
    hold (what QA suites or a fuzzer did to them), then are loaded again."""
    from consent.institution_removal import remove_institution

    with app.app_context(), app.extensions["sessionmaker"]() as session, session.begin():
        for code in (DEMO_INSTITUTION_CODE, DEMO_QUALIFICATION_ONLY_CODE):
            institution = institution_by_code(session, code)
            if institution is not None:
                remove_institution(session, institution, sandbox_only=False)
    return load_demo(app)


def _demo_institution(session, code: str, name: str, staff, *, now, qualification_only: bool = False):
    institution = institution_by_code(session, code)
    if institution is None:
        institution = create_institution(session, code=code, name=name, now=now,
                                         qualification_only=qualification_only)
    existing = set(session.scalars(select(Staff.login_id).where(Staff.institution_id == institution.id)))
    for login_id, password, role, display in staff:
        if login_id not in existing:
            add_staff(session, institution, login_id=login_id, password=password, role=role,
                      now=now, display_name=display)
    return institution


def _demo_admin(session, institution, people: dict, *, today: date, now) -> None:
    """「管理」: upcoming appointments (one for a patient) and a stopped staff member; once only."""
    if not appointments_of(session, institution.id, since=date.min):
        for days, memo, person_id in DEMO_APPOINTMENTS:
            person = people.get(person_id) if person_id else None
            create_appointment(session, institution_id=institution.id, consultation_date=today + timedelta(days=days),
                               memo=memo, now=now, patient_kana=person.kana if person else "",
                               patient_birth_date=person.birth_date if person else None)
    login_id, password, role, display = DEMO_STOPPED_STAFF
    if session.scalar(select(Staff.id).where(Staff.login_id == login_id)) is None:
        member = add_staff(session, institution, login_id=login_id, password=password, role=role, now=now,
                           display_name=display)
        member.disabled_at = now


def _card_of(session, authority, person, *, now) -> str:
    card_id = session.scalar(select(CardRecord.id).where(CardRecord.person_id == person.person_id))
    if card_id is None:
        # The key is thrown away: demo cards cannot be used in a browser (issue a sandbox card for that).
        card_id = authority.issue_card(person_id=person.person_id, birth_date=person.birth_date, now=now).card.card_id
    return card_id


def _demo_confirmations(session, clinic, people: dict, *, today: date, now) -> None:
    """Today's 資格確認 at the qualification-only clinic's counter: consents with no categories (a
    repeat changes nothing)."""
    authority = card_authority_for(session)
    oqs = oqs_for(session)
    for person_id in DEMO_CONFIRMATIONS:
        person = people.get(person_id)
        if person is None:
            continue
        validity = oqs.qualification(person_id, institution_code=clinic.institution_code,
                                     care_setting=CONFIRMATION_CARE_SETTING, today=today).validity_code
        grants.register_consent(session, institution_id=clinic.id, person_id=person_id,
                                card_id=_card_of(session, authority, person, now=now),
                                care_setting=CONFIRMATION_CARE_SETTING,
                                categories=(), consultation_date=today, now=now, validity_code=validity)


def _demo_certificate(session, institution, person, *, today: date, now) -> str:
    """The 資格確認書 holder: no card usable for health insurance, and today's confirmation from her
    資格確認書 at the demo pharmacy's outpatient tablet (once a day: a repeat changes nothing).
    Her name and the keys to type, in a line ("" when not loaded)."""
    if person is None:
        return ""
    card_authority_for(session).mark_unlinked(person_id=person.person_id, now=now)
    validity = oqs_for(session).qualification(person.person_id, institution_code=institution.institution_code,
                                              care_setting=OUTPATIENT, today=today).validity_code
    clerk = session.scalar(select(Staff.id).where(Staff.institution_id == institution.id,
                                                  Staff.login_id == DEMO_STAFF[1][0]))
    already = any(c.consultation_date == today for c in grants.consents_of_person(
        session, institution_id=institution.id, person_id=person.person_id))
    if not already:
        grants.register_certificate(session, institution_id=institution.id, person_id=person.person_id,
                                    care_setting=OUTPATIENT, house_call=False, consultation_date=today, now=now,
                                    validity_code=validity, by=f"staff:{clerk}")
    return (f"{person.name}: 保険者番号 {person.insurer_number} / 記号 {person.symbol or '-'} / 番号 {person.number}"
            f" / 枝番 {person.branch or '-'} / 生年月日 {format_birth_date(person.birth_date)}")


def _demo_disaster(session, *, today: date, now, person) -> str:
    """Declare the demo disaster unless one is active over the demo pharmacy already (an operator's
    own, or the one an earlier load declared); what is active, in a line."""
    # Its area is the demo pharmacy alone: only a disaster covering it could meet it, and then that
    # one is active here already.
    active = disasters.active_for(session, DEMO_INSTITUTION_CODE, now)
    if not active:
        start = datetime.combine(today, time(0), tzinfo=JST)
        active = [disasters.declare(
            session, name=DEMO_DISASTER_NAME, institution_codes=[DEMO_INSTITUTION_CODE], starts_at=start,
            ends_at=start + timedelta(days=DEMO_DISASTER_DAYS), now=now)]
    first = active[0]
    line = f"{first.name}, until {first.ends_at.astimezone(JST).isoformat()}"
    if person is not None:
        line += f"; try {person.kana} / {person.birth_date.isoformat()} / 〒{person.postcode}"
    return line


def _demo_consents(session, institution, people: dict, *, today: date, now) -> None:
    authority = card_authority_for(session)
    oqs = oqs_for(session)
    for person_id, categories in DEMO_CONSENTS.items():
        person = people.get(person_id)
        if person is None:
            continue
        card_id = _card_of(session, authority, person, now=now)
        care_setting, house_call = DEMO_SETTINGS.get(person_id, (ONLINE_CARE, False))
        validity = oqs.qualification(person_id, institution_code=institution.institution_code,
                                     care_setting=care_setting, today=today).validity_code
        steps = DEMO_CHANGES.get(person_id)
        already = any(c.consultation_date == today for c in grants.consents_of_person(
            session, institution_id=institution.id, person_id=person_id))
        if steps and not already:
            (first_hours, first), *later = steps
            consent = grants.register_consent(
                session, institution_id=institution.id, person_id=person_id, card_id=card_id,
                care_setting=ONLINE_CARE, categories=first, consultation_date=today,
                now=now - timedelta(hours=first_hours), validity_code=validity)
            for hours, chosen in later:
                grants.change_categories(session, institution_id=institution.id, consent_id=consent.id,
                                         person_id=person_id, categories=chosen, now=now - timedelta(hours=hours))
            continue
        revoked = DEMO_REVOKED.get(person_id)
        if revoked and already:
            continue  # loaded before: a revoked consent is not registered again
        consented_at = now - timedelta(hours=revoked[0]) if revoked else now
        consent = grants.register_consent(session, institution_id=institution.id, person_id=person_id,
                                          card_id=card_id, care_setting=care_setting, house_call=house_call,
                                          categories=categories, consultation_date=today, now=consented_at,
                                          validity_code=validity)
        if revoked:
            grants.revoke_consent(session, institution_id=institution.id, consent_id=consent.id, by="patient",
                                  reason=BY_PATIENT, now=now - timedelta(hours=revoked[1]))


def _demo_home_visit(session, institution, people: dict, *, today: date, now) -> str:
    """The demo pharmacy's home-visit patient has three recorded visits."""
    person_id, categories, days = DEMO_HOME_VISIT
    return _demo_relationship(session, institution, people.get(person_id), categories, days,
                              staff_login=DEMO_STAFF[0][0], today=today, now=now)


def _demo_station_visits(session, station, people: dict, *, today: date, now) -> str:
    """The visiting-nurse station's relationship with the demo pharmacy's home-visit patient."""
    person_id, categories, _ = DEMO_HOME_VISIT
    # She had forgotten her PIN: the nurse compared the card's face photo (目視確認) at the first visit.
    return _demo_relationship(session, station, people.get(person_id), categories, DEMO_STATION_VISITS,
                              staff_login=DEMO_STATION_STAFF[0][0], today=today, now=now, photo_checked=True)


def _demo_relationship(session, institution, person, categories, days, *, staff_login: str, today: date,
                       now, photo_checked: bool = False) -> str:
    """A home-visit relationship, once: the first visit `days[0]` days ago on the card (with its PIN,
    or `photo_checked` by `staff_login`: 目視確認), then a visit recorded by `staff_login` each of the
    other days ago. The person's name ("" when not loaded)."""
    if person is None:
        return ""
    if home_visits.relationship_of(session, institution_id=institution.id, person_id=person.person_id) is None:
        first, *later = days
        validity = oqs_for(session).qualification(person.person_id, institution_code=institution.institution_code,
                                                  care_setting=HOME_VISIT, today=today).validity_code
        visitor = session.scalar(select(Staff.id).where(Staff.institution_id == institution.id,
                                                        Staff.login_id == staff_login))
        identified = ({"verification": VERIFICATION_PHOTO, "verified_by": f"staff:{visitor}"} if photo_checked
                      else {})
        consent = home_visits.register_first_visit(
            session, institution_id=institution.id, person_id=person.person_id,
            card_id=_card_of(session, card_authority_for(session), person, now=now), categories=categories,
            now=now - timedelta(days=first), validity_code=validity, **identified)
        for before in later:
            home_visits.record_visit(session, institution_id=institution.id, consent_id=consent.id,
                                     visit_date=today - timedelta(days=before), by=f"staff:{visitor}",
                                     now=now - timedelta(days=before))
    return person.name


def _demo_api_client(session, institution, *, now) -> None:
    """The two demo API clients, with known ids and secrets (printed by `make run`)."""
    desktop_id, desktop_secret, redirect_uri = DEMO_DESKTOP_CLIENT
    for (client_id, secret), name, grant_type, scopes, redirect in (
            (DEMO_API_CLIENT, "デモ連携（システム処理）", oauth_clients.CLIENT_CREDENTIALS,
             sorted(CLIENT_CREDENTIALS_SCOPES), None),
            ((desktop_id, desktop_secret), "デモ連携（デスクトップのレセコン）", oauth_clients.AUTHORIZATION_CODE,
             list(SCOPES), redirect_uri)):
        if session.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)) is not None:
            continue
        client, _ = oauth_clients.register_client(
            session, institution_id=institution.id, name=name, grant_type=grant_type, scopes=scopes, now=now,
            redirect_uri=redirect)
        # Known values instead of random ones: this is demo data, printed by `make run`.
        client.client_id = client_id
        client.secret_hash = oauth_clients.digest(secret)
