"""The service's own landing page."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def index():
    return render_template("index.html")
