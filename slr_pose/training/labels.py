"""Class lists per sign language, and grouping of visually similar signs.

Every sample carries a language tag; each language has its own classes (its
own head). A :class:`Grouping` (the VSSign table of Logos) maps glosses that
look alike to one group label, per language.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from slr_pose.errors import SlrPoseError
from slr_pose.outputs import atomic_path


@dataclass(frozen=True)
class LabelSpace:
    """``{language: class names}``; languages and classes in a fixed order.

    The order of ``classes`` is the order of the model's heads, and of the
    integer language ids a model takes.
    """

    classes: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_samples(cls, pairs: Iterable[tuple[str, str]]) -> "LabelSpace":
        """Sorted languages, each with its sorted labels, from ``(language, label)`` pairs."""
        found: dict[str, set[str]] = {}
        for lang, label in pairs:
            found.setdefault(lang, set()).add(label)
        return cls({lang: tuple(sorted(found[lang])) for lang in sorted(found)})

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.classes)

    @property
    def sizes(self) -> dict[str, int]:
        return {lang: len(c) for lang, c in self.classes.items()}

    def language_index(self, language: str) -> int:
        try:
            return self.languages.index(language)
        except ValueError:
            raise SlrPoseError(
                f"language {language!r} has no head in this model (it knows {', '.join(self.languages)})"
            ) from None

    def class_index(self, language: str, label: str) -> int:
        names = self.classes.get(language)
        if names is None:
            self.language_index(language)
        try:
            return names.index(label)
        except ValueError:
            raise SlrPoseError(f"label {label!r} is not a class of language {language!r}") from None

    def unknown(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The ``(language, label)`` pairs this space has no class for."""
        return sorted({(l, c) for l, c in pairs if c not in self.classes.get(l, ())})

    def to_json(self) -> dict:
        return {lang: list(c) for lang, c in self.classes.items()}

    @classmethod
    def from_json(cls, d: Mapping[str, list[str]]) -> "LabelSpace":
        return cls({lang: tuple(c) for lang, c in d.items()})


@dataclass(frozen=True)
class Grouping:
    """Gloss -> group label, per language (language ``""`` applies to every language).

    Table format (CSV with header): ``gloss,group`` and optionally
    ``language``. Glosses absent from the table keep their own label.
    """

    table: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "Grouping":
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as e:
            raise SlrPoseError(f"cannot read grouping table {path}: {e.strerror}") from None
        except (UnicodeDecodeError, csv.Error) as e:
            raise SlrPoseError(f"grouping table {path} is not UTF-8 CSV ({e})") from None
        if not rows or not {"gloss", "group"} <= set(rows[0]):
            raise SlrPoseError(f"grouping table {path} needs a header with columns gloss,group[,language]")
        table: dict[tuple[str, str], str] = {}
        for n, row in enumerate(rows, start=2):
            gloss, group = (row.get("gloss") or "").strip(), (row.get("group") or "").strip()
            if not gloss or not group:
                raise SlrPoseError(f"grouping table {path} line {n}: empty gloss or group")
            key = ((row.get("language") or "").strip(), gloss)
            if key in table and table[key] != group:
                raise SlrPoseError(f"grouping table {path} line {n}: gloss {gloss!r} is in two groups")
            table[key] = group
        return cls(table)

    def save(self, path: str | Path, scores: Mapping[tuple[str, str], float] | None = None) -> None:
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["language", "gloss", "group"] + (["confusion"] if scores else []))
            for (lang, gloss), group in sorted(self.table.items(), key=lambda kv: (kv[0][0], kv[1], kv[0][1])):
                extra = [f"{scores.get((lang, gloss), 0.0):.3f}"] if scores else []
                w.writerow([lang, gloss, group] + extra)

    def apply(self, language: str, label: str) -> str:
        return self.table.get((language, label), self.table.get(("", label), label))

    def is_grouped(self, language: str, label: str) -> bool:
        """True when ``label`` shares its group with another gloss (a VSSign)."""
        group = self.apply(language, label)
        members = [g for (lang, gloss), g in self.table.items() if g == group and lang in ("", language)]
        return len(members) > 1 or (group != label and len(members) >= 1)
