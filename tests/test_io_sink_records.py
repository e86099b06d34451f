"""image_sink's bookkeeping: PSNR, matching by seq, bounded pending references, JSON lines, PNGs."""

import json
import math

import numpy as np
import pytest

from gnuradio.uoisc.io.images import read_image
from gnuradio.uoisc.io.sink_records import (ImageRecorder, PendingReferences, json_safe, psnr_db,
                                            safe_name)


def img(value, shape=(4, 4, 3)):
    return np.full(shape, value, np.uint8)


def lines(recorder):
    return [json.loads(line) for line in recorder.records_path.read_text().splitlines()]


def test_psnr_from_theory():
    """Identical images: inf; a uniform error of 1 level: 20·log10(255) dB; shapes must agree."""
    assert psnr_db(img(3), img(3)) == math.inf
    assert psnr_db(img(3), img(4)) == pytest.approx(20 * math.log10(255))
    with pytest.raises(ValueError, match="shape"):
        psnr_db(img(0), img(0, (2, 2, 3)))


def test_json_safe_converts_what_pmt_gives():
    """numpy arrays/scalars, complex, bytes and non-finite floats become plain JSON values."""
    value = {"a": np.array([1, 2], np.uint8), "h": 1 + 2j, "c": np.complex64(1j), "b": b"\x01\xff",
             "f": float("inf"), "n": np.float32(0.5), 3: (1, 2)}
    assert json_safe(value) == {"a": [1, 2], "h": [1.0, 2.0], "c": [0.0, 1.0], "b": "01ff",
                                "f": None, "n": 0.5, "3": [1, 2]}
    json.dumps(json_safe(value), allow_nan=False)


def test_safe_name():
    """Anything but letters, digits, _ and - becomes _, so ids cannot escape out_dir."""
    assert safe_name("../a b.png") == "_a_b_png"
    assert safe_name("") == "unknown"


def test_pending_references_bounded_oldest_evicted():
    """Past capacity the oldest reference is evicted; a repeated seq replaces the waiting one."""
    pending = PendingReferences(capacity=2)
    assert pending.add(1, img(1), {"image_id": "a"}) == []
    assert pending.add(2, img(2), {"image_id": "b"}) == []
    assert pending.add(3, img(3), {"image_id": "c"}) == [(1, {"image_id": "a"}, "evicted")]
    assert pending.add(3, img(3), {"image_id": "d"}) == [(3, {"image_id": "c"}, "replaced")]
    assert pending.seqs() == [2, 3]
    assert pending.pop(2)[1] == {"image_id": "b"} and pending.pop(2) is None
    assert pending.drain() == [(3, {"image_id": "d"})] and len(pending) == 0
    with pytest.raises(ValueError, match="capacity"):
        PendingReferences(0)


def test_matched_reconstruction(tmp_path):
    """A reconstruction whose seq matches a reference: rx and tx PNGs with the exact pixels, and a
    JSON line with the reference's id/query, the MSE and the PSNR."""
    rec = ImageRecorder(tmp_path)
    rec.add_reference({"seq": 5, "image_id": "cat.png", "query": "What colour?"}, img(10))
    (record,) = rec.add_reconstruction({"seq": 5, "snr_est_db": np.float32(9.5)}, img(12))
    rec.finish()
    (line,) = lines(rec)
    assert line["event"] == "received" and line["matched"] is True
    assert (line["image_id"], line["query"], line["seq"]) == ("cat.png", "What colour?", 5)
    assert line["mse"] == 4.0 and line["psnr_db"] == pytest.approx(10 * math.log10(255 ** 2 / 4))
    assert line["meta"]["snr_est_db"] == 9.5 and line["reference_meta"]["image_id"] == "cat.png"
    np.testing.assert_array_equal(read_image(tmp_path / "rx_00005_cat_png.png"), img(12))
    np.testing.assert_array_equal(read_image(tmp_path / "tx_00005_cat_png.png"), img(10))
    assert record["rx_png"] == "rx_00005_cat_png.png" and record["tx_png"] == "tx_00005_cat_png.png"
    assert (rec.n_received, rec.n_matched, rec.n_lost) == (1, 1, 0)


def test_identical_reconstruction_is_recorded_as_null_psnr_zero_mse(tmp_path):
    """Identical images: psnr_db inf in Python, null in the JSON line, mse 0 tells it apart."""
    rec = ImageRecorder(tmp_path, write_png=False)
    rec.add_reference({"seq": 1}, img(7))
    assert rec.add_reconstruction({"seq": 1}, img(7))[0]["psnr_db"] == math.inf
    (line,) = lines(rec)
    assert line["psnr_db"] is None and line["mse"] == 0.0 and line["matched"] is True
    assert list(tmp_path.glob("*.png")) == []


def test_unmatched_and_shape_mismatch(tmp_path):
    """With hold_early False an unmatched reconstruction is written at once (id from its own meta
    or "unknown", no PSNR); a matched one of another shape has no PSNR and shape_match False."""
    rec = ImageRecorder(tmp_path, hold_early=False)
    rec.add_reconstruction({"seq": 9}, img(1))
    rec.add_reference({"seq": 2, "image_id": "x"}, img(1, (8, 8, 3)))
    rec.add_reconstruction({"seq": 2}, img(1))
    first, second = lines(rec)
    assert (first["matched"], first["image_id"], first["psnr_db"], first["tx_png"]) == (False, "unknown", None, None)
    assert (tmp_path / "rx_00009_unknown.png").exists()
    assert (second["matched"], second["shape_match"], second["mse"]) == (True, False, None)


