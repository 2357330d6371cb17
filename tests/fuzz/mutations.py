"""Damage to real files, drawn by hypothesis: edits to bytes, lines and fields, arrays and nested values.

Strategies here draw *edits*, not files: ``apply_*`` carries them out on a
seed (a real valid file, see :mod:`tests.fuzz.seeds`) when a check runs.
Starting from a valid file keeps most mutants close enough to the format to
reach the deep parsing code, where a random blob stops at the magic bytes;
drawing edits keeps the strategies independent of the seeds, which are made
only when first needed. Positions and indices are taken modulo the seed's
size.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def weighted(*options: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, drawn in proportion to its weight."""
    table = [strategy for weight, strategy in options for _ in range(weight)]
    return st.sampled_from(range(len(table))).flatmap(table.__getitem__)


#: Numbers a file may hold where a sane value was expected.
ODD_NUMBERS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, -1.0, 0.0, 1e-320, -1, 0, 2**63, -(2**63) - 1]),
    st.floats(),
    st.integers(-(2**63), 2**63 - 1),
)

#: Field values that break parsers: non-numbers, NaN, infinities, huge, negative, empty, odd unicode.
ODD_TEXT = weighted(
    (3, st.sampled_from([
        "", " ", "nan", "NaN", "inf", "-inf", "1e309", "-1", "0", "-0", "1.79769e+308", "99999999999999999999", "-99",
        "1e-320", "0x10", "1_000", "²", "٣", "None", "null", "<s>", "</s>", "\\data\\", '"', "a,b", "a|b", "\t", "/", ".",
        "..", "\x00", "\u2028",
    ])),
    (3, ODD_NUMBERS.map(str)),
    (1, st.text(max_size=12)),
)  # fmt: skip

_POS = st.integers(0, 1 << 24)

BYTE_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), _POS, st.integers(1, 255)),
        st.tuples(st.just("cut"), _POS),
        st.tuples(st.just("insert"), _POS, st.binary(min_size=1, max_size=16)),
        st.tuples(st.just("delete"), _POS, st.integers(1, 256)),
        st.tuples(st.just("repeat"), _POS, st.integers(1, 256)),
        st.tuples(st.just("nest"), _POS, st.sampled_from([b"[", b"{", b"(", b"- ", b'{"a":', b"a: "]), st.integers(1, 5000)),
    ),
    max_size=4,
)


def apply_bytes(seed: bytes, edits) -> bytes:
    """``seed`` after byte flips, truncation, insertion, deletion, repetition and deep nesting."""
    b = bytearray(seed)
    for kind, at, *arg in edits:
        at %= len(b) + 1
        if kind == "flip" and at < len(b):
            b[at] ^= arg[0]
        elif kind == "cut":
            del b[at:]
        elif kind == "insert":
            b[at:at] = arg[0]
        elif kind == "delete":
            del b[at : at + arg[0]]
        elif kind == "repeat":
            b[at:at] = b[at : at + arg[0]]
        elif kind == "nest":  # deep nesting for recursive parsers (YAML, JSON, pickle)
            b[at:at] = arg[0] * arg[1]
    return bytes(b)


LINE_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("line"), _POS, st.text(max_size=40)),
        st.tuples(st.just("drop"), _POS),
        st.tuples(st.just("repeat"), _POS),
        st.tuples(st.just("field"), _POS, st.integers(0, 12), ODD_TEXT),
        st.tuples(st.just("column"), st.integers(0, 12), ODD_TEXT),
        st.tuples(st.just("unfield"), _POS, st.integers(0, 12)),
    ),
    max_size=3,
)


def apply_lines(text: str, sep: str | None, edits) -> str:
    """``text`` with lines replaced, dropped or repeated, and fields (split on ``sep``, whitespace for
    None; the index taken modulo the line's fields) replaced in one row or down a whole column, or removed."""
    lines = text.splitlines()
    join = " " if sep is None else sep

    def set_field(i: int, j: int, value: str | None) -> None:
        fields = lines[i].split(sep)
        if fields:
            if value is None:
                del fields[j % len(fields)]
            else:
                fields[j % len(fields)] = value
            lines[i] = join.join(fields)

    for kind, *arg in edits:
        if not lines:
            break
        row = arg[0] % len(lines)
        if kind == "line":
            lines[row] = arg[1]
        elif kind == "drop":
            del lines[row]
        elif kind == "repeat":
            lines.insert(row, lines[row])
        elif kind == "field":
            set_field(row, arg[1], arg[2])
        elif kind == "column":  # below the first line, which may be a header
            for i in range(1, len(lines)):
                set_field(i, arg[0], arg[1])
        elif kind == "unfield":
            set_field(row, arg[1], None)
    return "".join(line + "\n" for line in lines)


#: How a file is damaged: edited bytes; edited lines then bytes (text files); random bytes;
#: or ``("folder",)``, a folder where the file should be.
BINARY_DAMAGE = weighted(
    (8, st.tuples(st.just("bytes"), BYTE_EDITS)),
    (1, st.tuples(st.just("random"), st.binary(max_size=64))),
    (1, st.just(("folder",))),
)
TEXT_DAMAGE = weighted(
    (4, st.tuples(st.just("text"), LINE_EDITS, BYTE_EDITS.map(lambda e: e[:1]))),
    (4, st.tuples(st.just("text"), LINE_EDITS, st.just([]))),
    (3, BINARY_DAMAGE),
)


