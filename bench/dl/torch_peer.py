"""PyTorch (Python) peer of bench/dl: the same network, data and
hyper-parameters as `wharf dl-train --arch lenet` (conv32-pool-conv64-pool-
fc128-dropout0.25-fc10, Adam lr 1e-3, cosine decay per step, batch 64, inputs
normalized by the training pixels' mean and std), and inference with a
frozen, optimized TorchScript module. Prints one JSON object.
Run under /usr/bin/python3 (Debian's python3-torch)."""
import argparse
import gzip
import json
import math
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class LeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.dropout(F.relu(self.fc1(torch.flatten(x, 1))), 0.25, self.training)
        return self.fc2(x)


def train(args, result):
    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz")
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz").astype(np.int64)
    test_images = read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")
    test_labels = read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    pixels = torch.from_numpy(images.copy()).unsqueeze(1)  # uint8 [N, 1, 28, 28]
    mean = float(images.mean() / 255.0)
    std = float(images.std() / 255.0)
    y = torch.from_numpy(labels)
    torch.manual_seed(args.seed)
    net = LeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    n, batch = len(images), 64
    steps_per_epoch = (n + batch - 1) // batch
    total = steps_per_epoch * args.epochs
    step = 0
    started = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(n)
        for i in range(steps_per_epoch):
            index = order[i * batch:(i + 1) * batch]
            x = (pixels[index].float() / 255.0 - mean) / std
            for group in optimizer.param_groups:
                group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / total))
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x), y[index])
            loss.backward()
            optimizer.step()
            step += 1
    seconds = time.perf_counter() - started
    net.eval()
    with torch.no_grad():
        tx = (torch.from_numpy(test_images.copy()).unsqueeze(1).float() / 255.0 - mean) / std
        predicted = torch.cat([net(tx[i:i + 512]).argmax(1) for i in range(0, len(tx), 512)])
    result["train"] = {"steps_per_second": step / seconds, "seconds": seconds,
                       "test_accuracy": float((predicted.numpy() == test_labels).mean())}


def infer(args, result):
    """Images/s of a TorchScript module (wharf's, exported), frozen and optimized as Python serves it."""
    module = torch.jit.load(args.torchscript)
    module.eval()
    module = torch.jit.optimize_for_inference(torch.jit.freeze(module))
    images = torch.from_numpy(read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz").copy()).unsqueeze(1)
    result["infer"] = {}
    for batch in (1, 64):
        count = 2000 if batch == 1 else 10000
        x = [(images[i:i + batch].float() / 255.0 - args.mean) / args.std for i in range(0, count, batch)]
        with torch.inference_mode():
            for b in x[:20]:
                torch.softmax(module(b), 1)
            started = time.perf_counter()
            for b in x:
                torch.softmax(module(b), 1)
            result["infer"][str(batch)] = count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--torchscript", help="infer with this module instead of training")
    parser.add_argument("--mean", type=float, default=0.0)
    parser.add_argument("--std", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if args.torchscript:
        infer(args, result)
    else:
        train(args, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
