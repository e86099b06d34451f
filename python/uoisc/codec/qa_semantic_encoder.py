#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of semantic_encoder: image PDU -> codec frame PDU, logged drops of bad PDUs."""

import pathlib

import numpy as np
import pmt
from gnuradio import gr_unittest
from uoisc_runtime import frame
from uoisc_runtime.codec import SemanticCodec
from uoisc_runtime.packing import unpack_indices
from uoisc_train.world import generate_scene

from gnuradio.uoisc.codec import semantic_encoder
from gnuradio.uoisc.codec.pdu_runner import pdu_runner
from gnuradio.uoisc.io.image_pdu import image_pdu
from gnuradio.uoisc.phy.pdu_util import split_pdu

MODELS = pathlib.Path(__file__).resolve().parents[3] / "models"
TEXT_BUNDLE = MODELS / "uoisc-tiny-uoisc"
NO_TEXT_BUNDLE = MODELS / "uoisc-tiny-no-text"
DEFAULT_QUERY = "How many squares are there?"


def scene_pdu(seed, **meta):
    """Image PDU of a generated 64x64 test scene and its first question."""
    scene = generate_scene(seed, 64, "test_zeroshot")
    fields = {"image_id": f"scene{seed}", "query": scene.qa[0].question, "seq": seed, "index": seed,
              "answer": scene.qa[0].answer}
    fields.update(meta)
    return scene.image, image_pdu(scene.image, **fields)


