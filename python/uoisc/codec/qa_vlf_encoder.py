#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of vlf_encoder: image PDU -> one VLF feature frame, logged drops, bundle checks."""

import hashlib
import json
import pathlib
import shutil
import tempfile

import numpy as np
import pmt
from gnuradio import gr_unittest
from uoisc_runtime import frame
from uoisc_runtime.packing import unpack_indices
from qa_semantic_encoder import scene_pdu
from uoisc_runtime.vlf import VlfCodec

from gnuradio.uoisc.codec import vlf_encoder
from gnuradio.uoisc.codec.pdu_runner import pdu_runner
from gnuradio.uoisc.phy.pdu_util import make_pdu, split_pdu

MODELS = pathlib.Path(__file__).resolve().parents[3] / "models"
VLF_BUNDLE = MODELS / "uoisc-tiny-vlf"
UOISC_BUNDLE = MODELS / "uoisc-tiny-uoisc"


class qa_vlf_encoder(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.codec = VlfCodec.from_path(VLF_BUNDLE, providers=["CPUExecutionProvider"])
        cls.encoder = vlf_encoder(str(VLF_BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        cls.runner = pdu_runner(cls.encoder)

    @classmethod
    def tearDownClass(cls):
        cls.runner.close()

    def test_frame_holds_the_runtime_indices(self):
        """Each output is one codec frame of payload_bytes: a header of kind "vlf" with the
        fingerprint computed here from codec.json (sha256 of model_id:dequantizer sha256), and
        a body that unpacks (MSB first) to encode_indices of the image; the bytes equal
        VlfCodec.encode's."""
        spec = json.loads((VLF_BUNDLE / "codec.json").read_text())
        fingerprint = hashlib.sha256(f"{spec['model_id']}:{spec['dequantizer']['sha256']}".encode()).digest()[:4]
        n_indices, bits = spec["indices_shape"][0], spec["bits_per_index"]
        images, messages = zip(*(scene_pdu(i, seq=10 + i) for i in range(3)))
        outputs = self.runner.run(list(messages))
        self.assertEqual(len(outputs), 3)
        for image, msg in zip(images, outputs):
            _, payload = split_pdu(msg)
            data = payload.tobytes()
            self.assertEqual(len(data), frame.HEADER_BYTES + -(-n_indices * bits // 8))
            header = frame.parse_frame(data)
            self.assertEqual((header.kind, header.fingerprint), ("vlf", fingerprint))
            self.assertEqual(data[3], frame.KINDS["vlf"])  # magic (2 bytes), version, kind
            indices, folded = unpack_indices(header.body, n_indices, bits, spec["n_levels"])
            np.testing.assert_array_equal(indices, self.codec.encode_indices([image])[0])
            self.assertFalse(folded.any())
            self.assertEqual(data, self.codec.encode(image))

    def test_metadata_contract(self):
        """The bits PDU carries seq, image_id, index and the query; adds payload_type "vlf" (the PHY
        header field), codec_kind "vlf", model_id, n_indices, bits_per_index and n_bits = 8 x
        payload bytes; the scene's answer (ground truth) and the shape keys do not travel."""
        _, msg = scene_pdu(4, seq=7)
        (out,) = self.runner.run([msg])
        meta, payload = split_pdu(out)
        expected = {"seq": 7, "index": 4, "image_id": "scene4", "payload_type": "vlf", "codec_kind": "vlf",
                    "model_id": "uoisc-tiny-vlf", "n_indices": self.codec.n_indices,
                    "bits_per_index": self.codec.bits_per_index, "n_bits": 8 * payload.size}
        for key, value in expected.items():
            self.assertEqual(meta[key], value, key)
        self.assertEqual(payload.size, self.codec.payload_bytes)
        self.assertTrue(meta["query"])
        self.assertFalse({"answer", "height", "width", "channels"} & set(meta))

    def test_bad_pdus_dropped_block_keeps_running(self):
        """Not a pair, an f32 payload, shape meta that contradicts the payload and a query that is
        not a string are each dropped with a logged error; a good image afterwards is encoded."""
        image, good = scene_pdu(1, seq=30)
        flat = image.reshape(-1)
        bad = [
            pmt.intern("not a pdu"),
            make_pdu({"height": 64, "width": 64, "channels": 3}, flat.astype(np.float32)),
            make_pdu({"height": 64, "width": 32, "channels": 3}, flat),
            scene_pdu(2, seq=31, query=5)[1],
        ]
        dropped_before = self.encoder.n_dropped
        outputs = self.runner.run(bad + [good])
        self.assertEqual(self.encoder.n_dropped, dropped_before + len(bad))
        self.assertEqual([split_pdu(m)[0]["seq"] for m in outputs], [30])

    def test_bad_bundles_and_arguments_raise(self):
        """A folder without codec.json, a UO-ISC bundle (named by its mode), an unknown provider,
        negative threads and a non-string default query raise ValueError at construction."""
        cases = [({"model_path": str(MODELS)}, "codec.json"),
                 ({"model_path": str(UOISC_BUNDLE)}, "uoisc"),
                 ({"model_path": str(VLF_BUNDLE), "providers": "NoSuchExecutionProvider"}, "NoSuch"),
                 ({"model_path": str(VLF_BUNDLE), "intra_op_threads": -1}, "intra_op_threads"),
                 ({"model_path": str(VLF_BUNDLE), "default_query": None}, "default_query")]
        for kwargs, named in cases:
            with self.subTest(**kwargs), self.assertRaisesRegex(ValueError, named):
                vlf_encoder(**kwargs)

    def test_tampered_bundle_raises_naming_the_file(self):
        """A copy of the bundle whose encoder graph lost one byte no longer matches the sha256 in
        codec.json: construction raises ValueError naming the file."""
        with tempfile.TemporaryDirectory() as tmp:
            copy = pathlib.Path(tmp) / "tampered"
            shutil.copytree(VLF_BUNDLE, copy)
            graph = copy / "vlf_encoder.onnx"
            graph.write_bytes(graph.read_bytes()[:-1])
            with self.assertRaisesRegex(ValueError, "vlf_encoder.onnx"):
                vlf_encoder(str(copy))


if __name__ == "__main__":
    gr_unittest.run(qa_vlf_encoder)
