"""vlf_encoder wired straight to vlf_decoder (no PHY) in one running flowgraph.

Without a PHY nothing is lost or corrupted, so what the decoder publishes must be exactly
what the codec runtime gives for the same image: ``VlfCodec.decode(VlfCodec.encode(image))``
with the generator seed ``seed + seq``.
"""

import pathlib
import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.uoisc.codec import vlf_decoder, vlf_encoder
from gnuradio.uoisc.io.image_pdu import image_pdu, parse_image_pdu
from gnuradio.uoisc.phy.pdu_util import split_pdu
from uoisc_runtime import VlfCodec
from uoisc_train.world import generate_scene

BUNDLE = pathlib.Path(__file__).resolve().parents[1] / "models" / "uoisc-tiny-vlf"
SEED, STEPS, GUIDANCE = 11, 3, 2.0
TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def codec():
    return VlfCodec.from_path(BUNDLE, providers=["CPUExecutionProvider"])


def run_chain(messages):
    """Post image PDUs into encoder -> decoder; returns (decoder, image PDUs, text PDUs)."""
    encoder = vlf_encoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1)
    decoder = vlf_decoder(str(BUNDLE), providers="CPUExecutionProvider", intra_op_threads=1,
                          steps=STEPS, guidance=GUIDANCE, seed=SEED)
    images, texts = blocks.message_debug(), blocks.message_debug()
    tb = gr.top_block()
    tb.msg_connect(encoder, "out", decoder, "in")
    tb.msg_connect(decoder, "image", images, "store")
    tb.msg_connect(decoder, "text", texts, "store")
    tb.start()
    try:
        for msg in messages:
            encoder._post(pmt.intern("in"), msg)
        deadline = time.monotonic() + TIMEOUT_S
        while (encoder.n_in < len(messages) or decoder.n_in < encoder.n_out
               or min(images.num_messages(), texts.num_messages()) < decoder.n_out):
            assert time.monotonic() < deadline, "the chain did not handle every PDU in time"
            time.sleep(0.01)
    finally:
        tb.stop()
        tb.wait()
    return (decoder, [images.get_message(i) for i in range(images.num_messages())],
            [texts.get_message(i) for i in range(texts.num_messages())])


def test_encoder_to_decoder_gives_the_runtime_caption_and_image(codec):
    """Three scenes through encoder -> decoder: one image PDU and one text PDU per scene, in seq
    order; each caption (meta and UTF-8 payload) and generated image equal the runtime's decode
    of the runtime's frame for that scene with seed SEED + seq; status "ok", nothing erased."""
    scenes = [generate_scene(i, 64, "test_zeroshot") for i in range(3)]
    messages = [image_pdu(s.image, seq=100 + i, image_id=f"s{i}", query=s.qa[0].question)
                for i, s in enumerate(scenes)]
    decoder, image_msgs, text_msgs = run_chain(messages)
    assert (decoder.n_out, decoder.n_dropped) == (3, 0)
    assert [parse_image_pdu(m)[0]["seq"] for m in image_msgs] == [100, 101, 102]
    assert [split_pdu(m)[0]["seq"] for m in text_msgs] == [100, 101, 102]
    for scene, image_msg, text_msg in zip(scenes, image_msgs, text_msgs):
        meta, image = parse_image_pdu(image_msg)
        expected = codec.decode(codec.encode(scene.image), seed=SEED + meta["seq"], steps=STEPS,
                                guidance=GUIDANCE)
        np.testing.assert_array_equal(image, expected.image)
        assert meta["caption"] == expected.caption
        assert (meta["decode_status"], meta["n_erased_indices"], meta["generator_seed"]) == \
            ("ok", 0, SEED + meta["seq"])
        text_meta, text = split_pdu(text_msg)
        assert text.tobytes().decode("utf-8") == text_meta["caption"] == expected.caption


def test_a_bad_image_between_good_ones_is_dropped_by_the_encoder_only(codec):
    """An image PDU whose shape meta contradicts its payload is dropped (logged) by the encoder;
    the decoder sees and decodes only the two good ones."""
    image = generate_scene(5, 64, "test_zeroshot").image
    bad = pmt.cons(pmt.to_pmt({"seq": 1, "height": 64, "width": 63, "channels": 3}),
                   pmt.to_pmt(image.reshape(-1)))
    decoder, image_msgs, text_msgs = run_chain([image_pdu(image, seq=0), bad, image_pdu(image, seq=2)])
    assert (decoder.n_in, decoder.n_dropped) == (2, 0)
    assert [parse_image_pdu(m)[0]["seq"] for m in image_msgs] == [0, 2]
    assert len(text_msgs) == 2
