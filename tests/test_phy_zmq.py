"""Two processes joined by ZMQ (PUSH/PULL of IQ on tcp://127.0.0.1) deliver PDUs intact.

The test starts this file twice as a script: ``tx`` (seeded random PDUs ->
phy_tx -> zeromq.push_sink) and ``rx`` (zeromq.pull_source -> channel ->
phy_rx), and compares what the receiver prints (JSON) with the payloads the
transmitter was given.
"""

import argparse
import hashlib
import json
import socket
import subprocess
import sys
import time

N_FRAMES = 12
PAYLOAD_BYTES = 300
SEED = 7
ESNO_DB = 15.0


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(payload):
    return hashlib.sha256(bytes(payload)).hexdigest()


def run_tx(address):
    """Send the seeded PDUs; keep the flowgraph (and ZMQ) alive until stdin closes."""
    from gnuradio import gr, zeromq
    from gnuradio.uoisc.phy import link_sim, phy_tx

    tb = gr.top_block()
    injector = link_sim.pdu_injector()
    tx = phy_tx()
    # pass_tags: the channel of the other process fades per burst (packet_len tags).
    sink = zeromq.push_sink(gr.sizeof_gr_complex, 1, address, 100, True, -1)
    tb.msg_connect((injector, "out"), (tx, "in"))
    tb.connect(tx, sink)
    tb.start()
    for seq, payload in enumerate(link_sim.random_payloads(N_FRAMES, PAYLOAD_BYTES, SEED)):
        injector.send(link_sim.make_pdu(payload, seq))
    sys.stdin.read()
    tb.stop()
    tb.wait()


def run_rx(address, timeout_s):
    """Receive until N_FRAMES PDUs arrived or timeout; print them as JSON."""
    from gnuradio import blocks, gr, zeromq
    from gnuradio.uoisc.phy import channel, pdu_util, phy_rx

    tb = gr.top_block()
    source = zeromq.pull_source(gr.sizeof_gr_complex, 1, address, 100, True, -1)
    air = channel(esno_db=ESNO_DB, fading="awgn", seed=SEED)
    rx = phy_rx()
    store = blocks.message_debug()
    tb.connect(source, air, rx)
    tb.msg_connect((rx, "out"), (store, "store"))
    tb.start()
    deadline = time.monotonic() + timeout_s
    while store.num_messages() < N_FRAMES and time.monotonic() < deadline:
        time.sleep(0.05)
    tb.stop()
    tb.wait()
    received = []
    for i in range(store.num_messages()):
        pdu = store.get_message(i)
        meta, payload = pdu_util.split_pdu(pdu, "u8")
        received.append({"seq": int(meta["seq"]), "ldpc_ok": bool(meta["ldpc_ok"]),
                         "sha256": digest(payload.tobytes())})
    print(json.dumps(received))


def test_two_processes_over_zmq_deliver_pdus_intact():
    """Every PDU sent by the TX process arrives in the RX process with the same
    bytes (SHA-256) and all codeword CRCs passing, at Es/N0 = 15 dB AWGN."""
    from gnuradio.uoisc.phy import link_sim

    address = f"tcp://127.0.0.1:{free_tcp_port()}"
    rx = subprocess.Popen([sys.executable, __file__, "rx", address, "--timeout", "60"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tx = subprocess.Popen([sys.executable, __file__, "tx", address], stdin=subprocess.PIPE,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        rx_out, rx_err = rx.communicate(timeout=120)
    finally:
        tx.communicate(input="", timeout=30)
    assert rx.returncode == 0, rx_err[-2000:]
    received = {item["seq"]: item for item in json.loads(rx_out.strip().splitlines()[-1])}
    sent = link_sim.random_payloads(N_FRAMES, PAYLOAD_BYTES, SEED)
    assert sorted(received) == list(range(N_FRAMES))
    for seq, payload in enumerate(sent):
        assert received[seq]["sha256"] == digest(payload), f"PDU {seq} corrupted"
        assert received[seq]["ldpc_ok"]


def main(argv=None):
    parser = argparse.ArgumentParser(description="peer processes of the ZMQ test")
    parser.add_argument("role", choices=("tx", "rx"))
    parser.add_argument("address")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.role == "tx":
        run_tx(args.address)
    else:
        run_rx(args.address, args.timeout)


if __name__ == "__main__":
    main()
