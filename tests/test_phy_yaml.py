#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The PHY blocks' GRC definitions: documented, keyword-argument make templates, loadable by GRC."""

import inspect
import pathlib
import re

import pytest
import yaml

from gnuradio.uoisc import phy

GRC_DIR = pathlib.Path(__file__).resolve().parents[1] / "grc" / "phy"
BLOCKS = {"uoisc_phy_tx": phy.phy_tx, "uoisc_channel": phy.channel, "uoisc_phy_rx": phy.phy_rx}


def load(block_id):
    return yaml.safe_load((GRC_DIR / f"{block_id}.block.yml").read_text())


@pytest.mark.parametrize("block_id", sorted(BLOCKS))
def test_yaml_is_documented(block_id):
    """Each YAML has its id, the [UOISC]/PHY category, file_format 1 and a documentation
    with Inputs, Outputs and Parameters sections naming every parameter label."""
    data = load(block_id)
    assert data["id"] == block_id
    assert data["category"] == "[UOISC]/PHY"
    assert data["file_format"] == 1
    doc = data["documentation"]
    for section in ("Inputs:", "Outputs:", "Parameters:"):
        assert section in doc
    for param in data["parameters"]:
        assert param["label"] in doc, param["label"]


@pytest.mark.parametrize("block_id", sorted(BLOCKS))
def test_make_template_uses_python_keywords(block_id):
    """The make template passes every YAML parameter as a keyword the Python class accepts."""
    data = load(block_id)
    keywords = re.findall(r"(\w+)=\$\{(\w+)\}", data["templates"]["make"])
    assert [k for k, v in keywords if k == v] == [p["id"] for p in data["parameters"]]
    accepted = inspect.signature(BLOCKS[block_id].__init__).parameters
    assert all(k in accepted for k, _ in keywords)


def test_grc_loads_the_blocks():
    """GNU Radio Companion's platform (the installed YAML) knows all three blocks."""
    from gnuradio import gr
    from gnuradio.grc.core.platform import Platform

    platform = Platform(version=gr.version(),
                        version_parts=(gr.major_version(), gr.api_version(), gr.minor_version()),
                        prefs=gr.prefs())
    platform.build_library()
    for block_id in BLOCKS:
        assert block_id in platform.blocks


FLOWGRAPH = """
options:
  parameters: {{generate_options: no_gui, id: phy_yaml_check, run_options: run}}
  states: {{coordinate: [8, 8], rotation: 0, state: enabled}}
blocks:
- name: strobe
  id: blocks_message_strobe
  parameters: {{msg: 'pmt.cons(pmt.make_dict(), pmt.init_u8vector(3, [1, 2, 3]))', period: '100'}}
  states: {{coordinate: [8, 100], rotation: 0, state: enabled}}
- name: tx
  id: uoisc_phy_tx
  parameters: {{code: '"n1800_k902"', guard_len: '64', pilot_interval: '64', pilot_len: '4'}}
  states: {{coordinate: [200, 100], rotation: 0, state: enabled}}
- name: ch
  id: uoisc_channel
  parameters: {{esno_db: '10.0', fading: '"rayleigh"', doppler: '0.0', block_len: '0', seed: '0'}}
  states: {{coordinate: [400, 100], rotation: 0, state: enabled}}
- name: rx
  id: uoisc_phy_rx
  parameters: {{code: '"n1800_k902"', threading: '{threading}', n_decoders: '{n_decoders}', max_iter: '50',
               threshold: '0.3', emit_llr: 'False', pilot_interval: '64', pilot_len: '4',
               pilot_doppler: '1e-3'}}
  states: {{coordinate: [600, 100], rotation: 0, state: enabled}}
- name: sink
  id: blocks_message_debug
  parameters: {{en_uvec: 'True'}}
  states: {{coordinate: [800, 100], rotation: 0, state: enabled}}
connections:
- [strobe, strobe, tx, in]
- [tx, '0', ch, '0']
- [ch, '0', rx, '0']
- [rx, out, sink, store]
metadata: {{file_format: 1}}
"""


@pytest.mark.parametrize("threading, n_decoders, valid", [
    ('"capillary"', 2, True), ("None", 1, True), ('"ordinary"', 3, True),
    ('"capillary"', 3, False), ('"ordinary"', 1, False)])
def test_grcc_compiles_and_asserts(tmp_path, threading, n_decoders, valid):
    """grcc compiles tx -> channel -> rx with valid decoder banks (the generated code calls
    the blocks with keywords) and refuses invalid ones through the YAML asserts."""
    import subprocess

    grc = tmp_path / "check.grc"
    grc.write_text(FLOWGRAPH.format(threading=threading, n_decoders=n_decoders))
    result = subprocess.run(["grcc", str(grc), "-o", str(tmp_path)], capture_output=True, text=True)
    assert (result.returncode == 0) == valid, result.stdout + result.stderr
    if valid:
        code = (tmp_path / "phy_yaml_check.py").read_text()
        assert f"threading={threading}, n_decoders={n_decoders}," in code
