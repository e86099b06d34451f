#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of the RRC air modem (air_modulator / air_demodulator).

The radio is replaced by ``channels.channel_model`` with a carrier frequency
offset, a sampling-clock error (epsilon != 1) and AWGN.
"""

import numpy as np
import pmt
from gnuradio import blocks, channels, digital, gr, gr_unittest

from gnuradio.uoisc.phy import link_sim
from gnuradio.uoisc.phy.air import (air_demodulator, air_modulator, fill_guard_symbols,
                                    filler_symbols, guard_filler, noise_voltage_for_esno,
                                    resolve_phase_ambiguity, rrc_taps)

SPS = 4
AMPLITUDE = 0.5
POINTS = np.array(digital.constellation_8psk().points())
#: Symbols the loops may take to lock (measured ~1000-1500 with the defaults).
ACQUISITION_SYMBOLS = 2000


def random_8psk(n, seed):
    """Known random 8-PSK symbols (GNU Radio's points) and their indices."""
    index = np.random.default_rng(seed).integers(0, 8, n)
    return POINTS[index].astype(np.complex64), index


def run_air_link(symbols, esno_db, frequency_offset, epsilon, seed=1):
    """symbols -> modulator -> channel_model -> demodulator; returns the output.

    No lead-in: the test measures acquisition on the data itself.
    """
    tb = gr.top_block()
    source = blocks.vector_source_c(symbols.tolist())
    modulator = air_modulator(sps=SPS, amplitude=AMPLITUDE, lead_in=0)
    radio = channels.channel_model(
        noise_voltage=noise_voltage_for_esno(esno_db, SPS, AMPLITUDE),
        frequency_offset=frequency_offset, epsilon=epsilon,
        taps=[np.exp(0.7j)], noise_seed=seed)
    demodulator = air_demodulator(sps=SPS)
    sink = blocks.vector_sink_c()
    tb.connect(source, modulator, radio, demodulator, sink)
    tb.run()
    return np.array(sink.data())


def symbol_error_rate(received, sent, sent_index):
    """SER of ``received`` against ``sent`` after fixing delay and 8-fold phase."""
    aligned, _ = resolve_phase_ambiguity(received, sent)
    decided = np.argmin(np.abs(aligned[:, None] - POINTS[None, :]), axis=1)
    return float(np.mean(decided != sent_index))


class qa_air(gr_unittest.TestCase):

    def test_modulator_interpolates_with_set_power(self):
        """N symbols after a lead-in of L become (L+N)*sps samples whose mean power
        is amplitude^2 (+-5 %)."""
        symbols, _ = random_8psk(4000, seed=3)
        tb = gr.top_block()
        sink = blocks.vector_sink_c()
        # Keep the hier block referenced while it runs: it owns a Python block.
        modulator = air_modulator(sps=SPS, amplitude=AMPLITUDE, lead_in=100)
        tb.connect(blocks.vector_source_c(symbols.tolist()), modulator, sink)
        tb.run()
        samples = np.array(sink.data())
        self.assertEqual(len(samples), SPS * (100 + len(symbols)))
        power = np.mean(np.abs(samples[100:-100]) ** 2)
        self.assertAlmostEqual(power / AMPLITUDE**2, 1.0, delta=0.05)

    def test_rrc_taps_have_unit_gain_per_arm(self):
        """Interpolator taps carry sps of energy, so unit symbols give unit sample power."""
        taps = rrc_taps(SPS, 0.35)
        self.assertAlmostEqual(float(np.sum(taps**2)), SPS, places=6)
        self.assertEqual(len(taps) % 2, 1)

    def test_guard_zeros_become_filler_continuously(self):
        """Exact-zero guards are replaced by the filler indexed by absolute position."""
        filler = filler_symbols()
        chunk = np.array([1, 0, 0, 1j, 0], dtype=np.complex64)
        out = fill_guard_symbols(chunk, start_index=len(filler) - 1, filler=filler)
        np.testing.assert_array_equal(out[[0, 3]], chunk[[0, 3]])
        np.testing.assert_array_equal(out[[1, 2, 4]], filler[[0, 1, 3]])
        self.assertTrue(np.allclose(np.abs(filler), 1.0))
        # Every filler point is one of the 8-PSK points the Costas loop locks to.
        distance = np.min(np.abs(filler[:, None] - POINTS[None, :]), axis=1)
        self.assertLess(float(distance.max()), 1e-6)

    def test_lead_in_comes_first_and_tags_follow_their_samples(self):
        """guard_filler emits L filler symbols, then the input with zeros filled;
        a tag on input item 5 comes out on output item L + 5."""
        lead_in = 7
        data = np.array([1, 0, 1j, 0, -1, 1, 0, 1], dtype=np.complex64)
        tag = gr.tag_utils.python_to_tag((5, pmt.intern("mark"), pmt.PMT_T))
        tb = gr.top_block()
        filler_block = guard_filler(lead_in=lead_in, fill=True)
        sink = blocks.vector_sink_c()
        tb.connect(blocks.vector_source_c(data.tolist(), False, 1, [tag]), filler_block, sink)
        tb.run()
        out = np.array(sink.data())
        filler = filler_symbols()
        np.testing.assert_array_equal(out[:lead_in], filler[:lead_in])
        expected = fill_guard_symbols(data, lead_in, filler)
        np.testing.assert_array_equal(out[lead_in:], expected)
        self.assertEqual([t.offset for t in sink.tags()], [lead_in + 5])

    def test_recovers_symbols_through_frequency_and_timing_offset(self):
        """At Es/N0 = 20 dB, 0.005 cycles/sample of CFO and 100 ppm of clock error,
        the symbols after acquisition come out with SER < 1e-2 once the 8-fold
        phase ambiguity is fixed (theory: ~1e-7; the margin is for loop jitter)."""
        symbols, index = random_8psk(8000, seed=5)
        received = run_air_link(symbols, esno_db=20.0, frequency_offset=0.005, epsilon=1.0001)
        self.assertGreater(len(received), 7800)
        reference = slice(ACQUISITION_SYMBOLS, len(symbols) - 200)
        ser = symbol_error_rate(received, symbols[reference], index[reference])
        self.assertLess(ser, 1e-2)

    def test_garbage_before_lock_is_not_fatal(self):
        """Noise only (no signal) through the demodulator runs and yields ~1 output/sps."""
        rng = np.random.default_rng(9)
        noise = (rng.standard_normal(20000) + 1j * rng.standard_normal(20000)) * 0.1
        tb = gr.top_block()
        sink = blocks.vector_sink_c()
        demodulator = air_demodulator(sps=SPS)
        tb.connect(blocks.vector_source_c(noise.tolist()), demodulator, sink)
        tb.run()
        self.assertAlmostEqual(len(sink.data()) / (len(noise) / SPS), 1.0, delta=0.05)
        self.assertTrue(np.all(np.isfinite(np.array(sink.data()))))

    def test_length_tag_scaled_for_burst_mode(self):
        """A packet-length tag of N symbols comes out as N*sps samples at the same packet."""
        symbols, _ = random_8psk(300, seed=2)
        tag = gr.tag_utils.python_to_tag((0, pmt.intern("packet_len"), pmt.from_long(300)))
        tb = gr.top_block()
        sink = blocks.vector_sink_c()
        modulator = air_modulator(sps=SPS, len_tag_key="packet_len", lead_in=0)
        tb.connect(blocks.vector_source_c(symbols.tolist(), False, 1, [tag]), modulator, sink)
        tb.run()
        tags = [t for t in sink.tags() if pmt.symbol_to_string(t.key) == "packet_len"]
        self.assertEqual(len(tags), 1)
        self.assertEqual(tags[0].offset, 0)
        self.assertEqual(pmt.to_long(tags[0].value), 300 * SPS)

    def test_phy_frames_cross_the_air_path_intact(self):
        """phy_tx -> air_modulator -> channel_model (0.005 cycles/sample CFO, 100 ppm
        clock error, Es/N0 20 dB) -> air_demodulator -> phy_rx delivers every PDU
        intact: the lead-in lets the loops lock before frame 0, the guard filler
        keeps them locked, and phy_rx's preamble estimate removes the 8-fold
        phase ambiguity."""
        config = link_sim.LinkConfig(esno_db=20.0, fading="awgn", air=True,
                                     frequency_offset=0.005, epsilon=1.0001, n_frames=8,
                                     payload_bytes=200, measure_pre_ber=False, timeout_s=60.0)
        result = link_sim.run_link(config)
        self.assertEqual(result["frames_delivered"], 8)
        self.assertEqual(result["frames_wrong"], 0)
        self.assertEqual(result["crc_flag_accuracy"], 1.0)

    def test_bad_arguments_raise_value_error(self):
        """Nonsense parameters are refused with a ValueError naming the value."""
        with self.assertRaisesRegex(ValueError, "sps"):
            air_modulator(sps=1)
        with self.assertRaisesRegex(ValueError, "rolloff"):
            air_demodulator(rolloff=0.0)
        with self.assertRaisesRegex(ValueError, "phase_bw"):
            air_demodulator(phase_bw=2.0)
        with self.assertRaisesRegex(ValueError, "amplitude"):
            air_modulator(amplitude=0)
        with self.assertRaisesRegex(ValueError, "lead_in"):
            air_modulator(lead_in=-1)


if __name__ == "__main__":
    gr_unittest.run(qa_air)
