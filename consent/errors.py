"""Domain errors: a stable code for programs and a Japanese message for people."""
from __future__ import annotations


class ConsentError(Exception):
    """A consent request that cannot be honoured. `code` is stable; `message` is shown to people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConsentNotFound(ConsentError):
    """No such consent at this institution (another institution's counts as none)."""

    def __init__(self) -> None:
        super().__init__("not_found", "同意が見つかりません。")
