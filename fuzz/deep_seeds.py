#!/usr/bin/python3
"""Writes the fuzz targets' deep and wide seeds into DIR/<target>/.

Too big to keep in fuzz/corpus/, and what the small seeds never reach: bodies
nested far past the depth rule (what once overflowed the servers' stacks) and
bodies wide enough to near the size limits. scripts/fuzz runs it before each
run and fuzzes with a -max_len that holds them.

    fuzz/deep_seeds.py DIR
"""

import os
import struct
import sys
import zlib


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def nested(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


def modelfile(header):
    body = b"WHARFMDL" + struct.pack("<IIQ", 1, 0, len(header)) + header.encode()
    return body + struct.pack("<I", zlib.crc32(body))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fuzz/deep_seeds.py DIR")
    out = sys.argv[1]
    # request_fuzz: the first byte picks v2 (even) or /run/ (odd).
    write(f"{out}/request", "v2-deep", "0" + '{"inputs": [{"name": "alcohol", "shape": [1], "datatype": "FP64", '
          '"data": ' + nested(70000) + "}]}")
    write(f"{out}/request", "run-deep", "1" + '{"inputs": {"alcohol": ' + nested(70000) + "}}")
    write(f"{out}/request", "v2-wide", "0" + '{"inputs": [{"name": "alcohol", "shape": [50000], "datatype": "FP64", '
          '"data": [' + ",".join(["9.4"] * 50000) + "]}]}")
    # spec_fuzz: 0 a task definition, 1 an endpoint spec, 2 endpoint YAML.
    write(f"{out}/spec", "taskdef-deep", "0" + '{"name": "d", "command": ["true"], "params": ' + nested(200000) + "}")
    write(f"{out}/spec", "endpoint-deep", "1" + '{"name": "d", "variants": ' + nested(200000) + "}")
    write(f"{out}/spec", "yaml-flow-deep", "2" + "endpoints: " + nested(100000))
    write(f"{out}/spec", "yaml-block-deep", "2" + "endpoints:\n" + "".join(" " * i + "k:\n" for i in range(1, 700)))
    write(f"{out}/spec", "taskdef-wide", "0" + '{"name": "w", "command": ["true"], "params": {'
          + ",".join(f'"p{i}": {i}' for i in range(50000)) + "}}")
    # modelfile_fuzz: a valid checksum around a header nested 300,000 deep.
    write(f"{out}/modelfile", "header-deep.Modelfile", modelfile('{"estimator": ' + nested(300000) + "}"))


if __name__ == "__main__":
    main()
