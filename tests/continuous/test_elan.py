"""ELAN .eaf annotations: files written by pympi (ELAN's own format) and as ELAN writes them, cutting real landmarks.

No EAF XSD is available offline here (pympi ships none, and the schema's
address is on the web), so documents are checked for well-formedness and
for a round trip through pympi instead of schema validation.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slr_pose.cli import main
from slr_pose.continuous.annotations import read_annotations
from slr_pose.continuous.elan import eaf_events, read_eaf
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.continuous.segments import Timed, WindowSpec, segment_store
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore

pympi = pytest.importorskip("pympi")

SIGNS = 12  # signs in the recording lesson_a (tests/continuous/conftest.py), one per second


def run(*args):
    return CliRunner().invoke(main.cli, [str(a) for a in args])


def write_eaf(path: Path, tiers: dict, *, media: str | None = "file:///corpus/lesson_a.mp4", origin: int | None = None,
              translation: dict | None = None) -> Path:
    """An .eaf made by pympi: ``tiers`` name -> [(start_ms, end_ms, value)]; ``translation`` parent tier -> [(ms, text)]."""
    eaf = pympi.Eaf(author="slr-pose tests")
    eaf.adocument.update({"VERSION": "3.0", "FORMAT": "3.0",
                          "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})
    eaf.remove_tier("default")
    if media:
        eaf.add_linked_file(media, mimetype="video/mp4", time_origin=origin)
    for name, rows in tiers.items():
        eaf.add_tier(name)
        for a, b, v in rows:
            eaf.add_annotation(name, a, b, v)
    for parent, rows in (translation or {}).items():
        eaf.add_linguistic_type("translation", constraints="Symbolic_Association", timealignable=False)
        eaf.add_tier("Translation", ling="translation", parent=parent)
        for t, text in rows:
            eaf.add_ref_annotation("Translation", parent, t, text)
    eaf.to_file(str(path))
    return path


def lesson_tiers(labels: list[str]) -> dict:
    """Sign k during [k + 0.11, k + 0.89) s: even signs on the right hand, odd ones on the left, every third on both."""
    rh, lh = [], []
    for k, g in enumerate(labels):
        row = (1000 * k + 110, 1000 * k + 890, g)
        (rh if k % 2 == 0 else lh).append(row)
        if k % 3 == 0:  # two-handed: annotated on the other hand too, a little later and shorter
            (lh if k % 2 == 0 else rh).append((row[0] + 40, row[1] - 60, g))
    return {"RH-gloss": rh, "LH-gloss": lh, "Mouthing": [(0, 500, "mm")]}


# --------------------------------------------------------------------------- reading


def test_a_pympi_eaf_is_well_formed_and_reads_back(tmp_path):
    path = write_eaf(tmp_path / "a.eaf", {"Gloss": [(110, 890, "HELLO"), (1110, 1890, "THANKS")]},
                     translation={"Gloss": [(500, "hello"), (1500, "thank you")]})
    root = ET.parse(path).getroot()  # well-formed, ELAN's root and version
    assert root.tag == "ANNOTATION_DOCUMENT" and root.get("VERSION") == "3.0"
    assert [t.get("TIER_ID") for t in root.iter("TIER")] == ["Gloss", "Translation"]
    doc = read_eaf(path)
    assert doc.recording == "lesson_a" and doc.media == ("file:///corpus/lesson_a.mp4",)
    assert doc.tiers == {"Gloss": [(0.11, 0.89, "HELLO"), (1.11, 1.89, "THANKS")],
                         "Translation": [(0.11, 0.89, "hello"), (1.11, 1.89, "thank you")]}  # symbolic: the parent's times
    again = pympi.Eaf(str(path))  # the round trip through pympi itself
    assert sorted(again.get_annotation_data_for_tier("Gloss")) == [(110, 890, "HELLO"), (1110, 1890, "THANKS")]
    glosses, texts = eaf_events(doc, ["Gloss"], ["Translation"])
    assert glosses == [Timed("lesson_a", 0.11, 0.89, "HELLO"), Timed("lesson_a", 1.11, 1.89, "THANKS")]
    assert [t.value for t in texts] == ["hello", "thank you"]


ELAN_WRITTEN = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-05-02T10:00:00+01:00" FORMAT="3.0" VERSION="3.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">
    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
        <MEDIA_DESCRIPTOR MEDIA_URL="file:///C:/corpus/Lesson%2001.mp4" MIME_TYPE="video/mp4" RELATIVE_MEDIA_URL="./Lesson%2001.mp4" TIME_ORIGIN="2000"/>
        <MEDIA_DESCRIPTOR MEDIA_URL="file:///C:/corpus/Lesson%2001.wav" MIME_TYPE="audio/x-wav" EXTRACTED_FROM="file:///C:/corpus/Lesson%2001.mp4"/>
        <PROPERTY NAME="lastUsedAnnotationId">4</PROPERTY>
    </HEADER>
    <TIME_ORDER>
        <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="120"/>
        <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="870"/>
        <TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="1130"/>
        <TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="1850"/>
        <TIME_SLOT TIME_SLOT_ID="ts5"/>
    </TIME_ORDER>
    <TIER LINGUISTIC_TYPE_REF="gloss" PARTICIPANT="S1" TIER_ID="GlossR S1">
        <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
            <ANNOTATION_VALUE>ДОМ</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
        <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4">
            <ANNOTATION_VALUE>PT:PRO1</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="translation" PARENT_REF="GlossR S1" PARTICIPANT="S1" TIER_ID="Translation S1">
        <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a3" ANNOTATION_REF="a1">
            <ANNOTATION_VALUE>a house</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="gloss" TIER_ID="GlossL S1"/>
    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="gloss" TIME_ALIGNABLE="true"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="translation" TIME_ALIGNABLE="false"/>
    <CONSTRAINT DESCRIPTION="1-1 association with a parent annotation" STEREOTYPE="Symbolic_Association"/>
</ANNOTATION_DOCUMENT>
"""


