"""uoisc-eval's point store, resume logic, results.json schema and symbols ratio.

The sweep runs here with stand-in codecs (no flowgraph): what is checked is the
bookkeeping around the transmissions, which must not depend on the PHY.
"""

import json
import os

import pytest

from gnuradio.uoisc.apps import eval_pairs, eval_report, eval_store, evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "models", "uoisc-tiny-judge")
N_PAIRS = 3


@pytest.fixture(scope="module")
def judge():
    from uoisc_train.judges import load_tiny_judge
    return load_tiny_judge(JUDGE)


def config(system="identity", esno_db=0.0, n_pairs=N_PAIRS, **changes):
    values = {"system": system, "model": system, "jpeg2000_bytes": 0, "fading": "rayleigh",
              "split": "test_zeroshot", "esno_db": esno_db, "n_pairs": n_pairs,
              "pair_seed": eval_pairs.EVAL_SEED, "channel_seed": 0, "code": "n1800_k902",
              "doppler": 0.0, "judge": JUDGE}
    values.update(changes)
    return values


class CountingTransmit:
    """A stand-in link: identity reconstructions (or None for the first ``n_lost``)."""

    def __init__(self, n_lost=0):
        self.calls, self.n_lost = [], n_lost

    def __call__(self, pairs, point_config, work_dir):
        self.calls.append(point_config["esno_db"])
        images = [None if i < self.n_lost else p.image.copy() for i, p in enumerate(pairs)]
        link = {"payload_bytes": 100, "bits_per_image": 800, "channel_symbols_per_image": 1000,
                "n_received": len(pairs) - self.n_lost, "n_lost": self.n_lost, "codewords": 4,
                "codewords_failed": 1, "codeword_failure_rate": 0.25, "mean_snr_est_db": 3.0,
                "decode_status": {"ok": len(pairs) - self.n_lost}}
        return images, link


def sweep(out_dir, configs, transmit, judge, force=False):
    return evaluate.run_sweep(configs, str(out_dir), transmit, lambda: judge,
                              evaluate.pair_cache(64), force=force, progress=False, commit="c0ffee")


def test_point_json_has_the_documented_schema(tmp_path, judge):
    """A computed point is stored as JSON with every documented key, one score per pair,
    rates in [0, 1], and check_point accepts it; dropping a metric makes it fail."""
    points, n_computed = sweep(tmp_path, [config()], CountingTransmit(n_lost=1), judge)
    assert n_computed == 1
    path = eval_store.point_path(tmp_path, config())
    stored = json.loads(path.read_text())
    eval_store.check_point(stored)
    assert stored["schema"] == eval_store.POINT_SCHEMA and stored["config"] == config()
    assert stored["commit"] == "c0ffee"
    assert set(eval_store.METRIC_KEYS) <= set(stored["metrics"])
    assert set(eval_store.LINK_KEYS) <= set(stored["link"])
    assert len(stored["pairs"]) == N_PAIRS and stored["metrics"]["n_lost"] == 1
    pair_keys = {"match", "answer_original", "answer_reconstruction", "relevance_loss", "lost"}
    assert pair_keys <= set(stored["pairs"][0])
    del stored["metrics"]["answer_match_rate"]
    with pytest.raises(ValueError, match="answer_match_rate"):
        eval_store.check_point(stored)


def test_results_json_gathers_points_without_pair_scores(tmp_path, judge):
    """results.json lists every point in Es/N0 order without per-pair scores, with the commit,
    the command and the symbols ratio, and passes check_results; a wrong schema fails."""
    points, _ = sweep(tmp_path, [config(esno_db=10.0), config(esno_db=5.0)], CountingTransmit(), judge)
    path = eval_store.write_results(tmp_path, points, "abc123", "uoisc-eval -n 3", None)
    results = json.loads(path.read_text())
    eval_store.check_results(results)
    assert [p["config"]["esno_db"] for p in results["points"]] == [5.0, 10.0]  # numeric, not "+10" < "+5"
    assert all("pairs" not in p for p in results["points"])
    assert results["commit"] == "abc123" and results["command"] == "uoisc-eval -n 3"
    results["schema"] = "something-else/1"
    with pytest.raises(ValueError, match="schema"):
        eval_store.check_results(results)


