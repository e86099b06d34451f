#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of image_source: files with a sidecar, the generator, pacing by "next" and by rate."""

import json
import pathlib
import tempfile
import time

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio.uoisc.io import image_source, parse_image_pdu
from gnuradio.uoisc.io.images import write_png

TIMEOUT_S = 10.0


def wait_for(predicate, timeout=TIMEOUT_S):
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)
    return predicate()


class qa_image_source(gr_unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = pathlib.Path(self.tmp.name)
        self.tb = gr.top_block()
        self.debug = blocks.message_debug()

    def tearDown(self):
        self.tb = None
        self.tmp.cleanup()

    def images(self, n=3):
        rng = np.random.default_rng(3)
        images = [rng.integers(0, 256, (5, 7, 3), dtype=np.uint8) for _ in range(n)]
        for i, image in enumerate(images):
            write_png(self.folder / f"im{i}.png", image)
        return images

    def run_with_next(self, src, n_next, n_expected):
        """Run src -> message_debug, post n_next "next" messages, wait for n_expected images
        (and a little longer, so that a surplus one would be seen), return the parsed PDUs."""
        self.tb.msg_connect(src, "out", self.debug, "store")
        self.tb.start()
        for _ in range(n_next):
            src._post(pmt.intern("next"), pmt.PMT_T)
        wait_for(lambda: self.debug.num_messages() >= n_expected)
        time.sleep(0.1)
        self.tb.stop()
        self.tb.wait()
        return [parse_image_pdu(self.debug.get_message(i)) for i in range(self.debug.num_messages())]

    def test_folder_with_jsonl_sidecar(self):
        """Files come out in name order with exact pixels, their sidecar query and seq 0, 1, 2;
        a fourth "next" after the last file emits nothing."""
        images = self.images()
        (self.folder / "q.jsonl").write_text("\n".join(
            json.dumps({"image": f"im{i}.png", "query": f"q{i}"}) for i in (2, 0)))
        src = image_source(source=str(self.folder), queries=str(self.folder / "q.jsonl"), image_size=0)
        out = self.run_with_next(src, 4, 3)
        self.assertEqual(len(out), 3)
        self.assertTrue(src.exhausted)
        for i, (meta, image) in enumerate(out):
            np.testing.assert_array_equal(image, images[i])
            self.assertEqual((meta["seq"], meta["index"], meta["image_id"]), (i, i, f"im{i}.png"))
        self.assertEqual([m["query"] for m, _ in out], ["q0", "", "q2"])

    def test_generator_is_deterministic(self):
        """Two sources with the same seed emit the same scenes and questions; meta has the answer."""
        runs = []
        for _ in range(2):
            self.tb, self.debug = gr.top_block(), blocks.message_debug()
            src = image_source(source="generator", split="test_seen", seed=11, n_images=0, image_size=64)
            runs.append(self.run_with_next(src, 3, 3))
        self.assertEqual(len(runs[0]), 3)
        for (meta_a, img_a), (meta_b, img_b) in zip(*runs):
            np.testing.assert_array_equal(img_a, img_b)
            self.assertEqual(meta_a["query"], meta_b["query"])
            self.assertEqual(meta_a["answer"], meta_b["answer"])
            self.assertEqual(img_a.shape, (64, 64, 3))
            self.assertEqual(meta_a["split"], "test_seen")

    def test_exactly_n_images_for_n_messages(self):
        """With rate 0, N "next" messages give exactly N images from an endless generator."""
        src = image_source(source="generator", rate=0)
        out = self.run_with_next(src, 5, 5)
        self.assertEqual(len(out), 5)
        self.assertEqual(src.n_emitted, 5)
        self.assertEqual([m["seq"] for m, _ in out], list(range(5)))

    def test_rate_paced_and_stops_cleanly(self):
        """rate > 0 emits on its own; stop() joins the thread; n_images bounds the count."""
        src = image_source(source="generator", rate=200.0, n_images=6)
        self.tb.msg_connect(src, "out", self.debug, "store")
        self.tb.start()
        self.assertTrue(wait_for(lambda: self.debug.num_messages() >= 6))
        self.tb.stop()
        self.tb.wait()
        self.assertIsNone(src._thread)
        self.assertTrue(src.exhausted)
        self.assertEqual(self.debug.num_messages(), 6)

    def test_rate_thread_stops_with_endless_source(self):
        """An endless generator paced at a slow rate stops promptly when the flowgraph stops."""
        src = image_source(source="generator", rate=2.0)
        self.tb.msg_connect(src, "out", self.debug, "store")
        self.tb.start()
        self.assertTrue(wait_for(lambda: self.debug.num_messages() >= 1))
        began = time.monotonic()
        self.tb.stop()
        self.tb.wait()
        self.assertLess(time.monotonic() - began, 2.0)  # one period is 0.5 s: no full sleep left
        self.assertIsNone(src._thread)

    def test_unreadable_file_is_skipped(self):
        """A corrupt image in the folder is skipped (counted, logged), the others still come out."""
        self.images(2)
        (self.folder / "im1.png").write_bytes(b"no image")
        src = image_source(source=str(self.folder), image_size=0)
        out = self.run_with_next(src, 3, 1)
        self.assertEqual([m["image_id"] for m, _ in out], ["im0.png"])
        self.assertEqual(src.n_skipped, 1)

    def test_bad_arguments_raise_at_construction(self):
        """Missing folder, bad sidecar line and negative rate raise ValueError."""
        with self.assertRaises(ValueError):
            image_source(source=str(self.folder / "missing"))
        self.images(1)
        (self.folder / "bad.jsonl").write_text("{not json\n")
        with self.assertRaisesRegex(ValueError, "bad.jsonl:1"):
            image_source(source=str(self.folder), queries=str(self.folder / "bad.jsonl"))
        with self.assertRaisesRegex(ValueError, "rate"):
            image_source(rate=-1.0)


if __name__ == "__main__":
    gr_unittest.run(qa_image_source)
