#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of vlf_decoder: PHY output PDU -> generated image + caption, erasures, logged drops."""

import pathlib

import numpy as np
import pmt
from gnuradio import gr_unittest
from qa_semantic_decoder import phy_pdu as semantic_phy_pdu
from uoisc_runtime import frame
from uoisc_runtime.codec import SemanticCodec
from uoisc_runtime.packing import erased_indices
from uoisc_runtime.vlf import VlfCodec
from uoisc_train.world import generate_scene

from gnuradio.uoisc.codec import vlf_decoder
from gnuradio.uoisc.codec.pdu_runner import pdu_runner
from gnuradio.uoisc.io.image_pdu import parse_image_pdu
from gnuradio.uoisc.phy.pdu_util import make_pdu, split_pdu

MODELS = pathlib.Path(__file__).resolve().parents[3] / "models"
VLF_BUNDLE = MODELS / "uoisc-tiny-vlf"
UOISC_BUNDLE = MODELS / "uoisc-tiny-uoisc"
#: Payload bytes per codeword in these tests: smaller than the PHY's 108 so that a 40-byte
#: frame spans three codewords and one can fail without touching the codec header.
CW_DATA_BYTES = 16
#: Base seed of the block under test (the generator seed of seq n is SEED + n).
SEED = 7
#: Fewer DDIM steps than the default keep the test fast; the rule tested does not depend on it.
STEPS = 4


def phy_pdu(data, seq=1, failed=(), cw_data_bytes=CW_DATA_BYTES, **extra):
    """PDU as phy_rx publishes it for a VLF frame, with the codewords in ``failed`` flagged as CRC
    failures (qa_semantic_decoder's, with payload_type "vlf" and short codewords)."""
    return semantic_phy_pdu(data, seq, failed, cw_data_bytes, **{"payload_type": "vlf", **extra})


def flip_codewords(data, failed):
    """The frame with every bit of the ``failed`` codewords inverted, and its per-byte reliability."""
    corrupted = np.frombuffer(data, dtype=np.uint8).copy()
    byte_ok = np.ones(len(data), dtype=bool)
    for index in failed:
        span = slice(index * CW_DATA_BYTES, (index + 1) * CW_DATA_BYTES)
        corrupted[span] ^= 0xFF
        byte_ok[span] = False
    return corrupted.tobytes(), byte_ok


