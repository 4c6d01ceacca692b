#pragma once
// The one rule for JSON that wharf reads from outside (request bodies, task
// definitions, runs, endpoint specs, Modelfile headers): at most
// kMaxJsonDepth arrays and objects deep, checked on the text before any
// parser builds a tree, so no recursive walk, copy or dump of it can
// overflow the stack.

#include <string_view>

#include "core/status.h"

namespace wharf {

// Deep enough for any tensor, spec or header wharf has; far short of the stack.
inline constexpr int kMaxJsonDepth = 64;

// Ok, or InvalidArgument "WHAT nests deeper than 64 levels of arrays and
// objects (at byte N)". Scans the text without parsing it, skipping strings.
Status CheckJsonDepth(std::string_view text, std::string_view what);

}  // namespace wharf
