#include "ml/label_map.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace wharf::ml {

namespace {

std::optional<double> AsNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// The text a numeric label is written as: 5.0 -> "5", 0.5 -> "0.5".
std::string Canonical(std::string_view text) {
  auto number = AsNumber(text);
  return number ? fmt::format("{}", *number) : std::string(text);
}

}  // namespace

LabelMap LabelMap::FromLabels(const std::vector<std::string>& labels) {
  std::set<std::string> distinct(labels.begin(), labels.end());
  bool numeric = std::all_of(distinct.begin(), distinct.end(), [](const auto& l) { return AsNumber(l).has_value(); });
  if (!numeric) return LabelMap({distinct.begin(), distinct.end()});
  std::map<double, std::string> ordered;
  for (const auto& label : distinct) ordered.emplace(*AsNumber(label), Canonical(label));
  std::vector<std::string> classes;
  for (auto& [value, text] : ordered) classes.push_back(text);
  return LabelMap(std::move(classes));
}

std::optional<int> LabelMap::Find(std::string_view label) const {
  const std::string key = Canonical(label);
  auto it = std::find(classes_.begin(), classes_.end(), key);
  if (it == classes_.end()) return std::nullopt;
  return static_cast<int>(it - classes_.begin());
}

Result<std::vector<int>> LabelMap::EncodeAll(const std::vector<std::string>& labels) const {
  std::vector<int> out;
  out.reserve(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto index = Find(labels[i]);
    if (!index) {
      return InvalidArgument(fmt::format("label '{}' in data row {} was not seen in training; known classes: {}",
                                         labels[i], i + 1, fmt::join(classes_, ", ")));
    }
    out.push_back(*index);
  }
  return out;
}

}  // namespace wharf::ml
