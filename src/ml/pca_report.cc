#include "ml/pca_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace wharf::ml {

namespace {

double Ratio(const Pca& pca, std::size_t k) {
  return pca.total_variance() > 0 ? pca.spectrum()[k] / pca.total_variance() : 0;
}

// A round step giving about `ticks` ticks over [0, span].
double TickStep(double span, int ticks) {
  const double raw = span / ticks;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

}  // namespace

std::string ExplainedVarianceCsv(const Pca& pca) {
  std::string out = "component,variance,ratio,cumulative,kept\n";
  double cumulative = 0;
  for (std::size_t k = 0; k < pca.spectrum().size(); ++k) {
    cumulative += Ratio(pca, k);
    fmt::format_to(std::back_inserter(out), "{},{:.9g},{:.9g},{:.9g},{}\n", k + 1, pca.spectrum()[k], Ratio(pca, k),
                   cumulative, k < pca.components());
  }
  return out;
}

std::string ExplainedVarianceSvg(const Pca& pca, std::optional<double> target) {
  constexpr double kWidth = 720, kHeight = 420, kLeft = 64, kRight = 24, kTop = 44, kBottom = 52;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const std::size_t n = std::max<std::size_t>(pca.spectrum().size(), 1);
  auto x = [&](double component) { return kLeft + (component - 0.5) / static_cast<double>(n) * plot_w; };
  auto y = [&](double share) { return kTop + (1 - share) * plot_h; };

  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif" font-size="12">)"
      "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, kHeight);
  double kept = 0;
  for (const double r : pca.explained_variance_ratio()) kept += r;
  fmt::format_to(std::back_inserter(svg),
                 R"(<text x="{}" y="24" font-size="15" text-anchor="middle">Explained variance: {} components of {} columns kept ({:.1f}%){}</text>)"
                 "\n",
                 kWidth / 2, pca.components(), pca.cols(), 100 * std::min(kept, 1.0),
                 pca.randomized() ? ", randomized SVD" : "");
  // Axes, grid and ticks.
  for (int i = 0; i <= 4; ++i) {
    const double share = i / 4.0;
    fmt::format_to(std::back_inserter(svg),
                   R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#ddd"/><text x="{3}" y="{4:.1f}" text-anchor="end">{5}%</text>)"
                   "\n",
                   kLeft, kLeft + plot_w, y(share), kLeft - 6, y(share) + 4, i * 25);
  }
  const double step = std::max(1.0, TickStep(static_cast<double>(n), 8));
  for (double c = step; c <= static_cast<double>(n) + 1e-9; c += step) {
    fmt::format_to(std::back_inserter(svg), R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)" "\n", x(c),
                   kTop + plot_h + 16, static_cast<long>(c));
  }
  fmt::format_to(std::back_inserter(svg),
                 R"(<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="black"/><line x1="{0}" x2="{3}" y1="{2}" y2="{2}" stroke="black"/>)"
                 "\n"
                 R"(<text x="{4}" y="{5}" text-anchor="middle">component</text>)"
                 "\n"
                 R"svg(<text transform="translate(16 {6}) rotate(-90)" text-anchor="middle">share of the total variance</text>)svg"
                 "\n",
                 kLeft, kTop, kTop + plot_h, kLeft + plot_w, kLeft + plot_w / 2, kHeight - 12, kTop + plot_h / 2);
  // Bars: each component's share; kept ones darker.
  const double bar = std::max(1.0, plot_w / static_cast<double>(n) * 0.8);
  std::string line;
  double cumulative = 0;
  for (std::size_t k = 0; k < pca.spectrum().size(); ++k) {
    const double r = Ratio(pca, k);
    cumulative += r;
    const double cx = x(static_cast<double>(k + 1));
    fmt::format_to(std::back_inserter(svg), R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}"/>)" "\n",
                   cx - bar / 2, y(r), bar, plot_h * r, k < pca.components() ? "#6a9fd4" : "#c9d9ea");
    fmt::format_to(std::back_inserter(line), "{}{:.2f},{:.2f}", k == 0 ? "" : " ", cx, y(cumulative));
  }
  fmt::format_to(std::back_inserter(svg), R"(<polyline points="{}" fill="none" stroke="#1f3b73" stroke-width="2"/>)" "\n",
                 line);
  if (target) {
    fmt::format_to(std::back_inserter(svg),
                   R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#c0392b" stroke-dasharray="6 4"/><text x="{1}" y="{3:.1f}" text-anchor="end" fill="#c0392b">target {4:.4g}%</text>)"
                   "\n",
                   kLeft, kLeft + plot_w, y(*target), y(*target) - 5, 100 * *target);
  }
  const double kx = x(static_cast<double>(pca.components()));
  fmt::format_to(std::back_inserter(svg),
                 R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#27ae60" stroke-dasharray="4 3"/><text x="{3:.1f}" y="{4}" fill="#27ae60">k = {5}</text>)"
                 "\n</svg>\n",
                 kx, kTop, kTop + plot_h, kx + 4, kTop + 14, pca.components());
  return svg;
}

}  // namespace wharf::ml
