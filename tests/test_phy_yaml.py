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
