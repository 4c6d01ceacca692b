#pragma once
// Parsing numeric CSV fields.

#include <optional>
#include <string_view>

namespace wharf::data {

// Parses a numeric field (locale-free: the decimal separator is always '.').
// Surrounding whitespace and quotes are ignored; a leading '+' is accepted.
// Returns NaN for a missing value: an empty field, "NA", "N/A", "NaN",
// "null", "?" (any case). Returns nullopt when the text is not a number:
// trailing junk ("1.2x"), a decimal comma ("1,5"), hexadecimal, and also
// infinities ("inf", "-Infinity") and values beyond the float range (1e39),
// since features must be finite. Values too small for a float become 0.
std::optional<float> ParseNumber(std::string_view text);

}  // namespace wharf::data
