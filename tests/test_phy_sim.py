"""Tests of the uoisc-phy-sim CLI (gnuradio.uoisc.apps.phy_sim) and the PHY demo."""

import json

import pytest

from gnuradio.uoisc.apps import phy_demo, phy_sim
from gnuradio.uoisc.phy import doppler, link_sim, pilot_estimator

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_tiny_run_writes_json_and_png_with_sane_fields(tmp_path):
    """Two AWGN points, 3 PDUs each: JSON lists both points with rates in [0, 1], the
    theory BER falls with Es/N0, and at 20 dB (uncoded BER ~1e-10) every PDU arrives
    intact with correct CRC flags, the receiver counted 3 frames and the pilot filter's design
    Doppler ("auto" on a static channel) is the estimator's floor; the PNG is a real PNG."""
    status = phy_sim.main(["-n", "3", "-b", "40", "-e", "10", "20", "-f", "awgn",
                           "-o", str(tmp_path), "--timeout", "60"])
    assert status == 0
    report = json.loads((tmp_path / "phy_sim.json").read_text())
    assert report["command"].startswith("uoisc-phy-sim")
    assert report["seed"] == 0 and report["machine"]["cpu_count"] >= 1
    points = report["points"]
    assert [p["config"]["esno_db"] for p in points] == [10.0, 20.0]
    for point in points:
        assert point["frames_sent"] == 3
        for key in ("fer", "ber_pre_decoding", "ber_post_decoding", "crc_flag_accuracy"):
            assert point[key] is None or 0.0 <= point[key] <= 1.0, key
        assert point["info_throughput_bps"] >= 0.0
    assert points[0]["ber_uncoded_theory"] > points[1]["ber_uncoded_theory"]
    high = points[1]
    assert high["frames_delivered"] == 3 and high["fer"] == 0.0
    assert high["ber_post_decoding"] == 0.0 and high["crc_flag_accuracy"] == 1.0
    assert high["coded_bits"] > 0
    assert high["receiver_stats"]["frames"] == 3
    assert high["pilot_doppler_used"]["max"] == doppler.FLOOR
    assert (tmp_path / "phy_sim.png").read_bytes()[:8] == PNG_MAGIC


def test_air_path_run_delivers_through_the_modem(tmp_path):
    """--air at 20 dB (CFO 0.002 cycles/sample, 100 ppm clock error) delivers all 3 PDUs
    intact through the RRC modem and channel_model."""
    status = phy_sim.main(["-n", "3", "-b", "100", "-e", "20", "-f", "awgn", "--air",
                           "--no-pre-ber", "-o", str(tmp_path)])
    assert status == 0
    (point,) = json.loads((tmp_path / "phy_sim.json").read_text())["points"]
    assert point["config"]["air"] is True
    assert point["frames_delivered"] == 3 and point["fer"] == 0.0
    assert point["ber_pre_decoding"] is None


@pytest.mark.parametrize("argv, message", [
    (["--air", "-f", "rayleigh"], "--air"),
    (["-t", "none", "-j", "4"], "--threading none"),
    (["-n", "0"], "--n-frames"),
    (["--sync-threshold", "1.2"], "--sync-threshold"),
])
def test_inconsistent_flags_are_refused(argv, message, capsys):
    """Cross-argument mistakes end with a usage error (exit 2) naming the flag."""
    with pytest.raises(SystemExit) as exit_info:
        phy_sim.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_shows_defaults(capsys):
    """--help lists the flag groups and shows default values."""
    with pytest.raises(SystemExit):
        phy_sim.main(["--help"])
    text = capsys.readouterr().out
    assert "air path" in text and "receiver" in text and "(default: 50)" in text


