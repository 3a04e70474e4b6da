"""Staff passkeys in the console: add one while signed in, sign in with it from the login page."""
from __future__ import annotations

import base64

from flask import jsonify, render_template, session, url_for

from consent.staff_auth import load_identity
from consent.staff_passkeys import (
    PasskeyError, finish_registration, finish_signin, passkeys_of, registration_options, signin_options,
)
from web.context import browser_binding, client_address, enforce_rate_limits, now, relying_party
from web.db import db
from web.jsonio import json_object
from web.console.routes import Routes
from web.staff_session import current_staff, sign_in, staff_required

routes = Routes()


def _credential() -> dict:
    credential = json_object(required=True).get("credential")
    if not isinstance(credential, dict):
        raise PasskeyError("malformed")
    return credential


@routes.get("/passkeys")
@staff_required
def passkeys():
    staff = current_staff()
    return render_template("console/passkeys.html", staff=staff, passkeys=passkeys_of(db(), staff.staff_id),
                           added=session.pop("passkey_added", False))


@routes.post("/passkeys/options")
@staff_required
def passkey_register_options():
    staff = current_staff()
    options, handle = registration_options(db(), relying_party(), staff_id=staff.staff_id, login_id=staff.login_id,
                                           display_name=staff.display_name, binding=browser_binding(), now=now())
    db().commit()
    session["passkey_user_handle"] = base64.urlsafe_b64encode(handle).decode()
    return jsonify(options)


@routes.post("/passkeys/verify")
@staff_required
def passkey_register_verify():
    staff = current_staff()
    credential = _credential()
    handle = base64.urlsafe_b64decode(session.pop("passkey_user_handle", "") or "")
    finish_registration(db(), relying_party(), staff_id=staff.staff_id, credential=credential,
                        binding=browser_binding(), user_handle=handle, now=now())
    db().commit()
    session["passkey_added"] = True
    return jsonify(redirect=url_for("console.passkeys"))


@routes.post("/login/passkey/options")
def passkey_signin_options():
    enforce_rate_limits([("passkey-options:ip", client_address(), 300)])
    options = signin_options(db(), relying_party(), binding=browser_binding(), now=now())
    db().commit()
    return jsonify(options)


@routes.post("/login/passkey/verify")
def passkey_signin_verify():
    enforce_rate_limits([("passkey-verify:session", browser_binding(), 10), ("passkey-verify:ip", client_address(), 300)])
    staff_id = finish_signin(db(), relying_party(), credential=_credential(), binding=browser_binding(), now=now())
    identity = load_identity(db(), staff_id)
    if identity is None:
        raise PasskeyError("disabled")
    db().commit()
    sign_in(identity)
    return jsonify(redirect=url_for("console.patients"))
