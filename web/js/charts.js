// Live time-series charts (uPlot, vendored under web/vendor/uplot) and the
// arithmetic that turns polled cumulative counters into rates and windowed
// latency quantiles.

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

// A chart whose series appear as their names first show up; keeps the last
// `keep` points.
export class LiveChart {
  constructor(container, { title, unit, keep = 300, height = 220 }) {
    this.container = container;
    this.title = title;
    this.unit = unit;
    this.keep = keep;
    this.height = height;
    this.names = [];
    this.xs = [];
    this.ys = [];
    this.plot = null;
  }

  // One point at `t` (seconds since the epoch): {series name: value or null}.
  push(t, values) {
    let grew = false;
    for (const name of Object.keys(values)) {
      if (this.names.includes(name)) continue;
      this.names.push(name);
      this.ys.push(this.xs.map(() => null));
      grew = true;
    }
    this.xs.push(t);
    this.names.forEach((name, i) => this.ys[i].push(values[name] ?? null));
    if (this.xs.length > this.keep) {
      this.xs.shift();
      this.ys.forEach((y) => y.shift());
    }
    const data = [this.xs, ...this.ys];
    if (grew || !this.plot) this.rebuild(data);
    else this.plot.setData(data);
  }

  rebuild(data) {
    this.plot?.destroy();
    const style = getComputedStyle(this.container);
    const inner = this.container.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = Math.max(320, inner || 560);
    this.plot = new window.uPlot({
      title: this.title,
      width,
      height: this.height,
      series: [{}, ...this.names.map((name, i) => ({
        label: name, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false,
        dash: name.endsWith(' p99') ? [6, 4] : undefined,
        value: (u, v) => (v === null || v === undefined ? '–' : `${v.toFixed(2)} ${this.unit}`),
      }))],
      axes: [{}, { label: this.unit, size: 60 }],
      // From 0, and at least 0 to 1, so a flat zero line has readable ticks.
      scales: { y: { range: (u, min, max) => [0, Math.max((max ?? 0) * 1.1, 1)] } },
    }, data, this.container);
  }

  destroy() { this.plot?.destroy(); }
}

// The quantile `q` of histogram `counts` over upper `bounds` (seconds; one
// more count, the +Inf bucket), in ms, interpolated within the bucket as
// Prometheus' histogram_quantile does (and the server's canary guard).
export function quantileMs(counts, bounds, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total || !bounds.length) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; ++i) {
    if (seen + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1] * 1e3;
      const lo = i === 0 ? 0 : bounds[i - 1];
      return (lo + (bounds[i] - lo) * ((rank - seen) / counts[i])) * 1e3;
    }
    seen += counts[i];
  }
  return bounds[bounds.length - 1] * 1e3;
}

// Rates and windowed quantiles between two polls of a cumulative counter
// set {requests, errors, buckets}; null where a replica restarted (its
// counters went back) or nothing was measured.
export function traffic(prev, now, seconds, bounds) {
  if (!prev || seconds <= 0) return null;
  const requests = now.requests - prev.requests, errors = now.errors - prev.errors;
  if (requests < 0 || errors < 0) return null;
  const buckets = (now.buckets ?? []).map((c, i) => c - (prev.buckets?.[i] ?? 0));
  const valid = buckets.every((c) => c >= 0);
  return {
    rps: requests / seconds,
    eps: errors / seconds,
    p50: valid ? quantileMs(buckets, bounds, 0.5) : null,
    p99: valid ? quantileMs(buckets, bounds, 0.99) : null,
  };
}
