#include "store/postgres_database.h"

#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "store/postgres_migrations.h"

namespace wharf::store {

namespace {

// The statement as one short line, for error messages.
std::string Abbreviate(std::string_view sql) {
  constexpr std::size_t kMaxChars = 80;
  std::string out;
  bool space = false;
  for (const char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kMaxChars) return out + "...";
  }
  return out;
}

// libpq's message without its "ERROR:  " prefix, on one line (the first:
// the rest is CONTEXT and HINT lines).
std::string Tidy(std::string_view message) {
  for (const std::string_view prefix : {"ERROR:  ", "FATAL:  "}) {
    if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  }
  message = message.substr(0, message.find('\n'));
  while (!message.empty() && (message.back() == ' ' || message.back() == '\r')) message.remove_suffix(1);
  return std::string(message);
}

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  std::string out(url);
  // user:password@host: the userinfo ends at the last '@' before the path.
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t path = out.find_first_of("/?", start);
    const std::size_t at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=...&
  for (std::size_t key = out.find("password="); key != std::string::npos; key = out.find("password=", key + 1)) {
    if (key == 0 || (out[key - 1] != '?' && out[key - 1] != '&')) continue;
    const std::size_t value = key + 9;
    const std::size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(std::string_view url) {
  const std::string redacted = RedactPostgresUrl(url);
  std::unique_ptr<pqxx::connection> connection;
  try {
    connection = std::make_unique<pqxx::connection>(std::string(url));
  } catch (const std::exception& error) {
    return Unavailable(fmt::format("{}: cannot connect to PostgreSQL: {}", redacted, Tidy(error.what())));
  }
  std::unique_ptr<PostgresDatabase> database(new PostgresDatabase(std::move(connection), redacted));
  // Keeps NOTICEs ("relation already exists, skipping") off stderr.
  WHARF_RETURN_IF_ERROR(database->SetVariable("client_min_messages", "warning"));
  WHARF_RETURN_IF_ERROR(ApplyPostgresMigrations(*database, PostgresMigrations()));
  return database;
}

Status PostgresDatabase::Transaction(const std::function<Status(pqxx::work&)>& body) {
  try {
    pqxx::work work(*connection_);
    Status status = body(work);
    if (!status.ok()) return status;  // ~work rolls back
    work.commit();
    return Status::Ok();
  } catch (const std::exception& error) {
    return Error(error, "");
  }
}

Status PostgresDatabase::SetVariable(std::string_view name, std::string_view value) {
  try {
    connection_->set_variable(std::string(name), std::string(value));
    return Status::Ok();
  } catch (const std::exception& error) {
    return Error(error, fmt::format("cannot set {}", name));
  }
}

Status PostgresDatabase::Error(const std::exception& error, std::string_view doing) const {
  std::string message = url_;
  if (!doing.empty()) fmt::format_to(std::back_inserter(message), ": {}", doing);
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error); sql != nullptr && !sql->query().empty()) {
    fmt::format_to(std::back_inserter(message), ": cannot run '{}'", Abbreviate(sql->query()));
  }
  fmt::format_to(std::back_inserter(message), ": {}", Tidy(error.what()));
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr ||
      dynamic_cast<const pqxx::transaction_rollback*>(&error) != nullptr ||
      dynamic_cast<const pqxx::insufficient_resources*>(&error) != nullptr) {
    return Unavailable(std::move(message));
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&error) != nullptr) return AlreadyExists(std::move(message));
  if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&error) != nullptr ||
      dynamic_cast<const pqxx::data_exception*>(&error) != nullptr) {
    return InvalidArgument(std::move(message));
  }
  return Internal(std::move(message));
}

}  // namespace wharf::store
