"""Who is signed in to the console, and the decorators that require it."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from consent.institutions import runs_function
from consent.staff_auth import StaffIdentity, load_identity
from consent.vocabulary import CONSOLE_TITLE_ANY
from web.db import db, reader


def current_staff() -> StaffIdentity | None:
    """The signed-in staff member; checked against the database on every request, so a
    disabled account stops working at once."""
    if "staff" not in g:
        staff_id = session.get("staff_id")
        identity = load_identity(reader(), staff_id) if isinstance(staff_id, int) else None
        if staff_id is not None and identity is None:
            session.clear()
        g.staff = identity
    return g.staff


def institution_of_request() -> int | None:
    """Whose clock a console page reads: the signed-in staff member's institution."""
    staff = current_staff()
    return staff.institution_id if staff is not None else None


def staff_institution_runs(function: str) -> bool:
    """Whether the signed-in staff member's institution has this function (環境設定) on: the
    console's menu shows only what runs."""
    staff = current_staff()
    return staff is not None and runs_function(reader(), staff.institution_id, function)


def console_title() -> str:
    """「薬局コンソール」 at a pharmacy, 「医療機関コンソール」 elsewhere, a neutral title before sign-in."""
    staff = current_staff()
    return staff.kind.console_title if staff is not None else CONSOLE_TITLE_ANY


def sign_in(identity: StaffIdentity) -> None:
    session.clear()
    session.rotate()  # a new session id at sign-in: no fixation
    session["staff_id"] = identity.staff_id
    g.staff = identity


def sign_out() -> None:
    session.clear()
    g.staff = None


def _in_reception_mode():
    """The tablet is in 「受付モード」 (web/patient/tablet.py): the console stays out of reach, back to the
    patient-facing start (leaving the mode needs the staff password)."""
    mode = session.get("tablet")
    if mode and current_staff() is not None:
        return redirect(url_for("reception.top", token=mode["token"]), code=303)
    return None


def reception_mode_redirect():
    """For staff pages outside the decorators below (sign-in, sign-out, OAuth approval): the way
    back to the reception start while the browser is in 「受付モード」, else None."""
    return _in_reception_mode()


def staff_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        staff = current_staff()
        if (back := _in_reception_mode()) is not None:
            return back
        if staff is None:
            return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))
        if staff.must_change_password and request.endpoint != "console.change_password":
            # A one-time password from an operator opens nothing but the change form.
            return redirect(url_for("console.change_password"))
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        staff = current_staff()
        if (back := _in_reception_mode()) is not None:
            return back
        if staff is None:
            return redirect(url_for("console.login"))
        if staff.must_change_password:
            return redirect(url_for("console.change_password"))
        if not staff.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
