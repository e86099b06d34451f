#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The codec blocks' GRC definitions: documented, keyword make templates, compiled by grcc."""

import importlib.util
import inspect
import pathlib
import re
import subprocess
import tempfile

import yaml
from gnuradio import gr_unittest

from gnuradio.uoisc import codec

ROOT = pathlib.Path(__file__).resolve().parents[3]
GRC_DIR = ROOT / "grc" / "codec"
BUNDLE = ROOT / "models" / "uoisc-tiny-uoisc"
VLF_BUNDLE = ROOT / "models" / "uoisc-tiny-vlf"
BLOCKS = {"uoisc_semantic_encoder": codec.semantic_encoder, "uoisc_semantic_decoder": codec.semantic_decoder,
          "uoisc_jpeg2000_encoder": codec.jpeg2000_encoder, "uoisc_jpeg2000_decoder": codec.jpeg2000_decoder,
          "uoisc_vlf_encoder": codec.vlf_encoder, "uoisc_vlf_decoder": codec.vlf_decoder}

FLOWGRAPH = """
options:
  parameters: {{generate_options: no_gui, id: codec_yaml_check, run_options: run}}
  states: {{coordinate: [8, 8], rotation: 0, state: enabled}}
blocks:
- name: model
  id: parameter
  parameters: {{type: str, value: '{bundle}'}}
  states: {{coordinate: [8, 100], rotation: 0, state: enabled}}
- name: strobe
  id: blocks_message_strobe
  parameters: {{msg: 'pmt.PMT_NIL', period: '1000'}}
  states: {{coordinate: [8, 200], rotation: 0, state: enabled}}
- name: sem_enc
  id: uoisc_semantic_encoder
  parameters: {{model_path: model, providers: CPUExecutionProvider, intra_op_threads: '1',
               default_query: 'What colour is the fish?'}}
  states: {{coordinate: [200, 200], rotation: 0, state: enabled}}
- name: sem_dec
  id: uoisc_semantic_decoder
  parameters: {{model_path: model, providers: auto, intra_op_threads: '0'}}
  states: {{coordinate: [400, 200], rotation: 0, state: enabled}}
- name: vlf_enc
  id: uoisc_vlf_encoder
  parameters: {{model_path: '{vlf_bundle}', providers: CPUExecutionProvider, intra_op_threads: '1',
               default_query: ''}}
  states: {{coordinate: [200, 400], rotation: 0, state: enabled}}
- name: vlf_dec
  id: uoisc_vlf_decoder
  parameters: {{model_path: '{vlf_bundle}', providers: auto, intra_op_threads: '0', steps: '4',
               guidance: '1.5', seed: '3'}}
  states: {{coordinate: [400, 400], rotation: 0, state: enabled}}
- name: j2k_enc
  id: uoisc_jpeg2000_encoder
  parameters: {{max_bytes: '{max_bytes}'}}
  states: {{coordinate: [200, 300], rotation: 0, state: enabled}}
- name: j2k_dec
  id: uoisc_jpeg2000_decoder
  parameters: {{fallback_size: '64'}}
  states: {{coordinate: [400, 300], rotation: 0, state: enabled}}
- name: sink
  id: blocks_message_debug
  parameters: {{en_uvec: 'True'}}
  states: {{coordinate: [600, 200], rotation: 0, state: enabled}}
connections:
- [strobe, strobe, sem_enc, in]
- [sem_enc, out, sem_dec, in]
- [sem_dec, out, sink, store]
- [strobe, strobe, j2k_enc, in]
- [j2k_enc, out, j2k_dec, in]
- [j2k_dec, out, sink, store]
- [strobe, strobe, vlf_enc, in]
- [vlf_enc, out, vlf_dec, in]
- [vlf_dec, image, sink, store]
- [vlf_dec, text, sink, store]
metadata: {{file_format: 1}}
"""


def load(block_id):
    return yaml.safe_load((GRC_DIR / f"{block_id}.block.yml").read_text())


def grcc(tmp, max_bytes):
    """Compile the check flowgraph; (return code, output, generated file)."""
    grc = tmp / "check.grc"
    grc.write_text(FLOWGRAPH.format(bundle=BUNDLE, vlf_bundle=VLF_BUNDLE, max_bytes=max_bytes))
    result = subprocess.run(["grcc", str(grc), "-o", str(tmp)], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr, tmp / "codec_yaml_check.py"


class qa_codec_yaml(gr_unittest.TestCase):

    def test_yaml_is_documented(self):
        """Each YAML has its id, the [UOISC]/Codec category, file_format 1, message port in and the
        block's output ports (out; image and text for the VLF decoder) and a documentation with
        Inputs, Outputs and Parameters naming every parameter label."""
        self.assertEqual(sorted(p.name.split(".")[0] for p in GRC_DIR.glob("*.block.yml")), sorted(BLOCKS))
        for block_id in BLOCKS:
            with self.subTest(block_id):
                data = load(block_id)
                self.assertEqual((data["id"], data["category"], data["file_format"]),
                                 (block_id, "[UOISC]/Codec", 1))
                self.assertEqual([(p["domain"], p["id"]) for p in data["inputs"]], [("message", "in")])
                self.assertEqual([(p["domain"], p["id"]) for p in data["outputs"]],
                                 [("message", port) for port in BLOCKS[block_id].OUT_PORTS])
                for section in ("Inputs:", "Outputs:", "Parameters:"):
                    self.assertIn(section, data["documentation"])
                for param in data["parameters"]:
                    self.assertIn(param["label"], data["documentation"])

    def test_make_template_uses_python_keywords(self):
        """The make template passes every YAML parameter, in order, as a keyword of the class."""
        for block_id, cls in BLOCKS.items():
            with self.subTest(block_id):
                data = load(block_id)
                keywords = re.findall(r"(\w+)=\$\{(\w+)\}", data["templates"]["make"])
                self.assertEqual([k for k, v in keywords if k == v], [p["id"] for p in data["parameters"]])
                accepted = inspect.signature(cls.__init__).parameters
                self.assertTrue(all(k in accepted for k, _ in keywords))

    def test_grcc_compiles_and_builds(self):
        """grcc compiles a flowgraph of the six blocks (a str parameter as model path, a query
        with spaces); the generated top block constructs every block (bundles loaded, the VLF
        decoder's generator arguments passed through). A budget of 0 bytes is refused by the
        encoder's YAML assert."""
        with tempfile.TemporaryDirectory() as tmp:
            code, output, generated = grcc(pathlib.Path(tmp), 1536)
            self.assertEqual(code, 0, output)
            spec = importlib.util.spec_from_file_location("codec_yaml_check", generated)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            top = module.codec_yaml_check()
            self.assertEqual(top.sem_enc.default_query, "What colour is the fish?")
            self.assertEqual(top.sem_dec.codec.model_id, "uoisc-tiny-uoisc")
            self.assertEqual(top.j2k_enc.max_bytes, 1536)
            self.assertEqual(top.vlf_enc.codec.model_id, "uoisc-tiny-vlf")
            self.assertEqual((top.vlf_dec.steps, top.vlf_dec.guidance, top.vlf_dec.seed), (4, 1.5, 3))
        with tempfile.TemporaryDirectory() as tmp:
            code, output, _ = grcc(pathlib.Path(tmp), 0)
            self.assertNotEqual(code, 0, output)
            self.assertIn('Assertion "max_bytes >= 1" failed', output)


if __name__ == "__main__":
    gr_unittest.run(qa_codec_yaml)
