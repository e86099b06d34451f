#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of the JPEG2000 baseline pair: budget, round trip, grey fallback, drops."""

import struct

import numpy as np
import pmt
from gnuradio import gr_unittest
from uoisc_runtime import frame
from uoisc_runtime.jpeg2000 import decode_jpeg2000
from uoisc_train.world import generate_scene

from gnuradio.uoisc.codec import jpeg2000_decoder, jpeg2000_encoder
from gnuradio.uoisc.codec.pdu_runner import pdu_runner
from gnuradio.uoisc.io.image_pdu import image_pdu, parse_image_pdu
from gnuradio.uoisc.phy.pdu_util import make_pdu, split_pdu

#: Codestream budget = the shipped tiny bundles' 12288 bits of indices: a comparison at equal bits.
BUDGET = 1536
CW_DATA_BYTES = 108
GREY = 128
#: In a raw J2K codestream SIZ follows SOC (2 bytes): marker 2, Lsiz 2, Rsiz 2, then Xsiz, Ysiz (u32).
SIZ_XSIZ_OFFSET = 8


def phy_pdu(data, seq=1, failed=(), payload_type="jpeg2000"):
    """PDU as phy_rx publishes it, with the codewords in ``failed`` flagged as CRC failures."""
    crc_ok = np.ones(-(-len(data) // CW_DATA_BYTES), dtype=np.uint8)
    crc_ok[list(failed)] = 0
    meta = {"seq": seq, "payload_type": payload_type, "cw_crc_ok": crc_ok, "ldpc_ok": bool(crc_ok.all()),
            "n_codewords": crc_ok.size, "cw_data_bytes": CW_DATA_BYTES}
    return make_pdu(meta, np.frombuffer(bytes(data), dtype=np.uint8))


def mse(a, b):
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


class qa_jpeg2000(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.encoder = jpeg2000_encoder(max_bytes=BUDGET)
        cls.decoder = jpeg2000_decoder(fallback_size=64)
        cls.enc_runner = pdu_runner(cls.encoder)
        cls.dec_runner = pdu_runner(cls.decoder)
        cls.image = generate_scene(12, 64, "test_zeroshot").image
        (bits,) = cls.enc_runner.run([image_pdu(cls.image, image_id="s12", query="Is there a cat?", seq=12,
                                                index=0)])
        cls.bits_meta, payload = split_pdu(bits)
        cls.data = payload.tobytes()

    @classmethod
    def tearDownClass(cls):
        cls.enc_runner.close()
        cls.dec_runner.close()

    def decode_one(self, msg):
        outputs = self.dec_runner.run([msg])
        self.assertEqual(len(outputs), 1)
        return parse_image_pdu(outputs[0])

    def test_encoder_meets_budget_and_contract(self):
        """The bits PDU is a jpeg2000 codec frame (zero fingerprint) with a codestream of at
        most max_bytes, with the carried keys and the codec fields of the contract."""
        self.assertLessEqual(len(self.data), BUDGET + frame.HEADER_BYTES)
        parsed = frame.parse_frame(self.data)
        self.assertEqual((parsed.kind, parsed.fingerprint), ("jpeg2000", bytes(4)))
        meta = dict(self.bits_meta)
        self.assertGreater(meta.pop("compression_ratio"), 1.0)
        self.assertEqual(meta, {"seq": 12, "image_id": "s12", "query": "Is there a cat?", "index": 0,
                                "payload_type": "jpeg2000", "model_id": "jpeg2000", "codec_kind": "jpeg2000",
                                "n_indices": 0, "bits_per_index": 0, "n_bits": 8 * len(self.data)})

    def test_round_trip(self):
        """With every CRC passed the decoder outputs exactly decode_jpeg2000 of the codestream,
        closer to the original than a grey image is; status "ok", PHY meta kept."""
        meta, image = self.decode_one(phy_pdu(self.data, seq=12))
        np.testing.assert_array_equal(image, decode_jpeg2000(self.data[frame.HEADER_BYTES:]))
        self.assertLess(mse(image, self.image), mse(np.full_like(self.image, GREY), self.image))
        self.assertEqual((meta["decode_status"], meta["header_trusted"], meta["model_id"]), ("ok", True, "jpeg2000"))
        self.assertEqual((meta["seq"], meta["payload_type"], meta["image_id"]), (12, "jpeg2000", ""))

    def test_flagged_but_intact_bytes(self):
        """Codewords flagged as failed whose bytes are intact decode to the clean image with
        status "damaged"; a flagged first codeword makes the header untrusted but the body is
        still tried."""
        clean = decode_jpeg2000(self.data[frame.HEADER_BYTES:])
        meta, image = self.decode_one(phy_pdu(self.data, failed=(5,)))
        np.testing.assert_array_equal(image, clean)
        self.assertEqual((meta["decode_status"], meta["header_trusted"]), ("damaged", True))
        meta, image = self.decode_one(phy_pdu(self.data, failed=(0,)))
        np.testing.assert_array_equal(image, clean)
        self.assertEqual((meta["decode_status"], meta["header_trusted"]), ("damaged", False))

    def test_undecodable_gives_grey(self):
        """Garbage with reliable CRCs, a frame of another codec kind, and a codestream whose SIZ
        declares 5000 x 5000 pixels (beyond the 4096 limit, below Pillow's own bomb check) each give a 64x64 mid-grey image with status "grey"."""
        garbage = np.random.default_rng(5).integers(0, 256, 700, dtype=np.uint8).tobytes()
        other_kind = frame.build_frame("uoisc", b"abcd", self.data[frame.HEADER_BYTES:])
        huge = bytearray(self.data)
        start = frame.HEADER_BYTES + SIZ_XSIZ_OFFSET
        huge[start:start + 8] = struct.pack(">II", 5000, 5000)
        for name, data in (("garbage", garbage), ("other kind", other_kind), ("huge SIZ", bytes(huge))):
            with self.subTest(name):
                meta, image = self.decode_one(phy_pdu(data))
                np.testing.assert_array_equal(image, np.full((64, 64, 3), GREY, dtype=np.uint8))
                self.assertEqual(meta["decode_status"], "grey")

    def test_bad_pdus_dropped_blocks_keep_running(self):
        """Encoder: a 4-byte budget is below any image's smallest codestream, so that encoder
        drops the image; bad image PDUs are dropped. Decoder: not a pair, f32 payload, empty
        payload, CRC flags without cw_data_bytes and a PHY payload_type "semantic" are dropped.
        A good PDU afterwards goes through each block."""
        tiny = jpeg2000_encoder(max_bytes=4)
        tiny_runner = pdu_runner(tiny)
        try:
            self.assertEqual(tiny_runner.run([image_pdu(self.image, seq=1)]), [])
            self.assertEqual(tiny.n_dropped, 1)
        finally:
            tiny_runner.close()
        flat = self.image.reshape(-1)
        bad_images = [pmt.intern("x"), pmt.cons(pmt.to_pmt({"height": 64, "width": 64, "channels": 3}),
                                                pmt.to_pmt(flat.astype(np.float32)))]
        outputs = self.enc_runner.run(bad_images + [image_pdu(self.image, seq=2)])
        self.assertEqual([split_pdu(msg)[0]["seq"] for msg in outputs], [2])
        payload = np.frombuffer(self.data, dtype=np.uint8)
        bad_frames = [pmt.intern("x"), pmt.cons(pmt.make_dict(), pmt.to_pmt(payload.astype(np.float32))),
                      pmt.cons(pmt.make_dict(), pmt.init_u8vector(0, [])),
                      make_pdu({"cw_crc_ok": np.array([0], dtype=np.uint8)}, payload),
                      phy_pdu(self.data, payload_type="semantic")]
        dropped_before = self.decoder.n_dropped
        outputs = self.dec_runner.run(bad_frames + [phy_pdu(self.data, seq=3)])
        self.assertEqual(self.decoder.n_dropped, dropped_before + len(bad_frames))
        self.assertEqual([parse_image_pdu(msg)[0]["seq"] for msg in outputs], [3])

    def test_bad_arguments(self):
        """Budgets that are not positive integers and fallback sizes outside 1..4096 raise
        ValueError."""
        for max_bytes in (0, -5, True, 100.0):
            with self.subTest(max_bytes=max_bytes), self.assertRaises(ValueError):
                jpeg2000_encoder(max_bytes=max_bytes)
        for size in (0, 4097, 64.0):
            with self.subTest(fallback_size=size), self.assertRaises(ValueError):
                jpeg2000_decoder(fallback_size=size)


if __name__ == "__main__":
    gr_unittest.run(qa_jpeg2000)
