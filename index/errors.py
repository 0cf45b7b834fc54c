"""Errors raised for bad input. Each names the file (and the line where it helps)."""

from __future__ import annotations


class TranscriptError(ValueError):
    """A source that cannot be ingested: the message says what to do next."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message

    def at(self, source: str) -> TranscriptError:
        """The same error, naming ``source`` if it does not name a file yet."""
        if self.source is None:
            self.source = source
            self.args = (str(self),)
        return self


class UnknownFormatError(TranscriptError):
    """No format we read fits the content. Named on the command line it fails the source; found
    while walking a folder (a README, a ``package.json``, cover art, audio, a PDF) the file is
    skipped with this note."""


class BinaryFileError(UnknownFormatError):
    """The bytes are no text at all (an image, audio, a PDF): no format reads them, not even one
    forced with ``--format``."""

    def __init__(self, *, source: str | None = None):
        super().__init__("binary file, not a transcript", source=source)
