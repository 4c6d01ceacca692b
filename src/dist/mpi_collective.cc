#include "dist/mpi_collective.h"

#include <mpi.h>

#include <fmt/format.h>

namespace wharf::dist {

namespace {

Status MpiError(int code, const char* call) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return Internal(fmt::format("MPI: {} failed: {}", call, std::string(text, static_cast<std::size_t>(length))));
}

#define WHARF_MPI(call)                                          \
  do {                                                           \
    if (const int code = (call); code != MPI_SUCCESS) return MpiError(code, #call); \
  } while (0)

}  // namespace

Result<std::unique_ptr<MpiCollective>> MpiCollective::Init(int* argc, char*** argv) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    return Unavailable("MPI could not start: run the ranks with mpirun or srun --mpi=pmix");
  }
  std::unique_ptr<MpiCollective> c(new MpiCollective());
  // Errors come back as codes, to be reported, instead of aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  WHARF_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &c->rank_));
  WHARF_MPI(MPI_Comm_size(MPI_COMM_WORLD, &c->size_));
  MPI_Comm host_comm;
  WHARF_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank_, MPI_INFO_NULL, &host_comm));
  WHARF_MPI(MPI_Comm_size(host_comm, &c->ranks_on_host_));
  MPI_Comm_free(&host_comm);
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  WHARF_MPI(MPI_Get_processor_name(name, &length));
  c->host_.assign(name, static_cast<std::size_t>(length));
  return c;
}

MpiCollective::~MpiCollective() { MPI_Finalize(); }

Status MpiCollective::Sum(std::span<double> values) {
  const auto count = static_cast<int>(values.size());
  if (rank_ == 0) {
    WHARF_MPI(MPI_Reduce(MPI_IN_PLACE, values.data(), count, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
  } else {
    WHARF_MPI(MPI_Reduce(values.data(), nullptr, count, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
  }
  WHARF_MPI(MPI_Bcast(values.data(), count, MPI_DOUBLE, 0, MPI_COMM_WORLD));
  return Status::Ok();
}

Result<std::vector<std::string>> MpiCollective::AllGather(const std::string& mine) {
  const auto ranks = static_cast<std::size_t>(size_);
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(ranks), offsets(ranks);
  WHARF_MPI(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD));
  int total = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    offsets[r] = total;
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  WHARF_MPI(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                           MPI_COMM_WORLD));
  std::vector<std::string> out;
  for (std::size_t r = 0; r < ranks; ++r) {
    out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
  }
  return out;
}

}  // namespace wharf::dist