def test_resume_skips_stored_points_and_redoes_changed_or_forced_ones(tmp_path, judge):
    """A second run transmits nothing for points stored with the same config; a point whose
    config changed (another n) and every point under force are transmitted again; a
    truncated point file is redone rather than trusted."""
    configs = [config(esno_db=0.0), config(esno_db=10.0)]
    first = CountingTransmit()
    sweep(tmp_path, configs, first, judge)
    assert first.calls == [0.0, 10.0]
    again = CountingTransmit()
    points, n_computed = sweep(tmp_path, configs, again, judge)
    assert again.calls == [] and n_computed == 0 and len(points) == 2
    changed = CountingTransmit()
    sweep(tmp_path, [config(esno_db=0.0, n_pairs=2), configs[1]], changed, judge)
    assert changed.calls == [0.0]
    forced = CountingTransmit()
    sweep(tmp_path, configs, forced, judge, force=True)
    assert forced.calls == [0.0, 10.0]
    path = eval_store.point_path(tmp_path, configs[1])
    path.write_text(path.read_text()[:50])
    truncated = CountingTransmit()
    sweep(tmp_path, configs, truncated, judge)
    assert truncated.calls == [10.0]


def fake_point(system, esno_db, amr, symbols):
    return {"config": {"system": system, "fading": "rayleigh", "split": "test_zeroshot", "esno_db": esno_db},
            "metrics": {"answer_match_rate": amr}, "link": {"channel_symbols_per_image": symbols}}


def test_symbols_ratio_interpolates_between_the_budgets_around_the_target():
    """UO-ISC at AMR 0.6 with 1000 symbols; JPEG2000 at (2000, 0.4) and (6000, 0.8): the line
    through them reaches 0.6 at 4000 symbols, a ratio of 4. Points of other Es/N0 are ignored."""
    points = [fake_point("uoisc", 10.0, 0.6, 1000), fake_point("jpeg2000", 10.0, 0.4, 2000),
              fake_point("jpeg2000@9000", 10.0, 0.8, 6000), fake_point("jpeg2000@1", 5.0, 1.0, 100)]
    ratio = eval_report.symbols_ratio(points)
    assert ratio["bound"] == "interpolated"
    assert ratio["jpeg2000_symbols"] == pytest.approx(4000.0)
    assert ratio["ratio"] == pytest.approx(4.0)


def test_symbols_ratio_flags_budgets_that_never_reach_or_always_reach_the_target():
    """When no JPEG2000 budget reaches UO-ISC's AMR the ratio is the largest budget's (a lower
    bound, flagged not_reached); when the smallest already does it is an upper bound (at_most);
    without a reference point there is no ratio."""
    never = [fake_point("uoisc", 10.0, 0.9, 1000), fake_point("jpeg2000", 10.0, 0.4, 2000),
             fake_point("jpeg2000@9", 10.0, 0.5, 3000)]
    assert eval_report.symbols_ratio(never)["bound"] == "not_reached"
    assert eval_report.symbols_ratio(never)["ratio"] == pytest.approx(3.0)
    always = [fake_point("uoisc", 10.0, 0.3, 1000), fake_point("jpeg2000", 10.0, 0.4, 500)]
    assert eval_report.symbols_ratio(always)["bound"] == "at_most"
    assert eval_report.symbols_ratio(always)["ratio"] == pytest.approx(0.5)
    assert eval_report.symbols_ratio(always[1:]) is None


