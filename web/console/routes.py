"""Routes a module records with decorators and hands to a blueprint explicitly.

The console (/pharmacy/) is one blueprint, one URL prefix and one endpoint namespace
(`console.*`), served by several modules; the app factory names each module's routes
(`web.console.blueprint(...)`), so nothing depends on which module was imported first.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Blueprint

View = TypeVar("View", bound=Callable[..., Any])


class Routes:
    """Like a Blueprint's route decorators, but only recorded until `add_to(bp)`."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []

    def route(self, rule: str, **options: Any) -> Callable[[View], View]:
        def record(view: View) -> View:
            self._rules.append((rule, view, options))
            return view
        return record

    def get(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["POST"], **options)

    def add_to(self, bp: Blueprint) -> None:
        for rule, view, options in self._rules:
            bp.add_url_rule(rule, view_func=view, **options)
