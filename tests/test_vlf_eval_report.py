"""uoisc-vlf-eval's reading of a sweep: issue 6's reference points and the Markdown tables."""

import json
import os

from gnuradio.uoisc.apps import vlf_eval_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISSUE6 = os.path.join(ROOT, "results", "rayleigh-zeroshot-n200", "results.json")


def _point(system, kind, esno_db, text=None, image=None, payload=40.0):
    link = {"payload_bytes": int(payload), "channel_symbols_per_image": 1368, "mean_payload_bytes": payload,
            "mean_channel_symbols_per_image": 1368.0, "n_lost": 0, "codeword_failure_rate": 0.0}
    return {"config": {"system": system, "kind": kind, "fading": "rayleigh", "split": "test_zeroshot",
                       "esno_db": esno_db}, "text": text, "image": image, "link": link}


def test_reference_points_take_issue6_points_at_the_wanted_settings_only(tmp_path):
    """issue 6's uoisc point at (Rayleigh, test_zeroshot, 10 dB) comes back renamed '[issue 6]' with its
    metrics and link as they are stored; other Es/N0 and systems are left out; a missing file is skipped."""
    wanted = {("rayleigh", "test_zeroshot", 10.0)}
    (point,) = vlf_eval_report.reference_points([str(tmp_path / "missing.json"), ISSUE6], ["uoisc"], wanted)
    stored = next(p for p in json.loads(open(ISSUE6, encoding="utf-8").read())["points"]
                  if p["config"]["system"] == "uoisc" and p["config"]["esno_db"] == 10.0)
    assert point["config"]["system"] == "uoisc" + vlf_eval_report.REFERENCE_SUFFIX
    assert point["image"] == stored["metrics"] and point["link"] == stored["link"] and point["text"] is None
    assert point["source"] == ISSUE6


def test_tables_give_each_system_only_the_modalities_it_has():
    """A text-only system has rows in the text tables and none in the image tables, an image-only one the
    reverse; the bits table averages the mean payload over a system's points."""
    text = {key: 0.5 for key in ("object", "colour", "shape", "size", "position", "count", "background", "exact")}
    image = {"answer_match_rate": 0.25, "answer_match_rate_received": 0.25, "relevance_loss": 0.1}
    points = [_point("caption-utf8", "text", 0.0, text=text, payload=100.0),
              _point("caption-utf8", "text", 5.0, text=text, payload=120.0),
              _point("jpeg2000@208", "image", 0.0, image=image, payload=216.0)]
    tables = vlf_eval_report.markdown_tables(points)
    text_part, rest = tables.split("**image: answer match rate (judge", 1)
    image_part = rest.split("**frames lost**", 1)[0]
    assert "| caption-utf8 | 0.500 | 0.500 |" in text_part and "jpeg2000@208" not in text_part
    assert "| jpeg2000@208 | 0.250 | – |" in image_part and "caption-utf8" not in image_part
    assert "| caption-utf8 | 110.0 | 880 | 1368 |" in tables
