#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of the codec blocks around the real PHY: encoder -> phy_tx -> channel -> phy_rx -> decoder."""

import pathlib
import time

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest
from uoisc_runtime import frame
from uoisc_runtime.codec import SemanticCodec
from uoisc_runtime.packing import erased_indices
from uoisc_train.world import generate_scene

from gnuradio.uoisc.codec import jpeg2000_decoder, jpeg2000_encoder, semantic_decoder, semantic_encoder
from gnuradio.uoisc.io.image_pdu import image_pdu, parse_image_pdu
from gnuradio.uoisc.phy import channel, phy_rx, phy_tx

BUNDLE = pathlib.Path(__file__).resolve().parents[3] / "models" / "uoisc-tiny-uoisc"
TIMEOUT_S = 60.0
#: A lost burst never produces a PDU: stop waiting when nothing has arrived for this long.
QUIET_S = 5.0


def scenes(n, first_seed=20):
    """(image, query) of n generated test scenes."""
    out = []
    for seed in range(first_seed, first_seed + n):
        scene = generate_scene(seed, 64, "test_zeroshot")
        out.append((scene.image, scene.qa[seed % len(scene.qa)].question))
    return out


def wait_for_outputs(sink, expected):
    """Until ``expected`` messages are stored, QUIET_S passes without a new one, or TIMEOUT_S."""
    start = last_change = time.monotonic()
    count = sink.num_messages()
    while count < expected and time.monotonic() - start < TIMEOUT_S:
        time.sleep(0.01)
        if sink.num_messages() != count:
            count, last_change = sink.num_messages(), time.monotonic()
        elif time.monotonic() - last_change > QUIET_S:
            return


def run_link(encoder, decoder, images, esno_db, fading="awgn", seed=1):
    """Send image PDUs (seq = position) through encoder -> PHY -> decoder; return the decoder's
    image PDUs as (meta, image)."""
    tb = gr.top_block()
    tx, rx = phy_tx(), phy_rx()
    link = channel(esno_db=esno_db, fading=fading, seed=seed)
    sink = blocks.message_debug()
    tb.connect(tx, link, rx)
    tb.msg_connect(encoder, "out", tx, "in")
    tb.msg_connect(rx, "out", decoder, "in")
    tb.msg_connect(decoder, "out", sink, "store")
    tb.start()
    for seq, (image, query) in enumerate(images):
        encoder._post(pmt.intern("in"), image_pdu(image, query=query, seq=seq, image_id=f"img{seq}", index=seq))
    wait_for_outputs(sink, len(images))
    tb.stop()
    tb.wait()
    return [parse_image_pdu(sink.get_message(i)) for i in range(sink.num_messages())]


class qa_codec_link(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.codec = SemanticCodec.from_path(BUNDLE, providers=["CPUExecutionProvider"])

    def test_semantic_link_high_snr(self):
        """At 30 dB AWGN every image arrives, in order, equal to the clean-channel decode of its
        indices, with status "ok", no erasures and the PHY's metadata."""
        images = scenes(3)
        encoder = semantic_encoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        decoder = semantic_decoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        result = run_link(encoder, decoder, images, esno_db=30.0)
        self.assertEqual([meta["seq"] for meta, _ in result], [0, 1, 2])
        for (meta, image), (sent, query) in zip(result, images):
            clean = self.codec.decode_indices(self.codec.encode_indices([sent], [query]))[0]
            np.testing.assert_array_equal(image, clean)
            self.assertEqual((meta["decode_status"], meta["n_erased_indices"], meta["ldpc_ok"]), ("ok", 0, True))
            self.assertEqual(meta["payload_type"], "semantic")
            self.assertGreater(meta["snr_est_db"], 20.0)  # 30 dB set; the estimate is noisy, not 10 dB off

    def test_semantic_link_erasures_match_crc_flags(self):
        """In deep Rayleigh block fading at 6 dB, whatever arrives is decoded and its
        n_erased_indices and decode_status agree with the PDU's own cw_crc_ok flags (bytes of
        failed codewords -> erased_indices); nothing is delivered twice or out of range."""
        images = scenes(6, first_seed=40)
        encoder = semantic_encoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        decoder = semantic_decoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
        result = run_link(encoder, decoder, images, esno_db=6.0, fading="rayleigh", seed=3)
        seqs = [meta["seq"] for meta, _ in result]
        self.assertEqual(len(set(seqs)), len(seqs))
        self.assertTrue(set(seqs) <= set(range(len(images))))
        for meta, image in result:
            byte_ok = np.repeat(np.asarray(meta["cw_crc_ok"], dtype=bool), meta["cw_data_bytes"])
            byte_ok = byte_ok[:self.codec.payload_bytes]
            expected = int(erased_indices(byte_ok, frame.HEADER_BYTES, self.codec.n_indices,
                                          self.codec.bits_per_index).sum())
            self.assertEqual(meta["n_erased_indices"], expected)
            header_ok = bool(byte_ok[:frame.HEADER_BYTES].all())
            status = "untrusted_header" if not header_ok else ("erasures" if expected else "ok")
            self.assertEqual(meta["decode_status"], status)
            self.assertEqual(image.shape, (64, 64, 3))

    def test_jpeg2000_link_high_snr(self):
        """The JPEG2000 pair rides the same PHY: at 30 dB every image arrives with status "ok"."""
        images = scenes(2, first_seed=30)
        budget = self.codec.payload_bytes - frame.HEADER_BYTES  # the same PHY payload as the bundle's
        result = run_link(jpeg2000_encoder(max_bytes=budget), jpeg2000_decoder(), images,
                          esno_db=30.0)
        self.assertEqual([meta["seq"] for meta, _ in result], [0, 1])
        for meta, image in result:
            self.assertEqual((meta["decode_status"], meta["payload_type"]), ("ok", "jpeg2000"))
            self.assertEqual(image.shape, (64, 64, 3))


if __name__ == "__main__":
    gr_unittest.run(qa_codec_link)