def test_symbols_ratio_uses_only_jpeg2000_sent_with_the_reference_code():
    """JPEG2000 points sent with another PHY code than the reference's are another curve and
    stay out of the interpolation: here only the x4 budget would reach the target."""
    def with_code(point, code):
        point["config"]["code"] = code
        return point
    points = [with_code(fake_point("uoisc", 10.0, 0.6, 1000), "n1800_k902"),
              with_code(fake_point("jpeg2000", 10.0, 0.4, 2000), "n1800_k902"),
              with_code(fake_point("jpeg2000@500:n1800_k902x4", 10.0, 0.9, 3000), "n1800_k902x4")]
    ratio = eval_report.symbols_ratio(points)
    assert [entry["system"] for entry in ratio["curve"]] == ["jpeg2000"]
    assert ratio["bound"] == "not_reached"


@pytest.mark.parametrize("system, expected", [
    ("uoisc", ("uoisc", "n1800_k902")),
    ("jpeg2000@424:n1800_k902x4", ("jpeg2000@424", "n1800_k902x4")),
    ("runs/bundles/a:n1800_k902x2", ("runs/bundles/a", "n1800_k902x2")),
])
def test_split_code_reads_an_optional_code_suffix(system, expected):
    """A system name may end in ":<code>"; without it the sweep's code applies."""
    from gnuradio.uoisc.apps import eval_link
    assert eval_link.split_code(system, "n1800_k902") == expected


def test_split_code_refuses_an_unknown_code():
    """An unknown code after the separator is a ValueError naming it."""
    from gnuradio.uoisc.apps import eval_link
    with pytest.raises(ValueError, match="n1800_k902x9"):
        eval_link.split_code("uoisc:n1800_k902x9", "n1800_k902")


def test_markdown_tables_list_every_system_and_snr():
    """tables.md has one row per system and one column per Es/N0 in each metric table."""
    points = []
    for system, symbols in (("uoisc", 1000), ("jpeg2000", 1100)):
        for esno in (0.0, 10.0):
            point = fake_point(system, esno, 0.5, symbols)
            point["metrics"].update(accuracy=0.5, relevance_loss=0.1, psnr_db=None, n_lost=0)
            point["link"].update(codeword_failure_rate=0.0, payload_bytes=10, bits_per_image=80)
            points.append(point)
    text = eval_report.markdown_tables(points)
    assert "| system | 0 dB | 10 dB |" in text
    assert text.count("| uoisc |") == len(eval_report.TABLE_METRICS) + 1
    assert "| jpeg2000 | 10 | 80 | 1100 |" in text


def test_loaded_points_get_their_metrics_recomputed_from_the_pair_scores(tmp_path, judge):
    """A stored point written before a metric existed (here: the received-only match rate
    removed from its file) is not transmitted again, and comes back with that metric
    computed from its stored pair scores (1 of 3 lost, the others identical: 1.0)."""
    sweep(tmp_path, [config()], CountingTransmit(n_lost=1), judge)
    path = eval_store.point_path(tmp_path, config())
    stored = json.loads(path.read_text())
    del stored["metrics"]["answer_match_rate_received"]
    path.write_text(json.dumps(stored))
    again = CountingTransmit()
    (point,), _ = sweep(tmp_path, [config()], again, judge)
    assert again.calls == []
    assert point["metrics"]["answer_match_rate_received"] == 1.0


def test_loaded_points_get_their_channel_symbols_recounted(tmp_path, judge):
    """A stored point's channel symbols per image (a count from its payload size and code, which
    points stored before the payload pilots were counted got wrong) come back as the current
    burst length of that payload, without transmitting again."""
    from gnuradio.uoisc.apps import semantic_link

    sweep(tmp_path, [config()], CountingTransmit(), judge)
    again = CountingTransmit()
    (point,), _ = sweep(tmp_path, [config()], again, judge)
    assert again.calls == []
    assert point["link"]["channel_symbols_per_image"] == semantic_link.burst_symbols(100, config()["code"])