class qa_semantic_encoder(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.reference = SemanticCodec.from_path(TEXT_BUNDLE, providers=["CPUExecutionProvider"])
        cls.encoder = semantic_encoder(str(TEXT_BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        cls.with_default = semantic_encoder(str(TEXT_BUNDLE), providers="CPUExecutionProvider",
                                            intra_op_threads=1, default_query=DEFAULT_QUERY)
        cls.no_text = semantic_encoder(str(NO_TEXT_BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        cls.runners = {name: pdu_runner(getattr(cls, name)) for name in ("encoder", "with_default", "no_text")}

    @classmethod
    def tearDownClass(cls):
        for runner in cls.runners.values():
            runner.close()

    def assert_frame_of(self, payload, image, query):
        """The payload is a UO-ISC frame of this model whose indices are encode_indices(image, query)."""
        self.assertEqual(payload.size, self.reference.payload_bytes)
        parsed = frame.parse_frame(payload.tobytes())
        self.assertEqual((parsed.kind, parsed.fingerprint), ("uoisc", self.reference.fingerprint))
        sent, folded = unpack_indices(parsed.body, self.reference.n_indices, self.reference.bits_per_index,
                                      self.reference.codebook_size)
        expected = self.reference.encode_indices([image], [query])[0]
        np.testing.assert_array_equal(sent, expected.reshape(-1))
        self.assertFalse(folded.any())

    def test_scene_to_bits_pdu(self):
        """A generated scene PDU gives one bits PDU of payload_bytes whose indices equal
        SemanticCodec.encode_indices on the same image and query; the meta carries seq, image_id,
        query, index (not the ground-truth answer) and the codec fields of the contract."""
        image, msg = scene_pdu(3)
        query = pmt.to_python(pmt.car(msg))["query"]
        (out,) = self.runners["encoder"].run([msg])
        meta, payload = split_pdu(out)
        self.assert_frame_of(payload, image, query)
        self.assertEqual(meta, {
            "seq": 3, "image_id": "scene3", "query": query, "index": 3, "payload_type": "semantic",
            "model_id": self.reference.model_id, "codec_kind": "uoisc", "n_indices": self.reference.n_indices,
            "bits_per_index": self.reference.bits_per_index, "n_bits": 8 * self.reference.payload_bytes})

    def test_any_image_size(self):
        """A 40x50 image is resized/cropped like the runtime does: the same indices as
        encode_indices on the same array."""
        image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
        (out,) = self.runners["encoder"].run([image_pdu(image, query=DEFAULT_QUERY, seq=1)])
        self.assert_frame_of(split_pdu(out)[1], image, DEFAULT_QUERY)

    def test_default_query_fills_missing_query(self):
        """A PDU without query (or with "") is encoded with default_query, which the meta reports."""
        image, msg = scene_pdu(4, query="")
        (out,) = self.runners["with_default"].run([msg])
        meta, payload = split_pdu(out)
        self.assertEqual(meta["query"], DEFAULT_QUERY)
        self.assert_frame_of(payload, image, DEFAULT_QUERY)

    def test_missing_query_dropped(self):
        """A text-aligned bundle with no query in the PDU and no default_query drops the image
        (logged) and still encodes the next one."""
        _, no_query = scene_pdu(5, query="")
        _, good = scene_pdu(6)
        dropped_before = self.encoder.n_dropped
        outputs = self.runners["encoder"].run([no_query, good])
        self.assertEqual(len(outputs), 1)
        self.assertEqual(split_pdu(outputs[0])[0]["seq"], 6)
        self.assertEqual(self.encoder.n_dropped, dropped_before + 1)

    def test_no_text_bundle_needs_no_query(self):
        """The no-text bundle encodes a query-less PDU, and a PDU with a query to the same
        indices (the query is ignored)."""
        image, no_query = scene_pdu(7, query="")
        _, with_query = scene_pdu(7)
        outputs = self.runners["no_text"].run([no_query, with_query])
        self.assertEqual(len(outputs), 2)
        np.testing.assert_array_equal(split_pdu(outputs[0])[1], split_pdu(outputs[1])[1])
        self.assertEqual(split_pdu(outputs[0])[0]["model_id"], "uoisc-tiny-no-text")

    def test_bad_pdus_dropped_block_keeps_running(self):
        """Not a pair, metadata not a dict, an f32 payload, an empty payload, shape meta that
        contradicts the payload, 4 channels, missing height and a non-string query are each
        dropped with a logged error; a good PDU afterwards is encoded."""
        image = generate_scene(8, 64, "test_zeroshot").image
        flat = image.reshape(-1)
        shape = {"height": 64, "width": 64, "channels": 3, "query": DEFAULT_QUERY}
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(pmt.PMT_T, pmt.init_u8vector(flat.size, flat.tolist())),
            pmt.cons(pmt.to_pmt(shape), pmt.to_pmt(flat.astype(np.float32))),
            pmt.cons(pmt.to_pmt(shape), pmt.init_u8vector(0, [])),
            pmt.cons(pmt.to_pmt({**shape, "height": 32}), pmt.to_pmt(flat)),
            pmt.cons(pmt.to_pmt({**shape, "channels": 4}), pmt.to_pmt(flat)),
            pmt.cons(pmt.to_pmt({"width": 64, "channels": 3}), pmt.to_pmt(flat)),
            pmt.cons(pmt.to_pmt({**shape, "query": 5}), pmt.to_pmt(flat)),
        ]
        dropped_before = self.encoder.n_dropped
        outputs = self.runners["encoder"].run(bad + [image_pdu(image, query=DEFAULT_QUERY, seq=9)])
        self.assertEqual(self.encoder.n_dropped, dropped_before + len(bad))
        self.assertEqual(len(outputs), 1)
        self.assertEqual(split_pdu(outputs[0])[0]["seq"], 9)

    def test_bad_arguments(self):
        """A folder without a bundle, an unknown provider, an empty provider name, negative
        threads and a non-string default query raise ValueError at construction."""
        cases = [
            {"model_path": str(MODELS)},
            {"model_path": str(TEXT_BUNDLE), "providers": "NoSuchExecutionProvider"},
            {"model_path": str(TEXT_BUNDLE), "providers": ""},
            {"model_path": str(TEXT_BUNDLE), "intra_op_threads": -1},
            {"model_path": str(TEXT_BUNDLE), "default_query": 3},
        ]
        for kwargs in cases:
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                semantic_encoder(**kwargs)


if __name__ == "__main__":
    gr_unittest.run(qa_semantic_encoder)
