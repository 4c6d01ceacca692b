// `wharf secret set | list | rm | audit`: the local secret store (sealed
// values in the metadata store, the key in HOME/secrets.key) that the
// server's tasks and stand-alone commands read.

#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/control_flags.h"
#include "cli/exit_code.h"
#include "control/client.h"
#include "core/clock.h"
#include "core/file.h"
#include "secret/secret_store.h"
#include "store/location.h"

namespace wharf::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct SecretFlags {
  std::string store, home, name, from_file;
  std::vector<std::string> extra;  // a value on the command line, refused
  std::size_t limit = 50;
  bool json = false;
};

Result<secret::OpenedSecretStore> Open(const SecretFlags& f) {
  return secret::OpenSecretStore(store::StoreLocation(f.store), secret::KeyFile(control::ResolveHome(f.home)));
}

// The value from --from-file (exact bytes), else stdin: typed without echo
// at a terminal, or piped (one trailing newline dropped, as `echo` adds it).
Result<std::string> ReadValue(const SecretFlags& f) {
  if (!f.from_file.empty()) return ReadFile(f.from_file);
  std::string value;
  if (::isatty(STDIN_FILENO)) {
    termios saved{};
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::cerr << "Value for secret " << f.name << ": " << std::flush;
    std::getline(std::cin, value);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
    return value;
  }
  value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  if (value.ends_with('\n')) value.pop_back();
  if (value.ends_with('\r')) value.pop_back();
  return value;
}

Status Set(const SecretFlags& f) {
  if (!f.extra.empty()) {
    return InvalidArgument(
        "a secret's value is never taken from the command line (other users can read it in the process list and "
        "it stays in shell history): pipe it in, type it, or use --from-file PATH");
  }
  WHARF_RETURN_IF_ERROR(store::ValidateName("secret", f.name));
  WHARF_ASSIGN_OR_RETURN(const std::string value, ReadValue(f));
  WHARF_ASSIGN_OR_RETURN(auto opened, Open(f));
  WHARF_ASSIGN_OR_RETURN(const store::SecretRecord record,
                         opened.secrets->Set(f.name, value, secret::UserActor("wharf secret set")));
  if (f.json) {
    PrintJson({{"name", record.name}, {"version", record.version}});
  } else {
    fmt::print("Secret {} set (version {})\n", record.name, record.version);
  }
  return Status::Ok();
}

Status List(const SecretFlags& f) {
  WHARF_ASSIGN_OR_RETURN(auto opened, Open(f));
  WHARF_ASSIGN_OR_RETURN(const auto secrets, opened.secrets->List());
  json out = json::array();
  for (const auto& s : secrets) {
    out.push_back({{"name", s.name},
                   {"version", s.version},
                   {"created_at", FormatTimeUtc(s.created_us)},
                   {"updated_at", FormatTimeUtc(s.updated_us)}});
  }
  if (f.json) {
    PrintJson(out);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : out) rows.push_back({Str(s, "name"), Str(s, "version"), Str(s, "updated_at")});
  PrintTable({"NAME", "VERSION", "UPDATED"}, rows);
  return Status::Ok();
}

Status Remove(const SecretFlags& f) {
  WHARF_ASSIGN_OR_RETURN(auto opened, Open(f));
  WHARF_RETURN_IF_ERROR(opened.secrets->Remove(f.name, secret::UserActor("wharf secret rm")));
  if (!f.json) fmt::print("Secret {} removed\n", f.name);
  return Status::Ok();
}

Status Audit(const SecretFlags& f) {
  WHARF_ASSIGN_OR_RETURN(auto opened, Open(f));
  WHARF_ASSIGN_OR_RETURN(const auto accesses, opened.secrets->Audit(f.name, f.limit));
  json out = json::array();
  for (const auto& a : accesses) {
    out.push_back({{"time", FormatTimeUtc(a.time_us)},
                   {"secret", a.name},
                   {"action", a.action},
                   {"version", a.version},
                   {"actor", a.actor}});
  }
  if (f.json) {
    PrintJson(out);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : out) {
    rows.push_back({Str(a, "time"), Str(a, "secret"), Str(a, "action"), Str(a, "version"), Str(a, "actor")});
  }
  PrintTable({"TIME", "SECRET", "ACTION", "VERSION", "BY"}, rows);
  return Status::Ok();
}

CLI::App* AddCommon(CLI::App& parent, const char* name, const char* help, SecretFlags& flags) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("--store", flags.store,
                  "Metadata store: a SQLite file or postgresql:// URL (default: $WHARF_STORE, else HOME/wharf.db)");
  cmd->add_option("--home", flags.home, "wharf home holding secrets.key (default: $WHARF_HOME, else ~/.wharf)");
  cmd->add_flag("--json", flags.json, "Print JSON");
  return cmd;
}

}  // namespace

void AddSecretCommand(CLI::App& app, const CommandContext& context) {
  auto* secret = app.add_subcommand("secret", "Secrets for tasks and database sources: set, list, rm, audit");
  secret->require_subcommand(1);

  auto set = std::make_shared<SecretFlags>();
  auto* cmd = AddCommon(*secret, "set", "Set a secret's value from stdin (or --from-file): a new version", *set);
  cmd->add_option("name", set->name, "Secret name")->required();
  cmd->add_option("value", set->extra, "(refused: values never come from the command line)")->group("");
  cmd->add_option("--from-file", set->from_file, "Read the value from this file, byte for byte");
  cmd->callback([set, context] { *context.exit_code = ExitWith(Set(*set)); });

  auto list = std::make_shared<SecretFlags>();
  cmd = AddCommon(*secret, "list", "List secrets (names and versions, never values)", *list);
  cmd->callback([list, context] { *context.exit_code = ExitWith(List(*list)); });

  auto rm = std::make_shared<SecretFlags>();
  cmd = AddCommon(*secret, "rm", "Remove a secret (its audit log stays)", *rm);
  cmd->add_option("name", rm->name, "Secret name")->required();
  cmd->callback([rm, context] { *context.exit_code = ExitWith(Remove(*rm)); });

  auto audit = std::make_shared<SecretFlags>();
  cmd = AddCommon(*secret, "audit", "Who set, read and removed secrets, and when (newest first)", *audit);
  cmd->add_option("name", audit->name, "Only this secret");
  cmd->add_option("--limit", audit->limit, "At most this many entries (0: all)");
  cmd->callback([audit, context] { *context.exit_code = ExitWith(Audit(*audit)); });
}

}  // namespace wharf::cli
