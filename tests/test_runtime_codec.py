"""uoisc_runtime.codec.SemanticCodec on the shipped bundles: golden parity with the torch codec,
frames that round-trip, corrupted frames, frames from another model, batching, and the
runtime's import hygiene (no torch, open_clip or GNU Radio).

Golden indices live in ``tests/expected/runtime_codec_golden.json``: they are what the torch
codec (``uoisc_train.training.load_codec(runs/<model>/last.pt).compress``, tokens from
``open_clip``) gives on a few `test_zeroshot` scenes. Regenerate them only with
``GENERATE_EXPECTED=1`` (needs the training checkpoints under ``runs/``); a missing file fails.
The allowed index mismatch is the one the bundle's export recorded (``parity``), not a measurement.
"""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from uoisc_runtime import CodecError, SemanticCodec, build_frame, pack_indices, unpack_indices
from uoisc_runtime.frame import HEADER_BYTES
from uoisc_train.world.scenes import generate_scene

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
GOLDEN = Path(__file__).parent / "expected" / "runtime_codec_golden.json"
BUNDLES = ["uoisc-tiny-uoisc", "uoisc-tiny-no-text"]
SEEDS = [0, 1, 2, 3, 4]
SPLIT = "test_zeroshot"


@pytest.fixture(scope="module")
def codecs():
    return {name: SemanticCodec.from_path(MODELS / name, intra_op_threads=1) for name in BUNDLES}


@pytest.fixture(scope="module")
def scenes():
    return [generate_scene(seed, size=64, split=SPLIT) for seed in SEEDS]


def _torch_indices(name, scenes):
    """The torch codec's indices for the scenes' first questions (GENERATE_EXPECTED=1 only)."""
    import torch
    from uoisc_train.clip import register_model_configs
    from uoisc_train.compat import import_open_clip
    from uoisc_train.training import load_codec
    model, info = load_codec(ROOT / "runs" / name / "last.pt")
    register_model_configs()
    tokens = import_open_clip().get_tokenizer(model.config.backbone)([s.qa[0].question
                                                                       for s in scenes])
    images = torch.from_numpy(np.stack([s.image for s in scenes])).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        indices = model.compress(images.float(), tokens if model.config.text_alignment else None)
    return indices.numpy(), info["step"]


def _golden(codecs, scenes):
    if os.environ.get("GENERATE_EXPECTED") == "1":
        figures = {}
        for name, codec in codecs.items():
            indices, step = _torch_indices(name, scenes)
            figures[name] = {"split": SPLIT, "seeds": SEEDS, "checkpoint_step": step,
                             "shape": list(indices.shape), "bits_per_index": codec.bits_per_index,
                             "packed_hex": pack_indices(indices, codec.bits_per_index).hex()}
        GOLDEN.write_text(json.dumps(figures, indent=1) + "\n")
    if not GOLDEN.is_file():
        pytest.fail(f"{GOLDEN} is missing; create it with GENERATE_EXPECTED=1")
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", BUNDLES)
def test_encode_indices_equal_the_torch_codec(codecs, scenes, name):
    """onnxruntime indices from images + query strings (runtime preprocessing and tokenizer)
    equal the torch codec's golden indices, within the mismatch the bundle's export recorded."""
    codec, golden = codecs[name], _golden(codecs, scenes)[name]
    assert golden["seeds"] == SEEDS and golden["split"] == SPLIT
    n = int(np.prod(golden["shape"]))
    expected, _ = unpack_indices(bytes.fromhex(golden["packed_hex"]), n,
                                 golden["bits_per_index"], codec.codebook_size)
    ours = codec.encode_indices([s.image for s in scenes], [s.qa[0].question for s in scenes])
    assert ours.shape == tuple(golden["shape"]) and ours.dtype == np.int64
    allowed = codec.bundle.spec["parity"]["index_mismatch_fraction"]
    assert np.mean(ours.reshape(-1) != expected) <= allowed