def test_an_eaf_as_elan_writes_it(tmp_path):
    """Media offset, a URL-encoded Windows media path, a non-ASCII gloss, a symbolic translation tier, an empty tier."""
    path = tmp_path / "session.eaf"
    path.write_text(ELAN_WRITTEN, encoding="utf-8")
    doc = read_eaf(path)
    assert doc.recording == "Lesson 01" and doc.origin_ms == 2000  # the video's stem, not the extracted audio's
    glosses, texts = eaf_events(doc, ["GlossR S1", "GlossL S1"], ["Translation S1"])
    assert glosses == [Timed("Lesson 01", 2.12, 2.87, "ДОМ"), Timed("Lesson 01", 3.13, 3.85, "PT:PRO1")]
    assert texts == [Timed("Lesson 01", 2.12, 2.87, "a house")]
    assert eaf_events(doc, ["Gloss[RL] S1"])[0] == glosses  # a pattern over both hands
    assert read_eaf(path, recording="lesson_a").recording == "lesson_a"


def test_both_hands_are_merged_in_time_order(tmp_path):
    tiers = {"RH-gloss": [(100, 900, "HOUSE"), (2000, 2600, "BIG"), (3000, 3500, "IX")],
             "LH-gloss": [(150, 950, "HOUSE"),  # the same two-handed sign on the other hand: one sign
                          (2100, 2500, "PT"),  # another sign held by the other hand meanwhile: kept
                          (4000, 4400, "HOUSE")]}  # the same gloss again later: a second sign
    doc = read_eaf(write_eaf(tmp_path / "h.eaf", tiers))
    glosses, _ = eaf_events(doc)  # default: every tier with "gloss" in its name
    assert [(g.value, g.start, g.end) for g in glosses] == [
        ("HOUSE", 0.1, 0.95), ("BIG", 2.0, 2.6), ("PT", 2.1, 2.5), ("IX", 3.0, 3.5), ("HOUSE", 4.0, 4.4)]
    assert [g.value for g in eaf_events(doc, ["RH-gloss"])[0]] == ["HOUSE", "BIG", "IX"]


def test_recording_ids_and_time_origin(tmp_path):
    assert read_eaf(write_eaf(tmp_path / "a.eaf", {"G": [(0, 10, "A")]}, media=None)).recording == "a"
    doc = read_eaf(write_eaf(tmp_path / "b.eaf", {"G": [(100, 900, "A")]}, media="/data/rec%20two.mov", origin=-50))
    assert doc.recording == "rec two" and doc.tiers["G"] == [(0.05, 0.85, "A")]


# --------------------------------------------------------------------------- cutting recordings


