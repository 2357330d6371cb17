"""slan-tool exports, written here exactly as the tool's JavaScript writes them, cutting a recording of real landmarks.

The writers below transcribe the click handlers of ``exportTimeJson``,
``exportTimeXML`` and ``etfexport`` in krslproject/slan-tool
(``static/js/range.js``; the later ``staticfiles/js/range.js`` for the
JSON.stringify variant), applied to the tool's own state: ``ranges``, one
entry per row, each range a fraction of ``video.duration``. The gloss row
is the tool's own example (a Gloss row of a 10-second video, in its code).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from slr_pose.cli import main
from slr_pose.continuous.annotations import read_annotations
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.continuous.krsl import read_slan
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore

DURATION = 10.0  # video.duration, seconds
#: The Gloss row of the tool's example state: (range, value, id).
GLOSS = [
    ((0.06367924528301887, 0.11556603773584906), "я", "H35BKb"),
    ((0.2016509433962264, 0.32075471698113206), "извиняюсь", "vuB6Jq"),
    ((0.3761792452830189, 0.4257075471698113), "я", "G3Ie9i"),
    ((0.4481132075471698, 0.4882075471698113), "только", "DFtIlm"),
    ((0.5224056603773585, 0.6226415094339622), "начинаю", "bZMuLT"),
    ((0.6297169811320755, 0.6804245283018868), "учить", "4SFOoj"),
    ((0.7617924528301887, 0.8525943396226415), "жестовыйязык  ", "vzoAiV"),
]
HANDSHAPE = [((0.06132075471698113, 0.14150943396226415), "http://slan-tool.com/media/flathand15.png", "8uqaYu")]


def ranges(tier_ids=("Gloss", "Right hand")) -> dict:
    """The tool's ``ranges``: row id -> its ranges, type and (later version) name."""
    gloss_id, hand_id = tier_ids
    return {
        gloss_id: {"tier_type": "text", "tier_name": "Gloss",
                   "ranges": [{"range": list(r), "value": v, "id": i, "type": "text"} for r, v, i in GLOSS]},
        hand_id: {"tier_type": "handshape", "tier_name": "Right hand",
                  "ranges": [{"range": list(r), "value": v, "id": i, "type": "handshapes", "value_icon": "flathand"}
                             for r, v, i in HANDSHAPE]},
    }


def ms(fraction: float, scale: int = 1000) -> int:
    return math.floor(fraction * DURATION * scale)  # Math.floor((range * video.duration * 1000))


def export_time_json_v1(rs: dict) -> str:
    """static/js/range.js, exportTimeJson: string concatenation with single quotes."""
    out = "{'TIERS':["
    for key, row in rs.items():
        tier = "{'TIER' : {" + "'TIER_ID': '" + key + "'," + "'ANNOTATIONS': ["
        for r in row["ranges"]:
            tier += "{'ANNOTATION_ID': '" + r["id"] + "',"
            tier += "'BEGIN_TIME': '" + str(ms(r["range"][0])) + "',"
            tier += "'END_TIME': '" + str(ms(r["range"][1])) + "',"
            tier += "'VALUE': '" + r["value"] + "'},"
        tier += "]}},"
        out += tier
    return out + "]}"


def export_time_json_v2(rs: dict) -> str:
    """staticfiles/js/range.js, exportTimeJson: JSON.stringify of the same structure (undefined fields dropped)."""
    tiers = []
    for key, row in rs.items():
        annotations = []
        for r in row["ranges"]:
            a = {"ANNOTATION_ID": r["id"], "BEGIN_TIME": ms(r["range"][0]), "END_TIME": ms(r["range"][1]),
                 "VALUE": r["value"], "VALUE_ICON": r.get("value_icon"), "TYPE": row["tier_type"]}
            annotations.append({k: v for k, v in a.items() if v is not None})
        tiers.append({"TIER": {"TIER_ID": key, "TIER_TYPE": row["tier_type"], "TIER_NAME": row["tier_name"],
                               "ANNOTATIONS": annotations}})
    return json.dumps({"TIERS": tiers}, ensure_ascii=False, separators=(",", ":"))


def _serialise(root: ET.Element, declaration: bool) -> str:
    """XMLSerializer after prettifyXml (an XSLT identity with indent="yes")."""
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>' + text if declaration else text


