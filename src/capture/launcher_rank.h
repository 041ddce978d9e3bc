// LauncherRank: which rank of a multi-process job this process is, from the variables the
// launchers set for each process they start. The SDK (settings.py) reads the same variables in
// the same order; doc/capture.md lists them.
//
//   RANK / WORLD_SIZE                        torchrun, accelerate, DeepSpeed
//   SLURM_PROCID / SLURM_STEP_NUM_TASKS|SLURM_NTASKS   srun
//   OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE        Open MPI's mpirun
//   PMI_RANK / PMI_SIZE                      MPICH, Intel MPI (Hydra)
//   LOCAL_RANK / LOCAL_WORLD_SIZE            a single-node launch that sets only these
//
// The first launcher whose rank variable holds a whole number wins; its size variable may be
// missing (world_size 0: unknown).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace wanllmdb {

struct LauncherRank {
  int64_t rank = 0;
  int64_t world_size = 0;  // 0: unknown
  std::string variable;    // the variable the rank came from, for messages
};

using EnvLookup = std::function<const char*(const char*)>;

// Thread-safety: as safe as `env` (std::getenv by default: no concurrent setenv).
std::optional<LauncherRank> DetectLauncherRank(const EnvLookup& env = nullptr);

}  // namespace wanllmdb