def test_segment_with_an_eaf_holds_the_glosses_whose_midpoints_fall_in_each_window(lesson, tmp_path):
    path, rec, labels = lesson
    eaf = write_eaf(tmp_path / "lesson.eaf", lesson_tiers(labels),
                    translation={"RH-gloss": [(1000 * k + 500, f"line {k}") for k in range(0, SIGNS, 2)]})
    out = tmp_path / "windows.h5"
    r = run("segment", path, eaf, "-o", out, "--window", 5, "--gloss-tier", "RH-gloss", "--gloss-tier", "LH-gloss",
            "--transcript-tier", "Translation")
    assert r.exit_code == 0, r.output
    assert r.output == f"wrote 3 windows of 5 s from 1 recording to {out}: 12 glosses, 0 cut by a window edge\n"
    store = PoseStore(out)
    assert store.ids == ["lesson_a/0000", "lesson_a/0001", "lesson_a/0002"]
    for k in range(3):
        w = store.read(k)
        inside = [j for j in range(SIGNS) if 5 * k <= j + 0.5 < 5 * k + 5]  # sign j's midpoint is j + 0.5 s
        assert w.info.gloss_list == [labels[j] for j in inside]
        lo = 150 * k  # the window's first frame
        # sign j: [j + 0.11, j + 0.89) s (its other hand's annotation lies inside), frames 30 j + 4 .. 30 j + 26
        want = [(30 * j + 4 - lo, 30 * j + 27 - lo) for j in inside]
        assert parse_spans(w.info.gloss_spans, length=w.info.length) == want
        np.testing.assert_array_equal(w.xyz, rec.xyz[lo:lo + 150])
        assert w.info.transcript == " ".join(f"line {j}" for j in inside if j % 2 == 0)
        assert (w.info.signer, w.info.language, w.info.split) == ("msl-signer", "mfs", "train")


def test_an_eaf_and_the_same_csv_table_cut_alike(lesson, tmp_path):
    path, _, labels = lesson
    glosses, _ = read_annotations(write_eaf(tmp_path / "lesson.eaf", lesson_tiers(labels)), gloss_tiers=[".*-gloss"])
    table = tmp_path / "glosses.csv"
    table.write_text("video,start,end,gloss\n" + "".join(f"{g.video},{g.start},{g.end},{g.value}\n" for g in glosses))
    assert run("segment", path, tmp_path / "lesson.eaf", "-o", tmp_path / "e.h5", "--window", 4, "--gloss-tier", ".*-gloss").exit_code == 0
    assert run("segment", path, table, "-o", tmp_path / "c.h5", "--window", 4).exit_code == 0
    e, c = PoseStore(tmp_path / "e.h5"), PoseStore(tmp_path / "c.h5")
    assert [(i.id, i.glosses, i.gloss_spans) for i in e.infos()] == [(i.id, i.glosses, i.gloss_spans) for i in c.infos()]
    assert len(e) == 3 and sum(len(i.gloss_list) for i in e.infos()) == SIGNS


def test_whole_recordings_without_windows(lesson, tmp_path):
    path, rec, labels = lesson
    eaf = write_eaf(tmp_path / "lesson.eaf", lesson_tiers(labels))
    out = tmp_path / "whole.h5"
    r = run("segment", path, eaf, "-o", out, "--whole", "--gloss-tier", "RH-gloss|LH-gloss")
    assert r.exit_code == 0, r.output
    assert r.output == f"wrote 1 whole recording from 1 recording to {out}: 12 glosses, 0 cut by a window edge\n"
    store = PoseStore(out)
    w = store.read(0)
    assert store.ids == ["lesson_a"] and w.info.gloss_list == labels
    np.testing.assert_array_equal(w.xyz, rec.xyz)
    assert len(parse_spans(w.info.gloss_spans, length=len(rec.xyz), count=SIGNS)) == SIGNS
    assert json.loads(w.info.meta)["window"] == 0
    # the same through the library: a window longer than the recording gives the same sample under a window id
    segment_store(path, tmp_path / "long.h5", read_annotations(eaf, gloss_tiers=["RH-gloss|LH-gloss"])[0],
                  spec=WindowSpec(length=60.0))
    long = PoseStore(tmp_path / "long.h5")
    assert long.ids == ["lesson_a/0000"] and long.info(0).gloss_spans == w.info.gloss_spans