class qa_vlf_decoder(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.codec = VlfCodec.from_path(VLF_BUNDLE, providers=["CPUExecutionProvider"])
        cls.decoder = vlf_decoder(str(VLF_BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1,
                                  steps=STEPS, guidance=3.0, seed=SEED)
        cls.runner = pdu_runner(cls.decoder)
        cls.images = [generate_scene(i, 64, "test_zeroshot").image for i in range(3)]
        cls.frames = [cls.codec.encode(image) for image in cls.images]

    @classmethod
    def tearDownClass(cls):
        cls.runner.close()

    def expected(self, data, seq, byte_ok=None):
        """The runtime's decode of a frame with the seed the block must use for ``seq``."""
        return self.codec.decode(data, byte_ok, seed=SEED + seq, steps=STEPS, guidance=3.0)

    def decode(self, messages):
        """(image PDUs, text PDUs) the block published for ``messages``."""
        outputs = self.runner.run_ports(messages)
        return outputs["image"], outputs["text"]

    def test_clean_frame_gives_the_runtime_caption_and_image(self):
        """All CRCs passed: the image and caption equal VlfCodec.decode of the same frame with seed
        SEED + seq; the image PDU keeps the PHY meta and adds model_id, the caption, 0 erased/
        folded indices, a trusted header, status "ok" and generator_seed; the text PDU holds the
        caption as UTF-8 with seq, caption, model_id and decode_status."""
        (image_msg,), (text_msg,) = self.decode([phy_pdu(self.frames[0], seq=21)])
        meta, image = parse_image_pdu(image_msg)
        expected = self.expected(self.frames[0], 21)
        np.testing.assert_array_equal(image, expected.image)
        self.assertTrue(expected.caption)
        for key, value in {"seq": 21, "payload_type": "vlf", "snr_est_db": 12.5, "h_est": 0.8 + 0.1j,
                           "ldpc_ok": True, "model_id": "uoisc-tiny-vlf", "caption": expected.caption,
                           "n_erased_indices": 0, "n_folded_indices": 0, "header_trusted": True,
                           "decode_status": "ok", "generator_seed": SEED + 21, "image_id": "",
                           "query": ""}.items():
            self.assertEqual(meta[key], value, key)
        text_meta, text = split_pdu(text_msg)
        self.assertEqual(text_meta, {"seq": 21, "caption": expected.caption, "model_id": "uoisc-tiny-vlf",
                                     "decode_status": "ok"})
        self.assertEqual(text.tobytes().decode("utf-8"), expected.caption)

    def test_one_image_and_one_text_per_accepted_frame_matched_by_seq(self):
        """Three frames with a bad PDU between each: exactly three image PDUs and three text PDUs
        come out, in the same seq order on both ports, each caption equal on both."""
        bad = phy_pdu(self.frames[0][:-1], seq=99)
        messages = [phy_pdu(self.frames[0], seq=40), bad, phy_pdu(self.frames[1], seq=41), bad,
                    phy_pdu(self.frames[2], seq=42)]
        images, texts = self.decode(messages)
        image_metas = [parse_image_pdu(m)[0] for m in images]
        text_metas = [split_pdu(m)[0] for m in texts]
        self.assertEqual([m["seq"] for m in image_metas], [40, 41, 42])
        self.assertEqual([m["seq"] for m in text_metas], [40, 41, 42])
        self.assertEqual([m["caption"] for m in image_metas], [m["caption"] for m in text_metas])

    def test_same_frame_and_seq_give_the_same_image(self):
        """Decoding one frame twice with the same seq gives the same image (seeded generator)."""
        images, _ = self.decode([phy_pdu(self.frames[1], seq=5), phy_pdu(self.frames[1], seq=5)])
        first, second = (parse_image_pdu(m)[1] for m in images)
        np.testing.assert_array_equal(first, second)

    def test_failed_body_codeword_is_erasures(self):
        """Codeword 1 (body bytes only) fails with every bit flipped: the frame still decodes, to
        what the runtime gives for the corrupted frame; n_erased_indices is what erased_indices
        predicts for the failed bytes and the status is "erasures" with a trusted header."""
        received, byte_ok = flip_codewords(self.frames[2], failed=(1,))
        (image_msg,), (text_msg,) = self.decode([phy_pdu(received, seq=50, failed=(1,))])
        meta, image = parse_image_pdu(image_msg)
        expected_erased = erased_indices(byte_ok, frame.HEADER_BYTES, self.codec.n_indices,
                                         self.codec.bits_per_index).sum()
        self.assertGreater(expected_erased, 0)
        self.assertEqual(meta["n_erased_indices"], expected_erased)
        self.assertEqual((meta["decode_status"], meta["header_trusted"], meta["ldpc_ok"]),
                         ("erasures", True, False))
        expected = self.expected(received, 50, byte_ok)
        np.testing.assert_array_equal(image, expected.image)
        self.assertEqual(split_pdu(text_msg)[0]["caption"], expected.caption)
        self.assertEqual(split_pdu(text_msg)[0]["decode_status"], "erasures")

    def test_failed_header_codeword_is_untrusted(self):
        """Codeword 0 (the codec header and the first body bytes) fails with its bits flipped, so
        magic and fingerprint are wrong: the frame is decoded on its length alone, with
        header_trusted False and status "untrusted_header"."""
        received, _ = flip_codewords(self.frames[0], failed=(0,))
        (image_msg,), _ = self.decode([phy_pdu(received, seq=51, failed=(0,))])
        meta, image = parse_image_pdu(image_msg)
        self.assertEqual((meta["decode_status"], meta["header_trusted"]), ("untrusted_header", False))
        self.assertEqual(image.shape, (self.codec.output_size, self.codec.output_size, 3))

    def test_bad_pdus_dropped_block_keeps_running(self):
        """Not a pair, an f32 payload, an empty payload, a truncated and an oversized frame, a PHY
        payload_type "semantic", a UO-ISC frame labelled "vlf", frames of the right length with a
        reliable header of kind "jpeg2000" or of another VLF model's fingerprint, no seq, CRC
        flags without cw_data_bytes: each is dropped with a logged error and nothing comes out
        on either port; a good frame afterwards is decoded."""
        data = self.frames[0]
        payload = np.frombuffer(data, dtype=np.uint8)
        image = self.images[0]
        uoisc = SemanticCodec.from_path(UOISC_BUNDLE, providers=["CPUExecutionProvider"])
        uoisc_frame = uoisc.encode(image, "What colour is the fish?")
        body = data[frame.HEADER_BYTES:]
        other_kind = frame.build_frame("jpeg2000", self.codec.fingerprint, body)
        other_model = frame.build_frame("vlf", bytes(a ^ 0xFF for a in self.codec.fingerprint), body)
        no_seq = phy_pdu(data)
        no_seq = pmt.cons(pmt.dict_delete(pmt.car(no_seq), pmt.intern("seq")), pmt.cdr(no_seq))
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(pmt.make_dict(), pmt.to_pmt(payload.astype(np.float32))),
            make_pdu({"seq": 1}, np.zeros(0, dtype=np.uint8)),
            phy_pdu(data[:-1]),
            phy_pdu(data + b"\0"),
            phy_pdu(data, payload_type="semantic"),
            phy_pdu(uoisc_frame, cw_data_bytes=108),
            phy_pdu(other_kind),
            phy_pdu(other_model),
            no_seq,
            make_pdu({"seq": 1, "cw_crc_ok": np.array([1, 0, 1], dtype=np.uint8)}, payload),
        ]
        dropped_before = self.decoder.n_dropped
        images, texts = self.decode(bad + [phy_pdu(data, seq=60)])
        self.assertEqual(self.decoder.n_dropped, dropped_before + len(bad))
        self.assertEqual([parse_image_pdu(m)[0]["seq"] for m in images], [60])
        self.assertEqual([split_pdu(m)[0]["seq"] for m in texts], [60])

    def test_bad_arguments_raise(self):
        """steps 0, a negative or NaN guidance, a negative seed, a UO-ISC bundle and a folder without
        a bundle raise ValueError naming the bad value at construction."""
        cases = [({"steps": 0}, "steps"), ({"guidance": -1.0}, "guidance"),
                 ({"guidance": float("nan")}, "guidance"), ({"seed": -1}, "seed"),
                 ({"model_path": str(UOISC_BUNDLE)}, "uoisc"), ({"model_path": str(MODELS)}, "codec.json")]
        for kwargs, named in cases:
            arguments = {"model_path": str(VLF_BUNDLE), **kwargs}
            with self.subTest(**kwargs), self.assertRaisesRegex(ValueError, named):
                vlf_decoder(**arguments)


if __name__ == "__main__":
    gr_unittest.run(qa_vlf_decoder)
