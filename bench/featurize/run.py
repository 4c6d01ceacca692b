"""Driver of bench/featurize/run: prepares data and model, times both pipelines."""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WHARF = os.path.join(ROOT, "build", "bin", "wharf")
OUT = os.path.join(ROOT, "bench", "featurize", "out")
THREADS = 2


def run(argv, **kw):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def main():
    per_class = int(sys.argv[1])
    images = os.path.join(OUT, f"fashion-{per_class}")
    if not os.path.isdir(images):
        run([os.path.join(ROOT, "scripts", "make-image-folders"), "fashion-mnist", images, "--per-class", str(per_class),
             "--classes", os.path.join(ROOT, "examples", "fashion-mnist", "classes.txt")])
    model_dir = os.path.join(OUT, "lenet")
    model = os.path.join(model_dir, "Modelfile")
    if not os.path.exists(model):
        run([WHARF, "dl-train", "--data", "/usr/share/datasets/fashion-mnist", "--limit", "10000", "--epochs", "1",
             "--threads", str(THREADS), "--out", model_dir], stderr=subprocess.DEVNULL)
    script = os.path.join(OUT, "lenet.pt")
    run([WHARF, "model", "export", model, "--format", "torchscript", "--output", script])
    header = json.loads(subprocess.run([WHARF, "model", "inspect", "--json", model], check=True,
                                       capture_output=True, text=True).stdout)["header"]
    norm = header["preprocessing"][0]["normalize"]

    # wharf: featurize, then PCA to 95% of the variance.
    wharf_out = os.path.join(OUT, "wharf")
    featurize = run([WHARF, "featurize", "--model", model, "--images", images, "--threads", str(THREADS),
                     "--out", os.path.join(wharf_out, "features")], stderr=subprocess.DEVNULL)
    pca = run([WHARF, "pca", "fit", os.path.join(wharf_out, "features", "train.csv"), "--transform",
               os.path.join(wharf_out, "features", "test.csv"), "--out", os.path.join(wharf_out, "pca")])
    manifest = json.load(open(os.path.join(wharf_out, "features", "features.json")))
    count = manifest["processed"]

    # Python: the same steps in one script.
    start = time.perf_counter()
    peer = json.loads(subprocess.run(
        ["/usr/bin/python3", os.path.join(ROOT, "bench", "featurize", "peer.py"), images, script,
         json.dumps(norm), os.path.join(OUT, "python"), str(THREADS)],
        check=True, capture_output=True, text=True).stdout)
    peer_wall = time.perf_counter() - start

    wharf_total = featurize + pca
    print(f"Featurize + PCA of {count} PNG images (28x28, Fashion-MNIST) through LeNet's penultimate layer "
          f"(128 features), {THREADS} threads; PCA to 95% of the variance. Total: wall time of the commands "
          f"(wharf: two processes; Python: one script, imports included); featurize: after start-up\n")
    print("| pipeline | featurize (s) | images/s | PCA fit + transform (s) | total (s) | vs Python |")
    print("|---|---|---|---|---|---|")
    print(f"| python3-torch + scikit-learn | {peer['featurize_s']:.2f} | {count / peer['featurize_s']:.0f} | "
          f"{peer['pca_s']:.2f} | {peer_wall:.2f} | 1.00x |")
    print(f"| wharf featurize + pca fit | {manifest['seconds']:.2f} | {count / manifest['seconds']:.0f} | {pca:.2f} | "
          f"{wharf_total:.2f} | **{peer_wall / wharf_total:.2f}x** |")
    forward = manifest["forward_seconds"]
    print(f"\nwharf featurize: {manifest['seconds']:.2f} s from the first batch to the last row written, of which "
          f"{forward:.2f} s in the network's forward passes: {100 * (manifest['seconds'] / forward - 1):.0f}% over the "
          f"raw LibTorch forward of the same batches (listing, loading LibTorch and the model: "
          f"{featurize - manifest['seconds']:.2f} s).")
    print(f"Python's forward passes alone: {peer['forward_s']:.2f} s; components kept: wharf "
          f"{open(os.path.join(wharf_out, 'pca', 'train.csv')).readline().count('pc')}, Python {peer['components']}.")


if __name__ == "__main__":
    main()