def test_a_folder_of_eafs_is_one_recording_each(lesson, tmp_path):
    path, _, labels = lesson
    folder = tmp_path / "eafs"
    folder.mkdir()
    write_eaf(folder / "a.eaf", lesson_tiers(labels))
    write_eaf(folder / "b.eaf", {"Gloss": [(100, 200, "X")]}, media="file:///corpus/lesson_b.mp4")
    glosses, _ = read_annotations(folder)
    assert {g.video for g in glosses} == {"lesson_a", "lesson_b"} and len(glosses) == SIGNS + 1
    write_eaf(folder / "c.eaf", {"Gloss": [(100, 200, "X")]})  # a second file for lesson_a
    with pytest.raises(SlrPoseError, match="both annotate recording 'lesson_a'"):
        read_annotations(folder)


# --------------------------------------------------------------------------- bad input


def test_bad_eafs_give_one_line_naming_file_and_tier(lesson, tmp_path):
    path, _, labels = lesson

    def error(content, *selectors, name="bad.eaf", texts=()) -> str:
        f = tmp_path / name
        f.write_bytes(content) if isinstance(content, bytes) else f.write_text(content, encoding="utf-8")
        with pytest.raises(SlrPoseError) as e:
            eaf_events(read_eaf(f), list(selectors) or ["Gloss"], list(texts))
        assert "\n" not in str(e.value) and str(f) in str(e.value)
        return str(e.value)

    assert "is not well-formed XML" in error("this is no xml")
    assert "is not well-formed XML" in error(ELAN_WRITTEN[:900])  # cut short
    assert "is not an ELAN .eaf file: its root element is <html>" in error("<html><body/></html>")
    assert "is not UTF-8 (byte 0xc4" in error(ELAN_WRITTEN.replace("ДОМ", "HOUSE").encode().replace(b"PT:PRO1", b"\xc4"))
    good = write_eaf(tmp_path / "good.eaf", {"Gloss": [(0, 100, "A")]}).read_text(encoding="utf-8")
    assert "no tier matches 'RH-.*' (tiers: 'Gloss')" in error(good, "RH-.*")
    assert "no tier matches 'Glosses'" in error(good, "Glosses")
    assert "not a valid pattern" in error(good, "Gloss(")
    overlapping = write_eaf(tmp_path / "o.eaf", {"Gloss": [(0, 600, "A"), (500, 900, "B")]}).read_text(encoding="utf-8")
    assert "tier 'Gloss': annotations 'A' (0-0.6 s) and 'B' (0.5-0.9 s) overlap" in error(overlapping)
    spaced = write_eaf(tmp_path / "s.eaf", {"Gloss": [(0, 600, "TWO WORDS")]}).read_text(encoding="utf-8")
    assert "tier 'Gloss': gloss 'TWO WORDS' at 0 s contains spaces" in error(spaced)
    unaligned = ELAN_WRITTEN.replace('TIME_SLOT_REF2="ts4"', 'TIME_SLOT_REF2="ts5"')
    assert "tier 'GlossR S1': annotation 'PT:PRO1' has a time slot without a time" in error(unaligned, "GlossR S1")
    assert "is chosen both as glosses and as transcript" in error(ELAN_WRITTEN, "GlossR S1", texts=["Gloss.*"])
    r = run("segment", path, tmp_path / "o.eaf", "-o", tmp_path / "x.h5")
    assert r.exit_code == 1 and len(r.output.splitlines()) == 1 and "overlap" in r.output
    table = tmp_path / "g.csv"
    table.write_text("video,start,end,gloss\nlesson_a,0,1,A\n")
    r = run("segment", path, table, "-o", tmp_path / "x.h5", "--gloss-tier", "Gloss")
    assert r.exit_code == 1 and "tiers and a recording id apply to .eaf and slan-tool files" in r.output


def test_without_pympi_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    path = write_eaf(tmp_path / "a.eaf", {"Gloss": [(0, 100, "A")]})
    monkeypatch.setitem(sys.modules, "pympi", None)  # import pympi now raises ImportError
    with pytest.raises(SlrPoseError, match=r'pip install "slr-pose\[elan\]"'):
        read_eaf(path)


def test_elan_tiers_lists_what_a_file_holds(tmp_path):
    path = tmp_path / "session.eaf"
    path.write_text(ELAN_WRITTEN, encoding="utf-8")
    r = run("elan", "tiers", path)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "recording Lesson 01",
        "GlossR S1\t2 annotations\t2.120 .. 3.850 s",
        "Translation S1\t1 annotation\t2.120 .. 2.870 s",
        "GlossL S1\t0 annotations\tempty",
    ]