def export_time_xml(rs: dict, declaration: bool = True) -> str:
    """exportTimeXML: TIER / ANNOTATION with BEGIN_TIME and END_TIME in ms, ANNOTATION_VALUE inside."""
    root = ET.Element("ANNOTATION_DOCUMENT")
    for key, row in rs.items():
        tier = ET.SubElement(root, "TIER", {"TIER_ID": key})
        for r in row["ranges"]:
            a = ET.SubElement(tier, "ANNOTATION", {"ANNOTATION_ID": r["id"], "BEGIN_TIME": str(ms(r["range"][0])),
                                                   "END_TIME": str(ms(r["range"][1]))})
            ET.SubElement(a, "ANNOTATION_VALUE").text = r["value"]
    return _serialise(root, declaration)


def export_eaf(rs: dict, declaration: bool = True) -> str:
    """etfexport: an EAF skeleton with TIME_VALUE = Math.floor(range * duration * 100), time order after the tiers."""
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "", "DATE": "2021-07-08T16:51:56+06:00", "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})
    header = ET.SubElement(root, "HEADER")
    ET.SubElement(header, "MEDIA_DESCRIPTOR", {"MEDIA_URL": "", "MIME_TYPE": "", "RELATIVE_MEDIA_URL": ""})
    order = ET.Element("TIME_ORDER")
    aid = ts = 0
    for key, row in rs.items():
        tier = ET.SubElement(root, "TIER", {"TIER_ID": key, "LINGUISTIC_TYPE_REF": "default-lt"})
        for r in row["ranges"]:
            for f in r["range"]:
                ts += 1
                ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{ts}", "TIME_VALUE": str(ms(f, 100))})
            aid += 1
            al = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), "ALIGNABLE_ANNOTATION",
                               {"ANNOTATION_ID": f"a{aid}", "TIME_SLOT_REF1": f"ts{ts - 1}", "TIME_SLOT_REF2": f"ts{ts}"})
            ET.SubElement(al, "ANNOTATION_VALUE").text = r["value"]
    root.append(order)
    ET.SubElement(root, "LINGUISTIC_TYPE", {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": "default-lt",
                                            "TIME_ALIGNABLE": "true"})
    return _serialise(root, declaration)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


EXPECTED = [(ms(a) / 1000, ms(b) / 1000, v) for (a, b), v, _ in GLOSS]


# --------------------------------------------------------------------------- reading


def test_the_first_time_json_is_no_json_but_is_read_safely(tmp_path):
    text = export_time_json_v1(ranges())
    assert text.startswith("{'TIERS':[{'TIER' : {'TIER_ID': 'Gloss','ANNOTATIONS': [{'ANNOTATION_ID': 'H35BKb','BEGIN_TIME': '636',")
    with pytest.raises(ValueError):
        json.loads(text)
    doc = read_slan(write(tmp_path / "lesson_a.json", text))
    assert doc.recording == "lesson_a" and list(doc.tiers) == ["Gloss", "Right hand"]
    assert doc.tiers["Gloss"] == EXPECTED
    assert doc.tiers["Gloss"][0] == (0.636, 1.155, "я")
    assert doc.tiers["Right hand"] == [(0.613, 1.415, "http://slan-tool.com/media/flathand15.png")]


def test_the_later_time_json_names_tiers_by_their_names(tmp_path):
    doc = read_slan(write(tmp_path / "project.json", export_time_json_v2(ranges(("k3Xa", "Qm9T")))), recording="lesson_a")
    assert doc.recording == "lesson_a" and list(doc.tiers) == ["Gloss", "Right hand"]  # TIER_NAME, not the row ids
    assert doc.tiers["Gloss"] == EXPECTED


def test_the_time_xml(tmp_path):
    for declaration in (True, False):
        doc = read_slan(write(tmp_path / "lesson_a.xml", export_time_xml(ranges(), declaration)))
        assert list(doc.tiers) == ["Gloss", "Right hand"] and doc.tiers["Gloss"] == EXPECTED


def test_the_eaf_export_is_in_centiseconds(tmp_path):
    path = write(tmp_path / "lesson_a.eaf", export_eaf(ranges()))
    doc = read_slan(path, "slan-eaf")
    assert doc.recording == "lesson_a"
    got = doc.tiers["Gloss"]
    assert [v for _, _, v in got] == [v for _, _, v in EXPECTED]
    assert all(abs(a - a0) < 0.01 and abs(b - b0) < 0.01 for (a, b, _), (a0, b0, _) in zip(got, EXPECTED))
    assert got[0][:2] == (0.63, 1.15)  # floor(0.0637 * 10 * 100) = 63 cs
    from slr_pose.continuous.elan import read_eaf

    assert read_eaf(path).tiers["Gloss"][0][:2] == (0.063, 0.115)  # read as ELAN's ms: ten times too early


# --------------------------------------------------------------------------- cutting a recording


