"""A reminder request as it is read: each part read is blanked where it stood,
so the others keep their places, and what was understood of the time is kept in the order it was
typed ("tomorrow [morning]" reads the part of the day before the day, and is said again, with
the answer to a question, as "tomorrow morning")."""

from __future__ import annotations

import re


class Reading:
    def __init__(self, text: str) -> None:
        self.text = text
        self._kept: list[tuple[int, str]] = []

    def search(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.text, re.IGNORECASE)

    def take(self, start: int, end: int, keep: bool = True) -> str:
        """Blank text[start:end] out and return it; kept unless `keep` is False."""
        said = self.text[start:end]
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        if keep:
            self.keep(start, said)
        return said

    def keep(self, start: int, said: str) -> None:
        """Keep what was taken from `start` after all (once it turned out sure)."""
        self._kept.append((start, said))

    def take_match(self, match: re.Match[str], keep: bool = True) -> str:
        return self.take(match.start(), match.end(), keep)

    @property
    def kept(self) -> str:
        return " ".join(said for _, said in sorted(self._kept))
