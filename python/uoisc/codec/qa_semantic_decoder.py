#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of semantic_decoder: PHY output PDU -> image PDU, erasures, logged drops."""

import pathlib

import numpy as np
import pmt
from gnuradio import gr_unittest
from uoisc_runtime import frame
from uoisc_runtime.codec import SemanticCodec
from uoisc_runtime.packing import erased_indices, unpack_indices
from uoisc_train.world import generate_scene

from gnuradio.uoisc.codec import semantic_decoder
from gnuradio.uoisc.codec.pdu_runner import pdu_runner
from gnuradio.uoisc.io.image_pdu import parse_image_pdu
from gnuradio.uoisc.phy.pdu_util import make_pdu

MODELS = pathlib.Path(__file__).resolve().parents[3] / "models"
TEXT_BUNDLE = MODELS / "uoisc-tiny-uoisc"
NO_TEXT_BUNDLE = MODELS / "uoisc-tiny-no-text"
#: Payload bytes per codeword of the default PHY code (k = 902: (902 - 32) // 8).
CW_DATA_BYTES = 108
QUERY = "What colour is the fish?"


def phy_pdu(data, seq=1, failed=(), cw_data_bytes=CW_DATA_BYTES, **extra):
    """PDU as phy_rx publishes it, with the codewords in ``failed`` flagged as CRC failures."""
    n_codewords = -(-len(data) // cw_data_bytes)
    crc_ok = np.ones(n_codewords, dtype=np.uint8)
    crc_ok[list(failed)] = 0
    meta = {"seq": seq, "payload_type": "semantic", "snr_est_db": 12.5, "h_est": 0.8 + 0.1j,
            "noise_var_est": 0.05, "cw_crc_ok": crc_ok, "ldpc_ok": bool(crc_ok.all()),
            "n_codewords": n_codewords, "cw_data_bytes": cw_data_bytes, "sample_offset": 1234}
    meta.update(extra)
    return make_pdu(meta, np.frombuffer(bytes(data), dtype=np.uint8))


def randomise_codewords(data, failed, seed):
    """The frame with the bytes of the ``failed`` codewords replaced by random bytes."""
    corrupted = np.frombuffer(data, dtype=np.uint8).copy()
    rng = np.random.default_rng(seed)
    for index in failed:
        chunk = corrupted[index * CW_DATA_BYTES:(index + 1) * CW_DATA_BYTES]
        chunk[:] = rng.integers(0, 256, chunk.size, dtype=np.uint8)
    return corrupted.tobytes()


class qa_semantic_decoder(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.codec = SemanticCodec.from_path(TEXT_BUNDLE, providers=["CPUExecutionProvider"])
        cls.other = SemanticCodec.from_path(NO_TEXT_BUNDLE, providers=["CPUExecutionProvider"])
        cls.decoder = semantic_decoder(str(TEXT_BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        cls.runner = pdu_runner(cls.decoder)
        cls.image = generate_scene(11, 64, "test_zeroshot").image
        cls.data = cls.codec.encode(cls.image, QUERY)
        cls.indices = cls.codec.encode_indices([cls.image], [QUERY])

    @classmethod
    def tearDownClass(cls):
        cls.runner.close()

    def decode_one(self, msg):
        outputs = self.runner.run([msg])
        self.assertEqual(len(outputs), 1)
        return parse_image_pdu(outputs[0])

    def test_clean_frame(self):
        """All CRCs passed: the image equals decode_indices of the sent indices; the PHY meta is
        kept and the decoder adds model_id, 0 erased/folded, a trusted header and status "ok"."""
        meta, image = self.decode_one(phy_pdu(self.data, seq=21))
        np.testing.assert_array_equal(image, self.codec.decode_indices(self.indices)[0])
        for key, value in {"seq": 21, "payload_type": "semantic", "snr_est_db": 12.5, "h_est": 0.8 + 0.1j,
                           "noise_var_est": 0.05, "ldpc_ok": True, "cw_data_bytes": CW_DATA_BYTES,
                           "sample_offset": 1234, "model_id": self.codec.model_id, "n_erased_indices": 0,
                           "n_folded_indices": 0, "n_replaced_indices": 0, "header_trusted": True,
                           "decode_status": "ok",
                           "image_id": "", "query": "", "height": 64, "width": 64, "channels": 3}.items():
            self.assertEqual(meta[key], value, key)
        self.assertEqual(list(meta["cw_crc_ok"]), [1] * meta["n_codewords"])

    def test_failed_codewords_are_erasures(self):
        """Codewords 3 and 9 fail with their bytes randomised: an image still comes out, decoded
        from what arrived; n_erased_indices is what erased_indices predicts for the failed bytes
        (with 8-bit indices: one index per failed body byte) and the status is "erasures"."""
        failed = (3, 9)
        received = randomise_codewords(self.data, failed, seed=2)
        meta, image = self.decode_one(phy_pdu(received, seq=22, failed=failed))
        byte_ok = np.ones(len(received), dtype=bool)
        for index in failed:
            byte_ok[index * CW_DATA_BYTES:(index + 1) * CW_DATA_BYTES] = False
        expected_erased = erased_indices(byte_ok, frame.HEADER_BYTES, self.codec.n_indices,
                                         self.codec.bits_per_index).sum()
        self.assertEqual(meta["n_erased_indices"], expected_erased)
        self.assertEqual(self.codec.bits_per_index, 8)  # the byte count below assumes byte-sized indices
        self.assertEqual(meta["n_erased_indices"], len(failed) * CW_DATA_BYTES)
        self.assertEqual(meta["n_replaced_indices"], 0)  # the shipped bundle has no erasure row
        self.assertEqual((meta["decode_status"], meta["header_trusted"], meta["ldpc_ok"]), ("erasures", True, False))
        sent, _ = unpack_indices(received[frame.HEADER_BYTES:], self.codec.n_indices, self.codec.bits_per_index,
                                 self.codec.codebook_size)
        np.testing.assert_array_equal(image, self.codec.decode_indices(sent.reshape(self.indices.shape))[0])

    def test_failed_header_codeword_untrusted(self):
        """When codeword 0 (holding the codec header) fails and its bytes, fingerprint included,
        are randomised, the frame is decoded on its length: header_trusted False, status
        "untrusted_header"."""
        received = randomise_codewords(self.data, (0,), seed=3)
        meta, image = self.decode_one(phy_pdu(received, seq=23, failed=(0,)))
        self.assertEqual((meta["decode_status"], meta["header_trusted"]), ("untrusted_header", False))
        self.assertEqual(meta["n_erased_indices"], CW_DATA_BYTES - frame.HEADER_BYTES)
        self.assertEqual(image.shape, (64, 64, 3))

    def test_bad_pdus_dropped_block_keeps_running(self):
        """Not a pair, metadata not a dict, an f32 payload, an empty payload, a truncated and an
        oversized frame, a frame of the other shipped bundle (reliable header), garbage with a
        reliable header, CRC flags without cw_data_bytes and a PHY payload_type "jpeg2000" are
        each dropped with a logged
        error; a good frame afterwards is decoded."""
        payload = np.frombuffer(self.data, dtype=np.uint8)
        other = self.other.encode(self.image)
        no_layout = make_pdu({"seq": 1, "cw_crc_ok": np.array([1, 0], dtype=np.uint8)}, payload)
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(pmt.PMT_T, pmt.to_pmt(payload)),
            pmt.cons(pmt.make_dict(), pmt.to_pmt(payload.astype(np.float32))),
            pmt.cons(pmt.make_dict(), pmt.init_u8vector(0, [])),
            phy_pdu(self.data[:-1]),
            phy_pdu(self.data + b"\0"),
            phy_pdu(other),
            phy_pdu(np.random.default_rng(4).integers(0, 256, len(self.data), dtype=np.uint8).tobytes()),
            no_layout,
            phy_pdu(self.data, payload_type="jpeg2000"),
        ]
        dropped_before = self.decoder.n_dropped
        outputs = self.runner.run(bad + [phy_pdu(self.data, seq=24)])
        self.assertEqual(self.decoder.n_dropped, dropped_before + len(bad))
        self.assertEqual(len(outputs), 1)
        self.assertEqual(parse_image_pdu(outputs[0])[0]["seq"], 24)

    def test_bad_arguments(self):
        """A folder without a bundle, an unknown provider and negative threads raise ValueError."""
        for kwargs in ({"model_path": str(MODELS)},
                       {"model_path": str(TEXT_BUNDLE), "providers": "NoSuchExecutionProvider"},
                       {"model_path": str(TEXT_BUNDLE), "intra_op_threads": -1}):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                semantic_decoder(**kwargs)


if __name__ == "__main__":
    gr_unittest.run(qa_semantic_decoder)
