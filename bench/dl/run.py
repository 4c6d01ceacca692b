"""Driver for bench/dl/run (see there). Run from the repository root under
/usr/bin/python3 (the peer needs Debian's python3-torch)."""
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request

WHARF = "build/bin/wharf"
INFER = "build/bin/dl_infer_bench"
PEER = "bench/dl/torch_peer.py"
DATA = "/usr/share/datasets/fashion-mnist"
OUT = "bench/dl/out"
THREADS = 2


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_images_per_second(modelfile, body, batch, delay_us):
    port = free_port()
    argv = [WHARF, "serve", "--model", f"fm={modelfile}", "--port", str(port), "--threads", str(THREADS),
            "--capture", "off"]
    if batch:
        argv += ["--max-batch-size", str(batch), "--max-queue-delay-us", str(delay_us)]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/v2/models/fm/infer"
        env = dict(os.environ, BODY=body)
        run(["wrk", "-t2", "-c64", "-d3s", "-s", "bench/dl/post_image.lua", url], env=env)  # warm up
        out = run(["wrk", "-t2", "-c64", "-d10s", "--latency", "-s", "bench/dl/post_image.lua", url], env=env).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return rate, p99, int(errors.group(1)) if errors else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    epochs = int(sys.argv[1])
    os.makedirs(OUT, exist_ok=True)
    print(f"bench/dl: {epochs} epoch(s) of Fashion-MNIST, {THREADS} threads, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", file=sys.stderr)

    # Training: the same network and hyper-parameters in both.
    model_dir = f"{OUT}/wharf"
    started = time.perf_counter()
    run([WHARF, "dl-train", "--data", DATA, "--epochs", str(epochs), "--threads", str(THREADS), "--out", model_dir])
    wharf_wall = time.perf_counter() - started
    modelfile = f"{model_dir}/Modelfile"
    header = json.loads(run([WHARF, "model", "inspect", "--json", modelfile]).stdout)["header"]
    wharf_train = {"steps_per_second": header["training"]["steps_per_second"],
                   "seconds": header["training"]["seconds"],
                   "test_accuracy": header["metrics"]["validation"]["accuracy"], "wall": wharf_wall}
    started = time.perf_counter()
    peer = json.loads(run(["/usr/bin/python3", PEER, "--epochs", str(epochs), "--threads", str(THREADS)]).stdout)
    peer_train = dict(peer["train"], wall=time.perf_counter() - started)

    # Inference on the same trained network.
    script = f"{OUT}/lenet.pt"
    run([WHARF, "model", "export", modelfile, "--format", "torchscript", "--output", script])
    norm = header["preprocessing"][0]["normalize"]
    peer_infer = json.loads(run(["/usr/bin/python3", PEER, "--torchscript", script, "--threads", str(THREADS),
                                 "--mean", str(norm["mean"][0]), "--std", str(norm["std"][0])]).stdout)["infer"]
    wharf_infer = json.loads(run([INFER, modelfile, f"{DATA}/t10k-images-idx3-ubyte.gz", str(THREADS)]).stdout)

    # Serving one image per request, 64 connections.
    body = f"{OUT}/image.json"
    with open(body, "w") as f:
        json.dump({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, 1, 28, 28],
                               "data": [((x * 37) % 256) / 255.0 for x in range(784)]}]}, f)
    served = [("wharf serve, no batching", serve_images_per_second(modelfile, body, 0, 0))]
    for batch, delay in ((16, 500), (32, 1000), (64, 2000)):
        served.append((f"wharf serve --max-batch-size {batch} --max-queue-delay-us {delay}",
                       serve_images_per_second(modelfile, body, batch, delay)))

    print(f"\n### Training ({epochs} epoch(s), batch 64, {THREADS} threads)\n")
    print("| run | steps/s | training time (s) | whole command (s) | test accuracy | steps/s vs PyTorch |")
    print("|---|---|---|---|---|---|")
    for name, r in (("PyTorch (Python) 1.13", peer_train), ("wharf dl-train", wharf_train)):
        print(f"| {name} | {r['steps_per_second']:.1f} | {r['seconds']:.1f} | {r['wall']:.1f} | "
              f"{r['test_accuracy']:.4f} | {r['steps_per_second'] / peer_train['steps_per_second']:.2f}x |")
    print(f"\n### Inference (images/s, {THREADS} threads, the trained network)\n")
    print("| engine | batch 1 | batch 64 | batch 64 vs Python TorchScript |")
    print("|---|---|---|---|")
    rows = [("Python TorchScript, frozen + optimize_for_inference", peer_infer),
            ("wharf TorchScript (frozen + optimized)", wharf_infer["torchscript"])]
    if "onnx" in wharf_infer:
        rows.append(("wharf ONNX (OpenCV dnn)", wharf_infer["onnx"]))
    for name, r in rows:
        print(f"| {name} | {r['1']:.0f} | {r['64']:.0f} | {r['64'] / peer_infer['64']:.2f}x |")
    raw = wharf_infer["torchscript"]["64"]
    print(f"\n### Serving (KServe v2, one FP32 image per request, wrk -c64, {THREADS} loops)\n")
    print("| server | images/s | p99 | errors | vs raw inference at batch 64 |")
    print("|---|---|---|---|---|")
    for name, (rate, p99, errors) in served:
        print(f"| {name} | {rate:.0f} | {p99} | {errors} | {rate / raw:.2f}x |")


if __name__ == "__main__":
    main()