def apply_damage(seed: bytes, damage, sep: str | None = None) -> bytes | None:
    """The damaged file's bytes, or None for a folder in its place."""
    kind, *arg = damage
    if kind == "folder":
        return None
    if kind == "random":
        return arg[0]
    if kind == "text":
        seed = apply_lines(seed.decode("utf-8"), sep, arg[0]).encode("utf-8")
        return apply_bytes(seed, arg[1])
    return apply_bytes(seed, arg[0])


# --------------------------------------------------------------------------- arrays

ARRAYS = hnp.arrays(
    dtype=st.one_of(hnp.scalar_dtypes(), hnp.unicode_string_dtypes(max_len=4), hnp.byte_string_dtypes(max_len=4)),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
)
DTYPES = ("float16", "float32", "int8", "uint8", "int64", "bool", "complex64", "U3", "S3", "object", "datetime64[s]")


def array_edits(names: list[str]) -> st.SearchStrategy:
    """Edits to a dict of named arrays: drop, replace, retype, poke one value, slice an axis, rename."""
    name = st.sampled_from(names)
    return st.lists(
        st.one_of(
            st.tuples(st.just("drop"), name),
            st.tuples(st.just("replace"), st.sampled_from([*names, "extra"]), ARRAYS),
            st.tuples(st.just("retype"), name, st.sampled_from(DTYPES)),
            st.tuples(st.just("poke"), name, _POS, st.one_of(ODD_NUMBERS, ODD_TEXT)),
            st.tuples(st.just("slice"), name, st.integers(0, 3), st.integers(0, 4), st.integers(0, 12)),
            st.tuples(st.just("rename"), name, ODD_TEXT),
        ),
        min_size=1,
        max_size=3,
    )


def apply_arrays(seed: dict[str, np.ndarray], edits) -> dict[str, np.ndarray]:
    out = dict(seed)
    for kind, key, *arg in edits:
        if kind == "replace":
            out[key] = arg[0]
        if key not in out:
            continue
        a = out[key]
        # casts that overflow or drop an imaginary part are the point here, not a warning
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "drop":
                del out[key]
            elif kind == "rename":
                out[arg[0]] = out.pop(key)
            elif kind == "retype":
                try:
                    out[key] = a.astype(arg[0])
                except (TypeError, ValueError, RuntimeError):  # e.g. text that is no date
                    pass
            elif kind == "poke" and a.size:
                a = a.copy()
                try:
                    a.flat[arg[0] % a.size] = arg[1]
                except (TypeError, ValueError, OverflowError):
                    continue
                out[key] = a
            elif kind == "slice" and arg[0] < a.ndim:
                out[key] = a.take(range(arg[1], min(arg[2], a.shape[arg[0]])), axis=arg[0])
    return out


# --------------------------------------------------------------------------- nested values (YAML, JSON, pickles)


def nested(max_leaves: int = 6) -> st.SearchStrategy:
    """YAML/JSON-like values of every type, nested."""
    leaves = st.one_of(st.none(), st.booleans(), ODD_NUMBERS, ODD_TEXT)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ODD_TEXT, inner, max_size=3)),
        max_leaves=max_leaves,
    )


def tree_edits(paths: list[str], own: bool = True) -> st.SearchStrategy:
    """Edits to a nested dict: set a dotted path (``data.stores.0.path``) to a drawn value, delete it,
    or replace the whole tree. Paths are drawn from ``paths``, at random, and with ``own`` from the
    tree itself (an index into its own paths)."""
    values = nested()
    path = st.one_of(st.sampled_from(paths), st.lists(ODD_TEXT, min_size=1, max_size=3).map(".".join))
    if own:
        path = st.one_of(path, _POS)
    edit = weighted(
        (6, st.tuples(st.just("set"), path, values)),
        (3, st.tuples(st.just("delete"), path)),
        (1, st.tuples(st.just("root"), values)),
    )
    return st.lists(edit, min_size=1, max_size=3)


def copy_tree(value):
    """A copy of the dicts and lists of ``value``, sharing everything else (tensors are never edited)."""
    if isinstance(value, dict):
        return {k: copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_tree(v) for v in value]
    return value


def apply_tree(seed, edits):
    root = copy_tree(seed)
    for kind, *arg in edits:
        if kind == "root":
            root = arg[0]
            continue
        path = arg[0]
        if isinstance(path, int):
            own = list(_paths(root))
            path = own[path % len(own)] if own else ""
        *parents, last = path.split(".")
        node = root
        for part in parents:
            node = _child(node, part, create=True)
            if node is None:
                break
        if node is None:
            continue
        if isinstance(node, list):
            if not last.isdecimal() or int(last) >= len(node):
                continue
            last = int(last)
        elif not isinstance(node, dict):
            continue
        if kind == "delete":
            node.pop(last, None) if isinstance(node, dict) else node.pop(last)
        else:
            node[last] = arg[1]
    return root


def _paths(node, prefix: str = ""):
    """Dotted paths of every dict entry and list item in a tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield f"{prefix}{k}"
        yield from _paths(v, f"{prefix}{k}.")


def _child(node, part: str, create: bool):
    if isinstance(node, list):
        return node[int(part)] if part.isdecimal() and int(part) < len(node) else None
    if not isinstance(node, dict):
        return None
    if not isinstance(node.get(part), (dict, list)) and create:
        node[part] = {}
    return node[part]
