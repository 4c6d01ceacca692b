"""The Python peer of bench/featurize: what a python3-torch + scikit-learn
script does for the same job. PNG folders -> PIL -> a DataLoader (worker
processes decode) -> LeNet cut before its classifier, frozen and optimized
TorchScript -> features CSV and .npy -> PCA (95% of the variance) -> reduced
CSVs. Prints its timings as JSON.
  Usage: peer.py IMAGES LENET_TORCHSCRIPT NORMALIZE_JSON OUT THREADS"""

import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.decomposition import PCA


class Images(torch.utils.data.Dataset):
    def __init__(self, files, mean, std):
        self.files, self.mean, self.std = files, mean, std

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        pixels = np.asarray(Image.open(self.files[i]).convert("L"), dtype=np.float32) / 255.0
        return torch.from_numpy((pixels - self.mean) / self.std).unsqueeze(0)


class Features(torch.nn.Module):
    """LeNet up to its penultimate layer, with the exported network's weights."""

    def __init__(self, net):
        super().__init__()
        for name in ("l0_weight", "l0_bias", "l3_weight", "l3_bias", "l7_weight", "l7_bias"):
            self.register_parameter(name, torch.nn.Parameter(getattr(net, name).detach(), requires_grad=False))

    def forward(self, x):
        x = F.max_pool2d(F.relu(F.conv2d(x, self.l0_weight, self.l0_bias, padding=1)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.l3_weight, self.l3_bias, padding=1)), 2)
        return F.relu(F.linear(torch.flatten(x, 1), self.l7_weight, self.l7_bias))


def write_table(path, paths, labels, values, prefix):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"] + [f"{prefix}{i + 1}" for i in range(values.shape[1])])
        for p, l, row in zip(paths, labels, values):
            w.writerow([p, l] + ["%.9g" % v for v in row])


def main():
    images, script, normalize, out, threads = sys.argv[1:6]
    threads = int(threads)
    torch.set_num_threads(threads)
    norm = json.loads(normalize)
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    net = Features(torch.jit.load(script)).eval()
    net = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(net)))
    tables, forward = {}, 0.0
    for split in sorted(os.listdir(images)):
        files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(images, split)) for f in fs
                       if f.endswith(".png"))
        loader = torch.utils.data.DataLoader(Images(files, norm["mean"][0], norm["std"][0]), batch_size=64,
                                             num_workers=threads)
        chunks = []
        with torch.inference_mode():
            for batch in loader:
                t = time.perf_counter()
                chunks.append(net(batch).numpy())
                forward += time.perf_counter() - t
        values = np.concatenate(chunks)
        paths = [os.path.relpath(f, images) for f in files]
        labels = [os.path.basename(os.path.dirname(f)) for f in files]
        write_table(os.path.join(out, f"{split}.csv"), paths, labels, values, "f")
        np.save(os.path.join(out, f"{split}.npy"), values)
        tables[split] = (paths, labels, values)
    featurize = time.perf_counter() - start
    t = time.perf_counter()
    pca = PCA(n_components=0.95, svd_solver="full").fit(tables["train"][2])
    for split, (paths, labels, values) in tables.items():
        write_table(os.path.join(out, f"pca-{split}.csv"), paths, labels, pca.transform(values), "pc")
    pca_s = time.perf_counter() - t
    print(json.dumps({"featurize_s": featurize, "forward_s": forward, "pca_s": pca_s, "total_s": featurize + pca_s,
                      "components": int(pca.n_components_)}))


if __name__ == "__main__":
    main()