def test_reconstructions_before_references_are_matched(tmp_path):
    """Reconstructions handled before their references (a backlog drained port by port) are held
    and matched when the references come."""
    rec = ImageRecorder(tmp_path, write_png=False)
    for seq in range(5):
        assert rec.add_reconstruction({"seq": seq}, img(seq)) == []
    for seq in range(5):
        (record,) = rec.add_reference({"seq": seq, "image_id": f"i{seq}"}, img(seq))
        assert (record["seq"], record["matched"], record["image_id"], record["mse"]) == (seq, True, f"i{seq}", 0.0)
    assert rec.finish() == [] and (rec.n_matched, rec.n_lost) == (5, 0)


def test_held_reconstruction_written_unmatched_when_a_later_reference_comes(tmp_path):
    """A held reconstruction whose reference does not come is written unmatched as soon as a
    reference with a later seq (mod 65536) arrives; earlier-seq references do not flush it."""
    rec = ImageRecorder(tmp_path, write_png=False)
    rec.add_reconstruction({"seq": 3}, img(0))
    assert rec.add_reference({"seq": 2}, img(0)) == []
    (record,) = rec.add_reference({"seq": 4}, img(0))
    assert (record["seq"], record["matched"]) == (3, False)
    wrap = ImageRecorder(tmp_path / "wrap", write_png=False)
    wrap.add_reconstruction({"seq": 65535}, img(0))
    assert [r["seq"] for r in wrap.add_reference({"seq": 0}, img(0))] == [65535]


def test_held_reconstructions_bounded_and_flushed_at_finish(tmp_path):
    """More held reconstructions than the capacity: the oldest is written unmatched at once;
    finish() writes the ones still held, then the references still waiting as lost."""
    rec = ImageRecorder(tmp_path, write_png=False, capacity=2)
    rec.add_reconstruction({"seq": 10}, img(0))
    rec.add_reconstruction({"seq": 11}, img(0))
    assert [(r["seq"], r["matched"]) for r in rec.add_reconstruction({"seq": 12}, img(0))] == [(10, False)]
    rec.add_reference({"seq": 1}, img(0))
    assert [(r["event"], r["seq"]) for r in rec.finish()] == [("received", 11), ("received", 12), ("lost", 1)]
    assert [d["seq"] for d in lines(rec)] == [10, 11, 12, 1]


def test_lost_references_reported(tmp_path):
    """Evicted references are written as lost at once; those still waiting at finish() too."""
    rec = ImageRecorder(tmp_path, write_png=False, capacity=2)
    for seq in range(3):
        rec.add_reference({"seq": seq, "image_id": f"i{seq}"}, img(seq))
    rec.add_reconstruction({"seq": 2}, img(2))
    assert rec.pending_references() == [1]
    assert rec.finish() == [{"event": "lost", "seq": 1, "image_id": "i1", "reason": "never received"}]
    events = [(d["event"], d["seq"]) for d in lines(rec)]
    assert events == [("lost", 0), ("received", 2), ("lost", 1)]
    assert (rec.n_references, rec.n_received, rec.n_matched, rec.n_lost) == (3, 1, 1, 2)
    assert rec.pending_references() == []


def test_reference_overtaken_by_a_much_later_one_is_lost_at_once(tmp_path):
    """With reorder_window=2, references 0..5 sent, 0 and 2 never arrive: the arrival of 3
    (sent 3 references after 0) reports 0 lost as "overtaken" right away, that of 5 does
    the same for 2, while 4 (within the window of 5) keeps waiting; a reference matched on
    arrival (its reconstruction came first) moves the window too."""
    rec = ImageRecorder(tmp_path, write_png=False, reorder_window=2)
    for seq in range(6):
        rec.add_reference({"seq": seq, "image_id": f"i{seq}"}, img(seq))
    rec.add_reconstruction({"seq": 1}, img(1))
    assert rec.pending_references() == [0, 2, 3, 4, 5]
    written = rec.add_reconstruction({"seq": 3}, img(3))
    assert [(r["event"], r["seq"], r.get("reason")) for r in written] == [
        ("received", 3, None), ("lost", 0, "overtaken")]
    written = rec.add_reconstruction({"seq": 5}, img(5))
    assert [(r["event"], r["seq"], r.get("reason")) for r in written] == [
        ("received", 5, None), ("lost", 2, "overtaken")]
    assert rec.pending_references() == [4]
    rec.add_reconstruction({"seq": 9}, img(9))  # early: held for its reference
    rec.add_reference({"seq": 8, "image_id": "i8"}, img(8))
    written = rec.add_reference({"seq": 9, "image_id": "i9"}, img(9))
    assert [(r["event"], r["seq"]) for r in written] == [("received", 9), ("lost", 4)]
    assert rec.pending_references() == [8]


def test_reorder_window_is_checked(tmp_path):
    """A negative or non-integer reorder window is refused, naming the value."""
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="reorder_window"):
            ImageRecorder(tmp_path, reorder_window=bad)


@pytest.mark.parametrize("meta", [{}, {"seq": -1}, {"seq": "3"}, {"seq": True}])
def test_missing_seq_is_refused(tmp_path, meta):
    """A PDU without a non-negative integer seq raises ValueError and writes nothing."""
    rec = ImageRecorder(tmp_path)
    with pytest.raises(ValueError, match="seq"):
        rec.add_reconstruction(meta, img(0))
    with pytest.raises(ValueError, match="seq"):
        rec.add_reference(meta, img(0))
    assert not rec.records_path.exists() and rec.n_received == 0