@pytest.mark.parametrize("kind", ["slan-json", "slan-xml", "slan-eaf"])
def test_segment_with_a_slan_export(lesson, tmp_path, kind):
    path, rec, _ = lesson
    text = {"slan-json": export_time_json_v1, "slan-xml": export_time_xml, "slan-eaf": export_eaf}[kind](ranges())
    export = write(tmp_path / f"project{'.json' if kind == 'slan-json' else '.xml' if kind == 'slan-xml' else '.eaf'}", text)
    out = tmp_path / "w.h5"
    args = ["segment", path, export, "-o", out, "--window", 5, "--gloss-tier", "Gloss", "--recording", "lesson_a"]
    r = CliRunner().invoke(main.cli, [str(a) for a in args + (["--format", kind] if kind == "slan-eaf" else [])])
    assert r.exit_code == 0, r.output
    assert r.output == f"wrote 3 windows of 5 s from 1 recording to {out}: 7 glosses, 0 cut by a window edge\n"
    store = PoseStore(out)
    assert [store.info(i).glosses for i in range(3)] == ["я извиняюсь я только", "начинаю учить жестовыйязык", ""]
    w = store.info(0)  # я from 0.636 s: stored frames 20 (0.667 s) .. 34 (1.133 s)
    first = parse_spans(w.gloss_spans, length=w.length)[0]
    assert first == ((20, 35) if kind != "slan-eaf" else (19, 35))  # the EAF's 0.63 s reaches frame 19 (0.633 s)


def test_the_handshape_row_is_not_glosses_by_default(lesson, tmp_path):
    glosses, _ = read_annotations(write(tmp_path / "lesson_a.json", export_time_json_v1(ranges())))
    assert [g.value for g in glosses] == [v.strip() for _, v, _ in GLOSS]  # "Gloss" only; the URLs stay out


# --------------------------------------------------------------------------- bad input


def test_code_in_a_json_export_is_never_run(tmp_path):
    victim = tmp_path / "ran"
    payload = "{'TIERS': [open(" + repr(str(victim)) + ", 'w')]}"
    with pytest.raises(SlrPoseError, match="is not a slan-tool time-JSON export") as e:
        read_slan(write(tmp_path / "evil.json", payload))
    assert not victim.exists() and "\n" not in str(e.value)


def test_bad_exports_give_one_line(tmp_path):
    def error(name: str, text: str, kind: str | None = None) -> str:
        with pytest.raises(SlrPoseError) as e:
            read_slan(write(tmp_path / name, text), kind)
        assert "\n" not in str(e.value)
        return str(e.value)

    quoted = ranges()
    quoted["Gloss"]["ranges"][1]["value"] = "it's"  # the first writer does not escape it
    assert "is not a slan-tool time-JSON export" in error("q.json", export_time_json_v1(quoted))
    assert "has no TIERS list" in error("l.json", "[1, 2]")
    assert "BEGIN_TIME 'soon'" in error("t.json", export_time_json_v1(ranges()).replace("'636'", "'soon'", 1))
    assert "is not a slan-tool time-XML export: it is an ELAN .eaf" in error("e.xml", export_eaf(ranges()))
    assert "not well-formed XML" in error("c.xml", export_time_xml(ranges())[:300])
    (tmp_path / "b.json").write_bytes(export_time_json_v1(ranges()).encode("cp1251"))
    with pytest.raises(SlrPoseError, match="is not UTF-8"):
        read_slan(tmp_path / "b.json")
    assert "a slan-tool export is .json, .xml or .eaf" in error("x.txt", "")
    doc_json = write(tmp_path / "lesson_a.json", export_time_json_v1(ranges()))
    with pytest.raises(SlrPoseError, match="no tier matches 'GlossR'"):
        read_annotations(doc_json, gloss_tiers=["GlossR"])
    overlapping = ranges()
    overlapping["Gloss"]["ranges"][1]["range"] = [0.1, 0.3]
    with pytest.raises(SlrPoseError, match="tier 'Gloss': annotations 'я' .* and 'извиняюсь' .* overlap"):
        read_annotations(write(tmp_path / "lesson_a.json", export_time_json_v1(overlapping)), "slan-json")


def test_elan_tiers_reads_slan_exports(tmp_path):
    path = write(tmp_path / "lesson_a.json", export_time_json_v2(ranges(("k3Xa", "Qm9T"))))
    r = CliRunner().invoke(main.cli, ["elan", "tiers", str(path)])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["recording lesson_a", "Gloss\t7 annotations\t0.636 .. 8.525 s",
                                     "Right hand\t1 annotation\t0.613 .. 1.415 s"]
