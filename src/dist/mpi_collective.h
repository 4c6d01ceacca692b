#pragma once
// ml::Collective over MPI_COMM_WORLD (OpenMPI): how the ranks of a
// data-parallel fit started by mpirun or `srun --mpi=pmix` combine what they
// learn. Sum reduces to rank 0 and broadcasts the result, so every rank gets
// the same bits (an allreduce may round differently on different ranks).

#include <memory>

#include "core/status.h"
#include "ml/collective.h"

namespace wharf::dist {

class MpiCollective final : public ml::Collective {
 public:
  // Initializes MPI; the destructor finalizes it. At most one per process.
  // Unavailable when MPI cannot start (e.g. no launcher's environment).
  static Result<std::unique_ptr<MpiCollective>> Init(int* argc, char*** argv);
  ~MpiCollective() override;
  MpiCollective(const MpiCollective&) = delete;
  MpiCollective& operator=(const MpiCollective&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // How many ranks share this rank's host (to split its cores between them).
  int ranks_on_host() const { return ranks_on_host_; }
  // The host's name as MPI knows it.
  const std::string& host() const { return host_; }

  Status Sum(std::span<double> values) override;
  Result<std::vector<std::string>> AllGather(const std::string& mine) override;

 private:
  MpiCollective() = default;

  int rank_ = 0, size_ = 1, ranks_on_host_ = 1;
  std::string host_;
};

}  // namespace wharf::dist
