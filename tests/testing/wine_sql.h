#pragma once
// The bundled wine CSV as SQL that SQLite and PostgreSQL both take, for
// tests that read training data from a database.

#include <filesystem>
#include <string>

namespace wharf::testing {

// CREATE TABLE wine (id INTEGER PRIMARY KEY, one DOUBLE PRECISION column per
// feature, named as in the CSV, quality INTEGER) and an INSERT of every row
// of `csv` (a `;`-separated wine file), ids from 1 in file order.
std::string WineTableSql(const std::filesystem::path& csv);

}  // namespace wharf::testing
