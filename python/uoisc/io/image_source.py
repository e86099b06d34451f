#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""GNU Radio block: emits image PDUs from image files or generated scenes."""

import math
import threading
import time

import pmt
from gnuradio import gr

from .image_pdu import image_pdu
from .source_items import open_source, source_meta

OUT_PORT = pmt.intern("out")
NEXT_PORT = pmt.intern("next")


class image_source(gr.basic_block):
    """Image PDUs (``docs/io.md``) from a file, a folder of images or the scene generator.

    Each PDU's meta has ``image_id``, ``query``, ``seq`` (0..65535, counting up mod 65536),
    ``index`` (running count), ``height``/``width``/``channels`` and, for generated scenes,
    ``split``, ``scene_seed``, ``answer``, ``question_kind``; for files, ``file``.

    Pacing: ``rate`` > 0 emits that many images per second from a thread started in
    ``start()`` and stopped in ``stop()``; any message on "next" emits one image (with any
    rate). When the source is exhausted the block logs it once and emits nothing more.

    Args:
        source (str): "generator", an image file, or a folder (its image files in name order).
        queries (str): a sidecar file (``.jsonl``: ``{"image": name, "query": text}`` per line;
            other suffixes: one query per line, in file order), or a fixed query for every
            image; "" = the scene's first question for the generator, no query for files.
        split (str): generator split ("train", "test_seen", "test_zeroshot", "pretrain").
        n_images (int): stop after this many images; 0 = no limit (files once, or forever with
            ``loop``; the generator forever).
        seed (int): generator dataset seed (image i is scene ``scene_seed(seed, i)``).
        image_size (int): generator scene side (64..512); files are resized (shortest side,
            bicubic) and centre-cropped to it; 0 keeps files at their own size.
        rate (float): images per second; 0 = only on "next" messages.
        loop (bool): repeat the files.

    Raises:
        ValueError: bad arguments, missing file/folder, bad sidecar (at construction).
    """

    def __init__(self, source="generator", queries="", split="test_zeroshot", n_images=0, seed=0,
                 image_size=64, rate=0.0, loop=False):
        gr.basic_block.__init__(self, name="uoisc_image_source", in_sig=None, out_sig=None)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate < 0:
            raise ValueError(f"rate must be a finite number >= 0 images/s, got {rate!r}")
        self.rate = float(rate)
        self.n_emitted = 0
        self.n_skipped = 0
        self._items = open_source(source, queries=queries, split=split, n_images=n_images, seed=seed,
                                  image_size=image_size, loop=loop, on_skip=self._skip)
        self._exhausted = False
        self._lock = threading.Lock()  # "next" handler and pacing thread share the iterator
        self._stopping = threading.Event()
        self._thread = None
        self.message_port_register_out(OUT_PORT)
        self.message_port_register_in(NEXT_PORT)
        self.set_msg_handler(NEXT_PORT, self._handle_next)

    @property
    def exhausted(self):
        """True once the source has no more images."""
        return self._exhausted

    def emit_one(self):
        """Publish the next image on "out"; returns False when the source is exhausted."""
        with self._lock:
            if self._exhausted:
                return False
            try:
                item = next(self._items)
            except StopIteration:
                self._exhausted = True
                self.logger.info(f"source exhausted after {self.n_emitted} images")
                return False
            index = self.n_emitted
            self.n_emitted += 1
        self.message_port_pub(OUT_PORT, image_pdu(item.image, **source_meta(item, index)))
        return True

    def start(self):
        if self.rate > 0:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._pace, name="uoisc_image_source", daemon=True)
            self._thread.start()
        return super().start()

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return super().stop()

    def _pace(self):
        period = 1.0 / self.rate
        deadline = time.monotonic()
        while not self._stopping.is_set():
            try:
                if not self.emit_one():
                    return
            except Exception as err:  # noqa: BLE001 - a failing image must not kill the flowgraph silently
                self.logger.error(f"image source stopped: {err}")
                return
            deadline += period
            self._stopping.wait(max(0.0, deadline - time.monotonic()))

    def _handle_next(self, _msg):
        try:
            self.emit_one()
        except Exception as err:  # noqa: BLE001 - keep the flowgraph running
            self.logger.error(f"image source failed to emit: {err}")

    def _skip(self, message):
        self.n_skipped += 1
        self.logger.warn(message)
