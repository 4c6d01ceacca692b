#include "testing/wine_sql.h"

#include <fstream>

namespace wharf::testing {

std::string WineTableSql(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // the header
  std::string sql =
      "CREATE TABLE wine (id INTEGER PRIMARY KEY, \"fixed acidity\" DOUBLE PRECISION, \"volatile acidity\" DOUBLE "
      "PRECISION, \"citric acid\" DOUBLE PRECISION, \"residual sugar\" DOUBLE PRECISION, chlorides DOUBLE PRECISION, "
      "\"free sulfur dioxide\" DOUBLE PRECISION, \"total sulfur dioxide\" DOUBLE PRECISION, density DOUBLE PRECISION, "
      "\"pH\" DOUBLE PRECISION, sulphates DOUBLE PRECISION, alcohol DOUBLE PRECISION, quality INTEGER);\n"
      "INSERT INTO wine VALUES ";
  for (int id = 1; std::getline(in, line); ++id) {
    for (char& c : line) c = c == ';' ? ',' : c;
    sql += (id > 1 ? ",\n(" : "(") + std::to_string(id) + "," + line + ")";
  }
  return sql + ";\n";
}

}  // namespace wharf::testing