@pytest.mark.parametrize("name", BUNDLES)
def test_frame_round_trip_gives_the_decode_indices_image(codecs, scenes, name):
    """decode(encode(x, q)) has a trusted header, nothing erased or folded, the indices of
    encode_indices and exactly the image decode_indices gives for them."""
    codec = codecs[name]
    scene = scenes[0]
    data = codec.encode(scene.image, scene.qa[0].question)
    packed = codec.n_indices * codec.bits_per_index // 8
    assert len(data) == codec.payload_bytes == HEADER_BYTES + packed
    result = codec.decode(data)
    indices = codec.encode_indices([scene.image], [scene.qa[0].question])
    assert result.header_trusted and result.n_erased == 0 and result.n_folded == 0
    assert np.array_equal(result.indices, indices[0])
    assert np.array_equal(result.image, codec.decode_indices(indices)[0])
    assert result.image.dtype == np.uint8 and result.image.shape == (64, 64, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corrupted_body_bytes_decode_and_count_erasures(codecs, scenes, seed):
    """Random body bytes flipped and marked unreliable still decode to a finite uint8 image;
    with 8-bit indices every bad body byte erases exactly one index."""
    codec = codecs["uoisc-tiny-uoisc"]
    assert codec.bits_per_index == 8  # the count below relies on one index per byte
    rng = np.random.default_rng(seed)
    data = bytearray(codec.encode(scenes[1].image, scenes[1].qa[0].question))
    bad = rng.choice(np.arange(HEADER_BYTES, len(data)), size=rng.integers(1, 200), replace=False)
    for b in bad:
        data[b] ^= int(rng.integers(1, 256))
    byte_ok = np.ones(len(data), bool)
    byte_ok[bad] = False
    result = codec.decode(bytes(data), byte_ok)
    assert result.header_trusted and result.n_erased == len(bad)
    assert result.image.dtype == np.uint8 and result.image.shape == (64, 64, 3)


def test_folded_words_are_counted_for_a_codebook_that_is_not_a_power_of_two(codecs, scenes):
    """Words >= K in the body fold into range and are counted (checked on a copy of the bundle
    whose spec says K=200 with 8-bit words: the received words 200..255 must be folded)."""
    codec = codecs["uoisc-tiny-no-text"]
    data = codec.encode(scenes[0].image)
    body = np.frombuffer(data[HEADER_BYTES:], np.uint8)
    spec = {**codec.bundle.spec, "codebook_size": 200}
    narrowed = SemanticCodec(dataclasses.replace(codec.bundle, spec=spec))
    assert (body >= 200).any()  # else the scene would not exercise folding
    result = narrowed.decode(data)
    assert result.n_folded == int((body >= 200).sum())
    assert result.indices.max() < 200 and result.indices.min() >= 0


def test_unreliable_header_is_decoded_on_length_alone(codecs, scenes):
    """A header whose bytes failed their CRC is not checked (header_trusted False) and the body
    still decodes to the clean image when the body bytes are intact; the same garbage header
    marked reliable is refused."""
    codec = codecs["uoisc-tiny-uoisc"]
    clean = codec.encode(scenes[2].image, scenes[2].qa[0].question)
    garbled = b"\x00" * HEADER_BYTES + clean[HEADER_BYTES:]
    byte_ok = np.ones(len(clean), bool)
    byte_ok[:3] = False
    result = codec.decode(garbled, byte_ok)
    assert not result.header_trusted and result.n_erased == 0
    assert np.array_equal(result.image, codec.decode(clean).image)
    with pytest.raises(CodecError, match="not a UO-ISC frame"):
        codec.decode(garbled)


def test_frame_header_carries_kind_and_the_contract_fingerprint(codecs, scenes):
    """Every frame starts with 'UO', version 1, kind 1 (uoisc) and the 4 bytes
    sha256(model_id + ':' + decoder sha256)[:4], recomputed here from codec.json."""
    for name, codec in codecs.items():
        spec = codec.bundle.spec
        expected = hashlib.sha256(f"{name}:{spec['decoder']['sha256']}".encode()).digest()[:4]
        data = codec.encode(scenes[0].image, scenes[0].qa[0].question)
        assert data[:HEADER_BYTES] == b"UO\x01\x01" + expected
        assert codec.fingerprint == expected and codec.model_id == name


def test_frame_from_another_model_or_codec_is_refused(codecs, scenes):
    """A reliable header carrying the other bundle's fingerprint, or a JPEG2000 kind, raises
    CodecError instead of decoding a wrong image."""
    uoisc, no_text = codecs["uoisc-tiny-uoisc"], codecs["uoisc-tiny-no-text"]
    assert uoisc.fingerprint != no_text.fingerprint
    foreign = no_text.encode(scenes[0].image)
    with pytest.raises(CodecError, match="another model"):
        uoisc.decode(foreign)
    jpeg_kind = build_frame("jpeg2000", uoisc.fingerprint, foreign[HEADER_BYTES:])
    with pytest.raises(CodecError, match="jpeg2000"):
        uoisc.decode(jpeg_kind)


def test_wrong_lengths_are_refused(codecs, scenes):
    """A frame one byte short or long, a byte_ok of another length, or a str instead of bytes
    raises CodecError."""
    codec = codecs["uoisc-tiny-no-text"]
    data = codec.encode(scenes[0].image)
    for bad in (data[:-1], data + b"\x00"):
        with pytest.raises(CodecError, match="bytes"):
            codec.decode(bad)
    with pytest.raises(CodecError, match="byte_ok"):
        codec.decode(data, np.ones(len(data) - 1, bool))
    with pytest.raises(CodecError, match="str"):
        codec.decode(data.hex())


def test_batch_api_equals_per_image_calls(codecs, scenes):
    """encode_indices on 5 images in batches of 2 equals 5 single-image calls, and
    decode_indices on the batch equals per-image decoding."""
    codec = codecs["uoisc-tiny-uoisc"]
    images, queries = [s.image for s in scenes], [s.qa[0].question for s in scenes]
    batch = codec.encode_indices(images, queries, batch_size=2)
    single = np.concatenate([codec.encode_indices([im], [q]) for im, q in zip(images, queries)])
    assert np.array_equal(batch, single)
    decoded = codec.decode_indices(batch)
    assert np.array_equal(decoded, np.concatenate([codec.decode_indices(b[None]) for b in batch]))


def test_query_rules(codecs, scenes):
    """A text-aligned model refuses a missing or miscounted query; a no-text model ignores one;
    different queries can change the text-aligned model's indices (the query reaches the graph)."""
    uoisc, no_text = codecs["uoisc-tiny-uoisc"], codecs["uoisc-tiny-no-text"]
    image = scenes[3].image
    with pytest.raises(CodecError, match="query"):
        uoisc.encode(image)
    with pytest.raises(CodecError, match="one per image"):
        uoisc.encode_indices([image, image], ["only one"])
    assert no_text.encode(image, "What colour is the cat?") == no_text.encode(image)
    questions = sorted({qa.question for s in scenes for qa in s.qa})
    indices = uoisc.encode_indices([image] * len(questions), questions)
    assert any(not np.array_equal(indices[0], other) for other in indices[1:])


def test_decode_indices_refuses_out_of_range_and_bad_shapes(codecs):
    """Indices outside [0, K), a wrong geometry or a float array raise CodecError."""
    codec = codecs["uoisc-tiny-no-text"]
    good = np.zeros((1, *codec.indices_shape), np.int64)
    for bad in (good + codec.codebook_size, good - 1, good[:, :2], good.astype(np.float32)):
        with pytest.raises(CodecError):
            codec.decode_indices(bad)


def test_runtime_imports_neither_torch_nor_open_clip_nor_gnuradio():
    """Importing uoisc_runtime (with its JPEG2000 codec) and coding one frame loads no torch,
    open_clip or gnuradio module (checked in a fresh interpreter, where nothing else could have
    imported them)."""
    script = (
        "import sys, numpy as np\n"
        "import uoisc_runtime.jpeg2000\n"
        "from uoisc_runtime import SemanticCodec\n"
        f"codec = SemanticCodec.from_path({str(MODELS / 'uoisc-tiny-uoisc')!r}, intra_op_threads=1)\n"
        "codec.decode(codec.encode(np.zeros((64, 64, 3), np.uint8), 'is there a cat?'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'open_clip', 'gnuradio', "
        "'torchvision', 'uoisc_train'}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bundles_without_erasure_index_decode_erased_indices_as_received(codecs, scenes):
    """The shipped bundles have no erasure_index: erased indices are decoded exactly as received
    (the image equals decode_indices of the received indices, with or without the erased mask)
    and nothing is reported replaced."""
    codec = codecs["uoisc-tiny-uoisc"]
    assert codec.erasure_index is None
    data = bytearray(codec.encode(scenes[3].image, scenes[3].qa[0].question))
    data[200:308] = bytes(range(108))
    byte_ok = np.ones(len(data), bool)
    byte_ok[200:308] = False
    result = codec.decode(bytes(data), byte_ok)
    assert result.n_erased == 108 and result.n_replaced == 0
    received = result.indices[None]
    erased = np.zeros(received.shape, bool).reshape(-1)
    erased[200 - HEADER_BYTES:308 - HEADER_BYTES] = True
    assert np.array_equal(result.image, codec.decode_indices(received)[0])
    assert np.array_equal(result.image, codec.decode_indices(received, erased.reshape(received.shape))[0])
