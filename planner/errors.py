"""User-facing input errors: one line naming the file, the line, the field and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=False)  # not frozen: Python and contextlib set __traceback__ on a raised error
class InputError(Exception):
    """Bad input the user can fix; the CLI prints `str(err)` and exits with code 2."""

    source: str
    message: str
    line: int | None = None
    field: str | None = None
    option: str | None = None  # the command-line option that set the field (`--set a.b=1`)

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.option:
            where = f"{where} {_shown(self.option)}:"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where} {what}"


def _shown(text: str, limit: int = 66) -> str:
    """A long option (a --set value of thousands of characters) cut for the one line."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
