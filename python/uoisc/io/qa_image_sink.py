#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of image_sink: matching with references, PNG and JSON Lines output, drops, losses."""

import json
import math
import pathlib
import tempfile
import time

import numpy as np
import pmt
from gnuradio import gr, gr_unittest

from gnuradio.uoisc.io import image_pdu, image_sink, image_source
from gnuradio.uoisc.io.images import read_image

TIMEOUT_S = 10.0


def wait_for(predicate, timeout=TIMEOUT_S):
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)
    return predicate()


def image(value):
    return np.full((8, 8, 3), value, np.uint8)


class qa_image_sink(gr_unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = pathlib.Path(self.tmp.name) / "out"
        self.tb = gr.top_block()

    def tearDown(self):
        self.tb = None
        self.tmp.cleanup()

    def run_sink(self, posts, n_handled, reference=True):
        """Post (port, msg) pairs to a running sink, wait until n_handled were handled
        (received + references + dropped), stop; return the sink and its JSON lines."""
        sink = image_sink(out_dir=str(self.out), reference=reference)
        # An idle source (no "next") puts the sink in the flowgraph; kept referenced, as a
        # garbage-collected Python block crashes the running flowgraph.
        self.idle_source = image_source(source="generator")
        self.tb.msg_connect(self.idle_source, "out", sink, "in")
        self.tb.start()
        for port, msg in posts:
            sink._post(pmt.intern(port), msg)
        handled = lambda: sink.n_received + sink.recorder.n_references + sink.n_dropped  # noqa: E731
        self.assertTrue(wait_for(lambda: handled() >= n_handled))
        self.tb.stop()
        self.tb.wait()
        lines = [json.loads(line) for line in (self.out / "images.jsonl").read_text().splitlines()]
        return sink, lines

    def test_matched_reference(self):
        """A reference then its reconstruction (same seq): tx/rx PNGs hold the exact pixels, the
        JSON line has the reference's id and query and PSNR 20·log10(255/2) for an error of 2."""
        posts = [("reference", image_pdu(image(100), seq=7, image_id="a.png", query="What colour?")),
                 ("in", image_pdu(image(102), seq=7, snr_est_db=12.5, ldpc_ok=True))]
        sink, (line,) = self.run_sink(posts, 2)
        self.assertEqual((sink.n_received, sink.n_matched, sink.n_lost), (1, 1, 0))
        self.assertEqual((line["image_id"], line["query"], line["matched"]), ("a.png", "What colour?", True))
        self.assertAlmostEqual(line["psnr_db"], 20 * math.log10(255 / 2), places=9)
        self.assertEqual(line["meta"]["snr_est_db"], 12.5)
        np.testing.assert_array_equal(read_image(self.out / "rx_00007_a_png.png"), image(102))
        np.testing.assert_array_equal(read_image(self.out / "tx_00007_a_png.png"), image(100))

    def test_identical_images_give_null_psnr_and_zero_mse(self):
        """An exact reconstruction is recorded with mse 0 and psnr_db null (JSON has no inf)."""
        posts = [("reference", image_pdu(image(9), seq=1, image_id="x")), ("in", image_pdu(image(9), seq=1))]
        _, (line,) = self.run_sink(posts, 2)
        self.assertEqual((line["mse"], line["psnr_db"], line["matched"]), (0.0, None, True))

    def test_unmatched_reconstruction_is_written(self):
        """A reconstruction with no reference is still written (at the latest at stop), with
        image_id "unknown"."""
        _, (line,) = self.run_sink([("in", image_pdu(image(3), seq=4))], 1)
        self.assertEqual((line["matched"], line["image_id"], line["psnr_db"]), (False, "unknown", None))
        self.assertTrue((self.out / "rx_00004_unknown.png").exists())

    def test_malformed_pdu_is_dropped(self):
        """A PDU whose payload disagrees with height×width×channels, and a non-PDU, are dropped
        (counted, logged); the following good image is still written."""
        bad = pmt.cons(pmt.to_pmt({"height": 8, "width": 8, "channels": 3, "seq": 0}),
                       pmt.init_u8vector(10, [0] * 10))
        posts = [("in", bad), ("reference", pmt.intern("junk")), ("in", image_pdu(image(1), seq=2))]
        sink, lines = self.run_sink(posts, 3)
        self.assertEqual(sink.n_dropped, 2)
        self.assertEqual([(d["event"], d["seq"]) for d in lines], [("received", 2)])

    def test_pending_references_reported_lost_at_stop(self):
        """References whose reconstruction never came are listed while running and written as
        "lost" lines at stop(), so every sent image is accounted for."""
        posts = [("reference", image_pdu(image(i), seq=i, image_id=f"i{i}")) for i in range(3)]
        posts.append(("in", image_pdu(image(1), seq=1)))
        sink, lines = self.run_sink(posts, 4)
        self.assertEqual(sink.pending_references(), [])
        lost = [d for d in lines if d["event"] == "lost"]
        self.assertEqual(sorted((d["seq"], d["image_id"]) for d in lost), [(0, "i0"), (2, "i2")])
        self.assertEqual((sink.n_received, sink.n_matched, sink.n_lost), (1, 1, 2))

    def test_without_reference_port(self):
        """reference=False: no "reference" port; images are written unmatched."""
        sink, (line,) = self.run_sink([("in", image_pdu(image(5), seq=0, image_id="z"))], 1, reference=False)
        self.assertNotIn("reference", pmt.to_python(sink.message_ports_in()))
        self.assertIn("in", pmt.to_python(sink.message_ports_in()))
        self.assertEqual((line["matched"], line["image_id"]), (False, "z"))

    def test_source_to_sink_accounts_for_every_image(self):
        """image_source -> sink "reference" and "in" (an ideal link, where the two ports' order is
        not guaranteed): all 100 images are received and matched with themselves (mse 0)."""
        src = image_source(source="generator", n_images=100, rate=5000.0)  # faster than the sink: a backlog
        sink = image_sink(out_dir=str(self.out), write_png=False)
        self.tb.msg_connect(src, "out", sink, "reference")
        self.tb.msg_connect(src, "out", sink, "in")
        self.tb.start()
        self.assertTrue(wait_for(lambda: sink.n_received >= 100))
        self.tb.stop()
        self.tb.wait()
        lines = [json.loads(line) for line in (self.out / "images.jsonl").read_text().splitlines()]
        self.assertEqual((sink.n_received, sink.n_matched, sink.n_lost), (100, 100, 0))
        self.assertEqual(sorted(d["seq"] for d in lines), list(range(100)))
        self.assertTrue(all(d["mse"] == 0.0 for d in lines))
        self.assertEqual(list(self.out.glob("*.png")), [])

if __name__ == "__main__":
    gr_unittest.run(qa_image_sink)
