// `wharf capture list | show | export`: read the requests a server captured.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/capture_format.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "control/capture_export.h"
#include "core/clock.h"
#include "store/capture_store.h"
#include "store/location.h"

namespace wharf::cli {

namespace {

struct CaptureFlags {
  std::string endpoint, id, db, format = "jsonl", output = "-";
  std::optional<std::string> since, until, variant;
  bool no_shadow = false;
  std::size_t limit = 20;
};

std::string DatabasePath(const CaptureFlags& f) {
  return store::DisplayLocation(store::CaptureLocation(store::StoreLocation(f.db)));
}

// Read commands never create a database: a missing file means nothing was captured.
Result<std::unique_ptr<store::CaptureStore>> OpenForRead(const CaptureFlags& f) {
  const std::string location = store::CaptureLocation(store::StoreLocation(f.db));
  std::error_code ec;
  if (!store::IsServerLocation(location) && !std::filesystem::exists(location, ec)) {
    return NotFound(fmt::format("no captures yet at {}", location));
  }
  return store::OpenCaptureStore(location);
}

Result<store::CaptureQuery> MakeQuery(const CaptureFlags& f) {
  store::CaptureQuery query;
  query.endpoint = f.endpoint;
  query.variant = f.variant;
  query.include_shadow = !f.no_shadow;
  const std::int64_t now = NowMicros();
  if (f.since) {
    WHARF_ASSIGN_OR_RETURN(query.since_us, ParseTimeOrAge(*f.since, now, "--since"));
  }
  if (f.until) {
    WHARF_ASSIGN_OR_RETURN(query.until_us, ParseTimeOrAge(*f.until, now, "--until"));
  }
  if (query.since_us && query.until_us && *query.since_us >= *query.until_us) {
    return InvalidArgument(fmt::format("--since {} is not before --until {}", *f.since, *f.until));
  }
  return query;
}

// " since T", " before T", " from T to T", " of variant V" as the query asked for.
std::string QueryText(const store::CaptureQuery& q) {
  std::string text;
  if (q.variant) text += fmt::format(" of variant '{}'", *q.variant);
  if (q.since_us && q.until_us) {
    return text + fmt::format(" from {} to {}", FormatTimeUtc(*q.since_us), FormatTimeUtc(*q.until_us));
  }
  if (q.since_us) return text + " since " + FormatTimeUtc(*q.since_us);
  if (q.until_us) return text + " before " + FormatTimeUtc(*q.until_us);
  return text;
}

Status List(const CaptureFlags& f) {
  WHARF_ASSIGN_OR_RETURN(store::CaptureQuery query, MakeQuery(f));
  query.limit = f.limit;
  WHARF_ASSIGN_OR_RETURN(auto captures, OpenForRead(f));
  WHARF_ASSIGN_OR_RETURN(std::vector<store::CaptureRecord> records, captures->Query(query));
  if (records.empty()) {
    fmt::print("No captures for endpoint '{}'{} in {}\n", f.endpoint, QueryText(query), DatabasePath(f));
    return Status::Ok();
  }
  fmt::print("{}", FormatCaptureTable(records));
  return Status::Ok();
}

Status Show(const CaptureFlags& f) {
  store::CaptureQuery query{.endpoint = f.endpoint, .id = f.id, .limit = 0};
  WHARF_ASSIGN_OR_RETURN(auto captures, OpenForRead(f));
  std::size_t shown = 0;
  WHARF_RETURN_IF_ERROR(captures->ForEach(query, [&](const store::CaptureRecord& r) {
    fmt::print("{}{}", shown++ == 0 ? "" : "\n", FormatCaptureDetail(r));
    return Status::Ok();
  }));
  if (shown == 0) {
    return NotFound(
        fmt::format("no capture with id '{}' for endpoint '{}' in {}", f.id, f.endpoint, DatabasePath(f)));
  }
  return Status::Ok();
}

Status Export(const CaptureFlags& f) {
  WHARF_ASSIGN_OR_RETURN(store::CaptureQuery query, MakeQuery(f));
  query.limit = 0;
  WHARF_ASSIGN_OR_RETURN(auto captures, OpenForRead(f));
  std::ofstream file;
  if (f.output != "-") {
    file.open(f.output, std::ios::binary | std::ios::trunc);
    if (!file) return IoError(fmt::format("{}: cannot write", f.output));
  }
  std::ostream& out = f.output == "-" ? std::cout : file;
  const bool csv = f.format == "csv";
  if (csv) out << control::CaptureCsvHeader();
  std::size_t rows = 0;
  WHARF_RETURN_IF_ERROR(captures->ForEach(query, [&](const store::CaptureRecord& r) {
    out << (csv ? control::CaptureCsvLine(r) : control::CaptureJsonLine(r));
    ++rows;
    return out ? Status::Ok() : IoError(fmt::format("{}: write failed", f.output == "-" ? "stdout" : f.output));
  }));
  out.flush();
  if (!out) return IoError(fmt::format("{}: write failed", f.output == "-" ? "stdout" : f.output));
  if (f.output != "-") fmt::print("Exported {} captures -> {}\n", rows, f.output);
  return Status::Ok();
}

void AddDbOption(CLI::App* cmd, CaptureFlags& flags) {
  cmd->add_option("--store,--db", flags.db,
                  "Capture store: a SQLite file or postgresql:// URL (default: $WHARF_STORE, else $WHARF_HOME/wharf.db, "
                  "else ~/.wharf/wharf.db)");
}

// --since, --until, --variant, --no-shadow: what the store filters on.
void AddFilterOptions(CLI::App* cmd, CaptureFlags& flags) {
  cmd->add_option(
      "--since", flags.since,
      "Only captures at or after this UTC time (2026-11-23T12:00:00Z, 2026-11-23) or age (30s, 15m, 2h, 7d)");
  cmd->add_option("--until", flags.until, "Only captures before this time (same forms as --since)");
  cmd->add_option("--variant", flags.variant, "Only this variant's captures (a shadow's name: its calls)");
  cmd->add_flag("--no-shadow", flags.no_shadow, "Leave shadow calls out");
}

}  // namespace

void AddCaptureCommand(CLI::App& app, const CommandContext& context) {
  auto* capture = app.add_subcommand("capture", "Read the requests a server captured");
  capture->require_subcommand(1);

  auto list_flags = std::make_shared<CaptureFlags>();
  auto* list = capture->add_subcommand("list", "List an endpoint's captured requests, newest first");
  list->add_option("--endpoint", list_flags->endpoint, "Endpoint name")->required();
  AddFilterOptions(list, *list_flags);
  list->add_option("--limit", list_flags->limit, "Rows to show (0 for all)")->capture_default_str();
  AddDbOption(list, *list_flags);
  list->callback([list_flags, context] { *context.exit_code = ExitWith(List(*list_flags)); });

  auto show_flags = std::make_shared<CaptureFlags>();
  auto* show = capture->add_subcommand("show", "Show every stored field of one request (and its shadow calls)");
  show->add_option("--endpoint", show_flags->endpoint, "Endpoint name")->required();
  show->add_option("--id", show_flags->id, "Request id")->required();
  AddDbOption(show, *show_flags);
  show->callback([show_flags, context] { *context.exit_code = ExitWith(Show(*show_flags)); });

  auto export_flags = std::make_shared<CaptureFlags>();
  auto* exporting =
      capture->add_subcommand("export", "Write an endpoint's captures, oldest first, as JSON lines or CSV");
  exporting->add_option("--endpoint", export_flags->endpoint, "Endpoint name")->required();
  AddFilterOptions(exporting, *export_flags);
  exporting->add_option("--format", export_flags->format, "jsonl | csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  exporting->add_option("--output", export_flags->output, "Output file ('-' for stdout)")->capture_default_str();
  AddDbOption(exporting, *export_flags);
  exporting->callback([export_flags, context] { *context.exit_code = ExitWith(Export(*export_flags)); });
}

}  // namespace wharf::cli
