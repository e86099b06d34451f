"""Every block's GRC definition (grc/**/*.block.yml): documented, in its role's category,
made through gnuradio.uoisc.<role> with keyword arguments the Python class accepts, loadable
by GRC; and grcc compiles flowgraphs of the PHY and I/O blocks."""

import importlib
import inspect
import pathlib
import re
import subprocess

import pytest
import yaml

GRC_ROOT = pathlib.Path(__file__).resolve().parents[1] / "grc"
YAML_FILES = sorted(GRC_ROOT.glob("**/*.block.yml"))
IMPORT = re.compile(r"from (gnuradio\.uoisc(?:\.\w+)*) import (\w+)(?: as (\w+))?")


def block_id(path):
    return path.name[:-len(".block.yml")]


def load(path):
    return yaml.safe_load(path.read_text())


def role_of(path):
    return path.relative_to(GRC_ROOT).parts[0]


def make_target(path):
    """The Python callable a YAML's make template calls, resolved through its imports line."""
    data = load(path)
    imports = data["templates"]["imports"]
    match = IMPORT.fullmatch(imports.strip())
    assert match, f"imports must be one 'from gnuradio.uoisc... import X [as Y]' line: {imports!r}"
    module, name, alias = match.groups()
    make = data["templates"]["make"].strip()
    call = re.match(rf"{re.escape(alias or name)}\.(\w+)\(", make)
    assert call, f"make must call {alias or name}.<block>(...): {make!r}"
    try:  # "from gnuradio.uoisc import phy": a subpackage, not yet an attribute
        imported = importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        imported = getattr(importlib.import_module(module), name)
    return getattr(imported, call.group(1)), make


def test_every_role_folder_has_blocks():
    """The glob finds the YAML files (a wrong path would make every other test vacuous)."""
    assert {role_of(p) for p in YAML_FILES} >= {"phy", "io"}


@pytest.mark.parametrize("path", YAML_FILES, ids=block_id)
def test_yaml_is_documented(path):
    """Each YAML's id matches its file name (uoisc_ prefix), it has a label, the category
    [UOISC]/<Role> of its folder, file_format 1, and a documentation with Inputs/Outputs/
    Parameters sections (for what it has) naming every parameter label and message port."""
    data = load(path)
    assert data["id"] == block_id(path) and data["id"].startswith("uoisc_")
    assert data.get("label")
    category = data["category"]
    assert category.startswith("[UOISC]/") and category.split("/")[-1].lower() == role_of(path)
    assert data["file_format"] == 1
    doc = data.get("documentation", "")
    assert len(doc.split()) >= 20, "documentation missing or too short"
    for section, key in (("Inputs:", "inputs"), ("Outputs:", "outputs"), ("Parameters:", "parameters")):
        if data.get(key):
            assert section in doc, section
    for param in data.get("parameters", []):
        assert param["label"] in doc, param["label"]
    for port in data.get("inputs", []) + data.get("outputs", []):
        if port.get("domain") == "message":
            assert f"{port['id']} (message" in doc, port["id"]


@pytest.mark.parametrize("path", YAML_FILES, ids=block_id)
def test_make_template_uses_python_keywords(path):
    """The make template imports from gnuradio.uoisc.<role> and passes every YAML parameter,
    in order, as a keyword that the Python class accepts (of the same name, except where
    GRC reserves the name, e.g. loop=${loop_files})."""
    target, make = make_target(path)
    assert target.__module__.startswith(f"gnuradio.uoisc.{role_of(path)}")
    keywords = re.findall(r"(\w+)=\$\{\s*(\w+)", make)
    assert [v for _, v in keywords] == [p["id"] for p in load(path).get("parameters", [])]
    accepted = inspect.signature(target.__init__ if inspect.isclass(target) else target).parameters
    assert all(k in accepted for k, _ in keywords)


@pytest.mark.parametrize("block", ["uoisc_phy_tx", "uoisc_phy_rx"])
def test_code_menu_lists_every_registered_code(block):
    """The LDPC code drop-down of the PHY blocks offers exactly the codes of codes.list_codes()
    (a code added to the registry must not be missing from GRC), one label each."""
    from gnuradio.uoisc.phy import codes

    (param,) = [p for p in load(GRC_ROOT / "phy" / f"{block}.block.yml")["parameters"] if p["id"] == "code"]
    assert sorted(o.strip('"') for o in param["options"]) == sorted(codes.list_codes())
    assert len(param["option_labels"]) == len(param["options"])


def test_grc_loads_the_blocks():
    """GNU Radio Companion's platform (the installed YAML) knows every block."""
    from gnuradio import gr
    from gnuradio.grc.core.platform import Platform

    platform = Platform(version=gr.version(),
                        version_parts=(gr.major_version(), gr.api_version(), gr.minor_version()),
                        prefs=gr.prefs())
    platform.build_library()
    missing = [block_id(p) for p in YAML_FILES if block_id(p) not in platform.blocks]
    assert not missing, f"not installed (run scripts/setup.sh): {missing}"


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
    grc = tmp_path / "check.grc"
    grc.write_text(FLOWGRAPH.format(threading=threading, n_decoders=n_decoders))
    result = subprocess.run(["grcc", str(grc), "-o", str(tmp_path)], capture_output=True, text=True)
    assert (result.returncode == 0) == valid, result.stdout + result.stderr
    if valid:
        code = (tmp_path / "phy_yaml_check.py").read_text()
        assert f"threading={threading}, n_decoders={n_decoders}," in code


IO_FLOWGRAPH = """
options:
  parameters: {{generate_options: no_gui, id: io_yaml_check, run_options: run}}
  states: {{coordinate: [8, 8], rotation: 0, state: enabled}}
blocks:
- name: src
  id: uoisc_image_source
  parameters: {{source: generator, queries: '', split: '"test_seen"', n_images: '{n_images}', seed: '3',
               image_size: '{image_size}', rate: '5.0', loop_files: 'False'}}
  states: {{coordinate: [8, 100], rotation: 0, state: enabled}}
- name: sink
  id: uoisc_image_sink
  parameters: {{out_dir: '{out_dir}', reference: 'True', write_png: 'False'}}
  states: {{coordinate: [300, 100], rotation: 0, state: enabled}}
connections:
- [src, out, sink, in]
- [src, out, sink, reference]
metadata: {{file_format: 1}}
"""


@pytest.mark.parametrize("n_images, image_size, valid", [(4, 64, True), (-1, 64, False), (4, 0, False)])
def test_grcc_compiles_io_flowgraph(tmp_path, n_images, image_size, valid):
    """grcc compiles image_source -> image_sink (both ports), quoting the string parameters,
    and refuses a negative number of images or a generator image size of 0 (YAML asserts)."""
    grc = tmp_path / "io.grc"
    grc.write_text(IO_FLOWGRAPH.format(n_images=n_images, image_size=image_size, out_dir=tmp_path / "out"))
    result = subprocess.run(["grcc", str(grc), "-o", str(tmp_path)], capture_output=True, text=True)
    assert (result.returncode == 0) == valid, result.stdout + result.stderr
    if valid:
        code = (tmp_path / "io_yaml_check.py").read_text()
        assert "uoisc_io.image_source(source='generator', queries=''" in code
        assert f"uoisc_io.image_sink(out_dir='{tmp_path / 'out'}', reference=True" in code
