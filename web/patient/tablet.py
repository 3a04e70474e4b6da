"""The institution's own tablet (外来, 訪問診療等, 往診): a shared device.

A staff member of the institution signs in on the tablet's browser at one of its tablet URLs, then
presses 「受付モード」: the browser shows only the patient-facing flow of that URL (web/patient/reception.py)
until a staff member leaves the mode with the password. After each registration, and after
TABLET_IDLE_SECONDS without a patient's step (measured on the injected clock, so the sandbox can
move it), the tablet forgets the patient and returns to its neutral start. The staff sign-in stays
(the session's absolute lifetime still ends it); the console stays out of reach while in the mode.

A 資格確認限定型 (qualification-only) institution's reception URLs are its own device at the counter
(docs/sources.md [000], [001]: 「マイナ資格確認アプリ」 on the institution's PC, tablet or smartphone):
the staff member signs in the same way and operates it, 「資格確認をする」 reading the patient's card
and showing the staff member the qualification (web/patient/reception_qualification.py). There is
no 「受付モード」: the person at the screen is the staff member, not the patient.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for

from consent.login_throttle import LoginThrottled, sign_in_with_password
from consent.tablet_leave import LeaveThrottled, check_leave_password
from consent.vocabulary import HOME_VISIT
from web.context import client_address, now, wall_now
from web.db import db
from web.error_messages import LOGIN_MISSING, LOGIN_WRONG, describe
from web.patient.reception_place import Place, find_place
from web.staff_session import current_staff, sign_in

bp = Blueprint("tablet", __name__, url_prefix="/r", template_folder="templates")

# Back to the neutral start after this long without a patient's step (the issue: two minutes).
TABLET_IDLE_SECONDS = 120
# How often the page asks whether it has been idle too long (milliseconds).
IDLE_POLL_MS = 3000
# The session keys that survive a patient: the staff sign-in, the mode, the CSRF token.
TABLET = "tablet"
KEPT_KEYS = ("staff_id", TABLET, "_csrf")


def mode_of(place: Place) -> dict | None:
    """The reception mode this browser is in at this institution (None: not in it)."""
    mode = session.get(TABLET)
    return mode if mode and mode.get("institution_id") == place.id else None


def in_mode(place: Place) -> bool:
    return place.setting.tablet and mode_of(place) is not None and mode_of(place).get("token") == place.token


def offers_photo_check(place: Place) -> bool:
    """Whether this entry point offers the photo check (web/patient/reception_photo.py): the
    institution's tablet, in reception mode, for 訪問診療等 or 往診, in a consent flow (not
    資格確認限定型, whose reception asks no categories)."""
    return place.setting.care_setting == HOME_VISIT and not place.qualification_only and in_mode(place)


def forget_patient() -> None:
    """Nothing of the patient stays: only the staff sign-in and the mode (no new session id, which
    would restart the staff session's absolute lifetime)."""
    kept = {key: session[key] for key in KEPT_KEYS if key in session}
    session.clear()
    session.update(kept)


def _touch(mode: dict) -> None:
    session[TABLET] = {**mode, "active_at": now().timestamp()}


def _idle(mode: dict) -> bool:
    return now().timestamp() - mode.get("active_at", 0) >= TABLET_IDLE_SECONDS


def _home(place: Place, status: int = 200, **context):
    """The staff's page on the tablet: 「受付モード」 starts the patient-facing flow."""
    return render_template("reception/tablet_home.html", place=place, staff=current_staff(), **context), status


def _login(place: Place, status: int = 200, **context):
    return render_template("reception/tablet_login.html", place=place, **context), status


def _wrong_institution():
    # Nothing of either institution is shown: the tablet belongs to someone else.
    return render_template("error.html", status=403, place_contact=None,
                           message="この端末でログインしている職員の医療機関の受付ではありません。"), 403


def counter(place: Place) -> bool:
    """A 資格確認限定型 institution's URL: the institution's own device, operated by its staff."""
    return place.qualification_only


def _counter_gate(place: Place):
    """The counter device's pages need a staff member of the institution signed in on it."""
    staff = current_staff()
    if staff is None:
        return _login(place, 401 if request.method != "GET" else 200)
    if staff.institution_id != place.id:
        return _wrong_institution()
    if staff.must_change_password:
        return redirect(url_for("console.change_password"), code=303)
    return None


def gate(place: Place, *, start: bool = False):
    """For a tablet URL's patient pages: None when the tablet is in reception mode here (the
    patient's step counts as activity), otherwise the page to show instead — the staff login, the
    「受付モード」 page, a refusal, or the neutral start after an idle spell. `start`: the neutral
    start itself is asked for. A qualification-only institution's URL (any of them) asks for a
    staff member of the institution signed in, and no mode."""
    if counter(place):
        return _counter_gate(place)
    if not place.setting.tablet:
        return None
    staff = current_staff()
    if staff is None:
        return _login(place, 401 if request.method != "GET" else 200)
    if staff.institution_id != place.id:
        return _wrong_institution()
    mode = mode_of(place)
    if mode is None:
        return _home(place, 403 if request.method != "GET" else 200)
    if mode["token"] != place.token:
        # The mode is locked to the URL it started on: another entry point needs a staff member.
        return redirect(url_for("reception.top", token=mode["token"]), code=303)
    if _idle(mode):
        forget_patient()
        _touch(mode)
        if not start:
            return redirect(url_for("reception.top", token=place.token), code=303)
        return None
    _touch(mode)
    return None


def page_context(place: Place) -> dict:
    """Template variables of a reception page in reception mode (the idle poll, the way out)."""
    if not in_mode(place):
        return {"tablet": None}
    return {"tablet": {"idle_url": url_for("tablet.idle", token=place.token), "poll_ms": IDLE_POLL_MS,
                       "start_url": url_for("reception.top", token=place.token),
                       "leave_url": url_for("tablet.leave", token=place.token)}}


def _tablet_place(token: str) -> Place:
    place = find_place(token)
    if not place.setting.tablet and not counter(place):
        abort(404)
    return place


@bp.post("/<token>/staff/login")
def login(token: str):
    place = _tablet_place(token)
    login_id = request.form.get("login_id", "").strip()[:64]
    password = request.form.get("password", "")[:256]
    if not login_id or not password:
        return _login(place, 400, login_id=login_id, error=LOGIN_MISSING)
    try:
        identity = sign_in_with_password(db(), login_id=login_id, password=password, address=client_address(),
                                         now=wall_now())
    except LoginThrottled as exc:
        answer = describe(exc)
        return _login(place, answer.status, login_id=login_id, error=answer.message)
    if identity is None:
        return _login(place, 401, login_id=login_id, error=LOGIN_WRONG)
    if identity.institution_id != place.id:
        return _login(place, 403, login_id=login_id, error="この医療機関の職員のログインIDでログインしてください。")
    if identity.must_change_password:
        return _login(place, 403, login_id=login_id,
                      error="はじめに管理画面（/pharmacy/）でパスワードを変更してください。")
    sign_in(identity)
    return redirect(url_for("reception.top", token=place.token), code=303)


@bp.post("/<token>/tablet/start")
def start(token: str):
    """「受付モード」: from now on this browser shows the patient-facing flow of this URL only."""
    place = _tablet_place(token)
    if counter(place):  # the counter device has no mode: its staff member operates it
        return redirect(url_for("reception.top", token=place.token), code=303)
    staff = current_staff()
    if staff is None:
        return _login(place, 401)
    if staff.institution_id != place.id:
        return _wrong_institution()
    if staff.must_change_password:
        return redirect(url_for("console.change_password"), code=303)
    forget_patient()
    _touch({"institution_id": place.id, "token": place.token})
    return redirect(url_for("reception.top", token=place.token), code=303)


@bp.route("/<token>/tablet/leave", methods=["GET", "POST"])
def leave(token: str):
    """Leaving the mode needs the signed-in staff member's password (a patient cannot)."""
    place = _tablet_place(token)
    staff = current_staff()
    if staff is None or staff.institution_id != place.id or mode_of(place) is None:
        return redirect(url_for("reception.top", token=place.token), code=303)
    if request.method == "GET":
        forget_patient()
        return render_template("reception/tablet_leave.html", place=place, **page_context(place))
    password = request.form.get("password", "")[:256]
    try:
        # Counted apart from the console's sign-in: a patient's guesses here never lock the staff out.
        right = check_leave_password(db(), staff=staff, password=password, tablet=place.token, now=wall_now())
    except LeaveThrottled as exc:
        answer = describe(exc)
        return render_template("reception/tablet_leave.html", place=place, error=answer.message,
                               **page_context(place)), answer.status
    if not right:
        return render_template("reception/tablet_leave.html", place=place, error="パスワードが正しくありません。",
                               **page_context(place)), 401
    session.pop(TABLET, None)
    return redirect(url_for("reception.top", token=place.token), code=303)


@bp.get("/<token>/tablet/idle")
def idle(token: str):
    """The page's poll: where to go when the tablet has been idle too long (not itself activity)."""
    place = find_place(token)
    mode = mode_of(place)
    if mode is None or mode.get("token") != place.token or current_staff() is None:
        return jsonify(redirect=url_for("reception.top", token=place.token))
    if _idle(mode):
        forget_patient()
        _touch(mode)
        # Already on the neutral start (`at=start`): nothing to leave, no reload.
        if request.args.get("at") != "start":
            return jsonify(redirect=url_for("reception.top", token=place.token))
    return jsonify(redirect=None)
