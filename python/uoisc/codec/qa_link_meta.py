#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Tests of link_meta: block arguments, carried metadata, CRC flags -> byte reliability."""

import numpy as np
from gnuradio import gr_unittest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.uoisc.codec import link_meta


class qa_link_meta(gr_unittest.TestCase):

    def test_providers(self):
        """"auto" lets the loader choose (None); a comma list becomes stripped names; an empty
        name or a non-string raises ValueError."""
        self.assertIsNone(link_meta.parse_providers("auto"))
        self.assertEqual(link_meta.parse_providers("CPUExecutionProvider"), ["CPUExecutionProvider"])
        self.assertEqual(link_meta.parse_providers(" CUDAExecutionProvider, CPUExecutionProvider "),
                         ["CUDAExecutionProvider", "CPUExecutionProvider"])
        for bad in ("", "CPUExecutionProvider,,X", None, ["CPUExecutionProvider"]):
            with self.subTest(providers=bad), self.assertRaises(ValueError):
                link_meta.parse_providers(bad)

    def test_intra_op_threads(self):
        """Non-negative integers pass; negative, float and bool raise ValueError."""
        self.assertEqual(link_meta.check_intra_op_threads(np.int64(2)), 2)
        for bad in (-1, 1.5, True, "2"):
            with self.subTest(value=bad), self.assertRaises(ValueError):
                link_meta.check_intra_op_threads(bad)

    def test_bits_meta_carries_only_the_contract_keys(self):
        """seq, image_id, query, index travel; ground truth and shape keys do not; codec fields
        override a carried key of the same name."""
        image_meta = {"seq": 4, "image_id": "s4", "query": "", "index": 9, "answer": "red", "height": 64}
        meta = link_meta.bits_meta(image_meta, query="What colour?", n_bits=8)
        self.assertEqual(meta, {"seq": 4, "image_id": "s4", "query": "What colour?", "index": 9, "n_bits": 8})

    def test_decoded_meta(self):
        """The PHY meta is kept minus shape keys; image_id and query default to "" but keep
        values that arrived; decoder fields are added."""
        meta = link_meta.decoded_meta({"seq": 1, "width": 3, "ldpc_ok": True}, decode_status="ok")
        self.assertEqual(meta, {"seq": 1, "ldpc_ok": True, "image_id": "", "query": "", "decode_status": "ok"})
        kept = link_meta.decoded_meta({"image_id": "a", "query": "q"})
        self.assertEqual((kept["image_id"], kept["query"]), ("a", "q"))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.booleans(), min_size=1, max_size=12), st.integers(1, 40), st.data())
    def test_byte_reliability_matches_per_byte_model(self, flags, per_codeword, data):
        """Byte b is reliable iff codeword b // cw_data_bytes passed its CRC (checked against a
        byte-by-byte model); all-passing flags give None."""
        n_bytes = data.draw(st.integers((len(flags) - 1) * per_codeword + 1, len(flags) * per_codeword))
        meta = {"cw_crc_ok": np.array(flags, dtype=np.uint8), "cw_data_bytes": per_codeword}
        result = link_meta.byte_reliability(meta, n_bytes)
        expected = [flags[b // per_codeword] for b in range(n_bytes)]
        if all(expected):
            self.assertIsNone(result)
        else:
            self.assertEqual(result.tolist(), expected)

    def test_byte_reliability_without_phy_meta(self):
        """A PDU that never crossed a PHY (no cw_crc_ok) is fully reliable."""
        self.assertIsNone(link_meta.byte_reliability({"seq": 3}, 100))

    def test_byte_reliability_bad_meta(self):
        """Missing/zero/bool cw_data_bytes, flags that are 2-D, empty or float, and too few
        codewords for the payload raise ValueError."""
        flags = np.array([1, 0], dtype=np.uint8)
        bad = [
            {"cw_crc_ok": flags},
            {"cw_crc_ok": flags, "cw_data_bytes": 0},
            {"cw_crc_ok": flags, "cw_data_bytes": True},
            {"cw_crc_ok": flags.reshape(1, 2), "cw_data_bytes": 108},
            {"cw_crc_ok": np.zeros(0, dtype=np.uint8), "cw_data_bytes": 108},
            {"cw_crc_ok": np.array([1.0, 0.0]), "cw_data_bytes": 108},
            {"cw_crc_ok": flags, "cw_data_bytes": 10},  # 2 x 10 bytes < 21
        ]
        for meta in bad:
            with self.subTest(meta=meta), self.assertRaises(ValueError):
                link_meta.byte_reliability(meta, 21)

    def test_payload_type(self):
        """The expected type or none passes; another codec's type raises ValueError."""
        link_meta.check_payload_type({"payload_type": "semantic"}, "semantic")
        link_meta.check_payload_type({}, "jpeg2000")
        for other in ("jpeg2000", 0, None):
            with self.subTest(payload_type=other), self.assertRaises(ValueError):
                link_meta.check_payload_type({"payload_type": other}, "semantic")

    def test_semantic_decode_status(self):
        """An untrusted header outranks erasures; no erasures and a trusted header is "ok"."""
        self.assertEqual(link_meta.semantic_decode_status(True, 0), "ok")
        self.assertEqual(link_meta.semantic_decode_status(True, 5), "erasures")
        self.assertEqual(link_meta.semantic_decode_status(False, 5), "untrusted_header")
        self.assertEqual(link_meta.semantic_decode_status(False, 0), "untrusted_header")

    def test_query_to_encode(self):
        """The PDU's query wins over the default, the default fills an empty one; a bundle that
        needs a query refuses neither-nor (naming the model), one that does not accepts ""; a
        query that is not a string is refused."""
        self.assertEqual(link_meta.query_to_encode({"query": "Q?"}, "D?", True, "m"), "Q?")
        self.assertEqual(link_meta.query_to_encode({"query": ""}, "D?", True, "m"), "D?")
        self.assertEqual(link_meta.query_to_encode({}, "", False, "m"), "")
        with self.assertRaisesRegex(ValueError, "tiny-model needs a query"):
            link_meta.query_to_encode({}, "", True, "tiny-model")
        with self.assertRaisesRegex(ValueError, "not a string"):
            link_meta.query_to_encode({"query": 3}, "D?", False, "m")


if __name__ == "__main__":
    gr_unittest.run(qa_link_meta)
