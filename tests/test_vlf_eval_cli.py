"""uoisc-vlf-eval end to end on a tiny slice: the real PHY, the shipped VLF bundle, schema and resume."""

import json
import os

import numpy as np
import pytest

from gnuradio.uoisc.apps import (eval_link, eval_pairs, eval_store, semantic_link, vlf_eval_link, vlf_eval_metrics,
                                 vlf_eval_store, vlf_evaluate)
from uoisc_runtime import VlfCodec

from eval_helpers import assert_rerun_loads_stored_points

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "models", "uoisc-tiny-judge")
VLF_BUNDLE = os.path.join(ROOT, "models", "uoisc-tiny-vlf")


def cli(out_dir, *extra):
    return ["--systems", "vlf", "caption-utf8@vlf", "-n", "2", "--esno-db", "25", "--fading", "awgn",
            "--out", str(out_dir), "--models-root", ROOT, "--judge", JUDGE, "--steps", "2",
            "--log-level", "error", *extra]


def test_captions_over_a_25_db_awgn_link_score_one_against_themselves():
    """Ground-truth captions sent as UTF-8 through the PHY at 25 dB AWGN (far above the rate-1/2
    8-PSK threshold of about 3.5 dB) all arrive with every codeword CRC passing, and score 1.0 on
    every text metric; the link reports their mean size and burst length."""
    captions = vlf_eval_metrics.reference_captions(eval_pairs.make_pairs("test_seen", 3), "test_seen")
    received, link = vlf_eval_link.transmit_captions(captions, 0, "awgn", 25.0, eval_link.LinkSettings())
    assert received == captions
    summary = vlf_eval_metrics.summarize_captions(vlf_eval_metrics.score_captions(captions, received))
    assert all(summary[key] == 1.0 for key in vlf_eval_metrics.TEXT_METRICS)
    assert link["n_lost"] == 0 and link["codewords_failed"] == 0 and link["decode_status"] == {"ok": 3}
    sizes = [len(c.encode("utf-8")) for c in captions]
    assert link["mean_payload_bytes"] == pytest.approx(sum(sizes) / 3)
    assert link["payload_bytes"] == max(sizes)
    assert link["channel_symbols_per_image"] == semantic_link.burst_symbols(max(sizes))


def test_cli_runs_vlf_and_text_points_through_the_phy_and_resumes(tmp_path, capsys):
    """Two scenes of VLF and of the caption cut at the VLF frame's bytes through the PHY at 25 dB:
    results.json passes its schema, VLF has text and image scores, the text baseline text only;
    both use the VLF frame's bytes and the PHY's burst length for them; one chance-level row per
    (fading, split, Es/N0) scores both modalities; tables, plots and the
    example grid with its captions are written; a rerun loads both points."""
    assert vlf_evaluate.main(cli(tmp_path)) == 0
    results = json.loads((tmp_path / vlf_eval_store.RESULTS_FILE).read_text())
    vlf_eval_store.check_results(results)
    by_system = {p["config"]["system"]: p for p in results["points"]}
    payload = VlfCodec.from_path(VLF_BUNDLE, providers=["CPUExecutionProvider"]).payload_bytes
    vlf, text = by_system["vlf"], by_system["caption-utf8@vlf"]
    assert vlf["text"]["n_pairs"] == vlf["image"]["n_pairs"] == 2 and text["image"] is None
    assert text["config"]["max_bytes"] == payload
    (chance,) = results["chance_points"]
    assert chance["config"]["system"] == vlf_evaluate.CHANCE and chance["config"]["esno_db"] == 25.0
    assert chance["text"]["n_pairs"] == chance["image"]["n_pairs"] == 2
    for point in (vlf, text):
        assert point["link"]["n_received"] + point["link"]["n_lost"] == 2
        assert point["link"]["payload_bytes"] == payload
        assert point["link"]["channel_symbols_per_image"] == semantic_link.burst_symbols(payload)
    for name in ("tables.md", "text_object_vs_esno.png", "image_amr_vs_esno.png", "examples_awgn_test_zeroshot.png",
                 "examples_awgn_test_zeroshot.md"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert_rerun_loads_stored_points(vlf_evaluate.main, cli(tmp_path), eval_store.point_path(tmp_path, vlf["config"]), 2,
                                     capsys)


@pytest.mark.parametrize("bad", [["--systems", "caption-utf8@none"], ["--systems", "nonsense"], ["-n", "0"],
                                 ["--systems", "vlf", "vlf"], ["--steps", "0"]])
def test_cli_refuses_bad_arguments(tmp_path, bad):
    """An unknown system, a caption budget that is not a byte count, a system listed twice, -n 0
    or --steps 0 exit with a usage error (status 2) before anything runs."""
    with pytest.raises(SystemExit) as exit_info:
        vlf_evaluate.main(["--out", str(tmp_path), "--models-root", ROOT, *bad])
    assert exit_info.value.code == 2
    assert not (tmp_path / eval_store.POINTS_DIR).exists()


def test_check_point_refuses_metrics_a_system_cannot_have(tmp_path):
    """A stored point of a text-only system with image metrics, or with a rate above 1, breaks the
    schema with a ValueError naming the field."""
    point = json.loads(next(_one_text_point(tmp_path).glob("*.json")).read_text())
    vlf_eval_store.check_point(point)
    with pytest.raises(ValueError, match="image metrics"):
        vlf_eval_store.check_point({**point, "image": {"answer_match_rate": 0.5}})
    with pytest.raises(ValueError, match="colour"):
        vlf_eval_store.check_point({**point, "text": {**point["text"], "colour": 1.5}})


def _one_text_point(tmp_path):
    """Points folder of a one-scene caption-utf8 sweep (fast: no codec, no judge)."""
    argv = ["--systems", "caption-utf8", "-n", "1", "--esno-db", "25", "--fading", "awgn", "--out",
            str(tmp_path), "--models-root", ROOT, "--log-level", "error"]
    assert vlf_evaluate.main(argv) == 0
    return tmp_path / eval_store.POINTS_DIR


def test_a_delivered_vlf_frame_is_labelled_by_its_crcs_and_a_short_one_is_refused(caplog):
    """A frame whose codeword passed its CRC decodes "ok"; the same bytes with the codeword failed
    decode with an untrusted header and every index erased; a frame cut short is refused (logged,
    no result) instead of raising."""
    codec = VlfCodec.from_path(VLF_BUNDLE, providers=["CPUExecutionProvider"])
    frame = np.frombuffer(codec.encode(eval_pairs.make_pairs("test_seen", 1)[0].image), dtype=np.uint8)
    meta = {"seq": 0, "cw_crc_ok": np.array([True]), "cw_data_bytes": 108}
    received, status = vlf_eval_link.receive_frame(codec, meta, frame)
    assert status == "ok" and received.n_erased == 0
    received, status = vlf_eval_link.receive_frame(codec, {**meta, "cw_crc_ok": np.array([False])}, frame)
    assert status == "untrusted_header" and received.n_erased == codec.n_indices
    received, status = vlf_eval_link.receive_frame(codec, meta, frame[:-1])
    assert (received, status) == (None, vlf_eval_link.REFUSED)
    assert "refused" in caplog.text
