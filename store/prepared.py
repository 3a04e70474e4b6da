"""Statements compiled once per dialect and run on the DBAPI cursor directly.

Why: `decide` runs on every read and must stay cheap (bench aim: over 5,000 decisions/s in process).
SQLAlchemy's per-execution machinery costs about 25 µs a statement on SQLite, several times the
database's own work, and a decision needs four. Only the executing is bypassed: the SQL text comes
from SQLAlchemy's compiler and every value goes through the columns' own bind and result
processors (UTCDateTime, CategoryList, dates), so what is written and read matches the ORM exactly.
Use it for fixed hot-path statements only; everything else goes through the ORM or Core.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]
    positional: tuple[str, ...] | None
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[Callable[[Any], Any] | None, ...] | None


class Prepared:
    """A Core statement (select, insert or update with bind parameters) ready to run fast."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    @property
    def statement(self) -> ClauseElement:
        """The Core statement itself (tests run it through `conn.execute` to compare)."""
        return self._statement

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        bind_processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                bind_processors[name] = processor
        result_processors = None
        if getattr(self._statement, "is_select", False):
            result_processors = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._statement.selected_columns
            )
        positional = tuple(compiled.positiontup) if dialect.positional else None
        # Values fixed in the statement itself (e.g. LIMIT 1) travel as parameters too.
        defaults = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}
        entry = _Compiled(compiled.string, defaults, positional, bind_processors, result_processors)
        self._by_dialect[dialect.name] = entry
        return entry

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple] | None:
        """Run on `conn`'s DBAPI connection, inside its current transaction.

        Returns the processed rows of a select, None otherwise.
        """
        c = self._by_dialect.get(conn.dialect.name) or self._compile(conn.dialect)
        values = {**c.defaults, **params}
        for name, processor in c.bind_processors.items():
            if name in values:
                values[name] = processor(values[name])
        arguments = tuple(values[name] for name in c.positional) if c.positional is not None else values
        cursor = conn.connection.cursor()
        try:
            cursor.execute(c.sql, arguments)
            if c.result_processors is None:
                return None
            processors = c.result_processors
            return [
                tuple(p(v) if p is not None else v for p, v in zip(processors, row))
                for row in cursor.fetchall()
            ]
        finally:
            cursor.close()
