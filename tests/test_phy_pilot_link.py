#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Whole-flowgraph checks of the pilots: phy_tx -> channel (Doppler) / air path -> phy_rx.

The numpy-level checks of the layout and the estimator are in test_phy_pilots.py and
test_phy_receiver.py; here the hier blocks run in a real flowgraph (``link_sim.run_link``).
"""

from gnuradio.uoisc.phy import link_sim


def intact_frames(result):
    """Frames delivered with the payload equal to the one sent."""
    return result["frames_delivered"] - result["frames_wrong"]


def test_doppler_1e3_decodes_with_pilots_not_without():
    """Rayleigh fading with fD*Ts = 1e-3 (channels.fading_model) at 20 dB, 20 bursts of 10
    codewords (~6 900 symbols, 7 Doppler periods each), seed 5.

    Without pilots one gain per burst cannot follow the phase, which turns several times within
    a burst: at most 2 of 20 frames intact. With the default pilots (4 every 64 data symbols:
    15 pilot blocks per Doppler period) and the burst-wide interleaver every codeword sees the
    burst's average fading, for which rate 1/2 8-PSK at 20 dB is far above its threshold; a frame
    is then lost only when its preamble/header (704 symbols) falls in a deep fade, a few percent
    at 20 dB: at least 16 of 20 (80%) must be intact."""
    common = dict(esno_db=20.0, fading="rayleigh", doppler=1e-3, n_frames=20, payload_bytes=1080,
                  seed=5, measure_pre_ber=False, settle_s=2.0)
    with_pilots = link_sim.run_link(link_sim.LinkConfig(**common))
    assert intact_frames(with_pilots) >= 16
    without = link_sim.run_link(link_sim.LinkConfig(pilot_interval=0, pilot_len=0, **common))
    assert intact_frames(without) <= 2


def test_air_path_at_12_db_with_pilots():
    """Air path (RRC modem, channel_model with CFO 0.005 cycles/sample and 100 ppm clock error) at
    Es/N0 = 12 dB, 20 PDUs of 300 B, seed 0.

    Without pilots the 8th-order Costas loop slips by 45 degrees within most bursts and the
    burst is lost (measured FER 0.90 over 40 PDUs, docs/phy.md). With the default pilots a slip
    only spoils the symbols between two pilot blocks, which the code corrects: measured FER 0.15
    over 40 PDUs (frames lost at the header, where a slip still breaks the combining). Threshold
    from that measurement with a margin of ~3 binomial standard deviations for 20 PDUs:
    at least 12 of 20 intact."""
    result = link_sim.run_link(link_sim.LinkConfig(
        esno_db=12.0, fading="awgn", n_frames=20, payload_bytes=300, seed=0, air=True,
        frequency_offset=0.005, epsilon=1.0001, measure_pre_ber=False, settle_s=2.0))
    assert intact_frames(result) >= 12