def test_demo_prints_summary_and_writes_report(tmp_path, capsys):
    """The demo at 20 dB AWGN with 2 PDUs prints its summary and writes report.json/png."""
    status = phy_demo.main(["-n", "2", "-b", "30", "-e", "20", "-f", "awgn", "-o", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert "delivered            2/2" in out and "BER after LDPC" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["result"]["frames_delivered"] == 2
    assert (tmp_path / "report.png").read_bytes()[:8] == PNG_MAGIC


def test_log_level_flag_sets_gnuradio_default_level():
    """--log-level warn (phy_sim's helper, shared by the demo) sets GNU Radio's default level, so
    block loggers created afterwards drop debug/info lines; an unknown level is refused."""
    from gnuradio import gr
    logging_singleton = gr.logging()
    before = logging_singleton.default_level()
    try:
        phy_sim.set_gr_log_level("warn")
        assert logging_singleton.default_level() == gr.log_levels.warn
        phy_sim.set_gr_log_level("info")
        assert logging_singleton.default_level() == gr.log_levels.info
    finally:
        logging_singleton.set_default_level(before)
    with pytest.raises(ValueError, match="loud"):
        phy_sim.set_gr_log_level("loud")


def test_demo_log_level_silences_per_frame_debug_lines(tmp_path, capfd):
    """The demo with its default --log-level (info) prints no deframer debug line, even where
    Debian's GNU Radio config asks for debug; --log-level debug brings them back (3 dB AWGN, where
    codewords fail and the deframer logs each failing frame at debug)."""
    from gnuradio import gr
    before = gr.logging().default_level()
    try:
        phy_demo.main(["-n", "3", "-b", "200", "-e", "3", "-f", "awgn", "-o", str(tmp_path)])
        assert ":debug:" not in "".join(capfd.readouterr())  # GNU Radio's console sink: stdout
        phy_demo.main(["-n", "3", "-b", "200", "-e", "3", "-f", "awgn", "-o", str(tmp_path),
                       "--log-level", "debug"])
        assert ":debug:" in "".join(capfd.readouterr())
    finally:
        gr.logging().set_default_level(before)


def test_pilot_flags_reach_the_link_and_bad_ones_are_refused(capsys):
    """-P/-L go into every LinkConfig; a half-disabled pilot layout is a usage error; the air path
    picks the slip-tolerant pilot filter unless --pilot-doppler is given, other links "auto";
    --pilot-doppler takes "auto" or a number in (0, 0.5] and refuses anything else."""
    parser = phy_sim.build_parser()
    args = parser.parse_args(["-P", "32", "-L", "2", "-e", "10", "-f", "awgn", "--air"])
    (config,) = phy_sim.point_configs(args)
    assert (config.pilot_interval, config.pilot_len) == (32, 2)
    assert config.receiver_doppler() == pilot_estimator.SLIP_DOPPLER
    args = parser.parse_args(["--pilot-doppler", "2e-3", "-e", "10", "-f", "awgn"])
    assert phy_sim.point_configs(args)[0].receiver_doppler() == 2e-3
    for argv in (["-e", "10"], ["--pilot-doppler", "auto", "-e", "10"]):
        assert phy_sim.point_configs(parser.parse_args(argv))[0].receiver_doppler() == pilot_estimator.AUTO
    for bad in ("fast", "0", "0.7"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--pilot-doppler", bad])
        assert "--pilot-doppler" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        phy_sim.main(["-P", "64", "-L", "0"])
    assert "--pilot-interval" in capsys.readouterr().err


def test_sync_threshold_reaches_the_receiver():
    """--sync-threshold goes into every LinkConfig and from there into phy_rx's burst receiver;
    a LinkConfig with a threshold outside (0, 1) is refused by validate()."""
    args = phy_sim.build_parser().parse_args(["--sync-threshold", "0.2", "-e", "3", "-f", "awgn"])
    (config,) = phy_sim.point_configs(args)
    assert config.sync_threshold == 0.2
    assert link_sim.LinkFlowgraph(config).rx.sync.receiver.threshold == 0.2
    with pytest.raises(ValueError, match="sync_threshold"):
        link_sim.LinkConfig(sync_threshold=0.0).validate()


def test_transmit_payloads_delivers_given_payloads_by_seq_with_their_type():
    """transmit_payloads sends the caller's payloads (any lengths) with seq = position and
    the given payload type; on a clean AWGN link every one comes back byte-exact, and the
    receiver's counters say three bursts were read and none lost at the header."""
    payloads = [b"a caption as UTF-8", bytes(range(256)) * 2, b"\x00"]
    run = link_sim.transmit_payloads(link_sim.LinkConfig(esno_db=25.0, fading="awgn", seed=1),
                                     payloads, payload_type="vlf")
    assert sorted(run.delivered) == [0, 1, 2]
    for seq, payload in enumerate(payloads):
        meta, data = run.delivered[seq]
        assert meta["payload_type"] == "vlf"
        assert data.tobytes() == payload
    assert run.elapsed_s > 0
    assert run.receiver_stats["frames"] == 3 and run.receiver_stats["header_crc_fail"] == 0


def test_transmit_payloads_refuses_an_empty_list():
    """No payloads is a caller error, not an empty run."""
    with pytest.raises(ValueError, match="at least one payload"):
        link_sim.transmit_payloads(link_sim.LinkConfig(), [])
