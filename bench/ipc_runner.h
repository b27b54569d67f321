// Runs the measures of //bench:ipc in rounds and summarises them: the glue
// between the transports and the report.
//
// Why rounds: on a virtual machine the cost of a cache-line transfer between
// the two vCPUs can change while the benchmark runs (the host moves vCPUs;
// seen here: a floor of 55 ns in one minute, 245 ns in another). Running
// round 1 of every measure, then round 2 of every measure, and so on, lets
// such a shift touch every transport alike, so the ratios stay honest.
#ifndef BENCH_IPC_RUNNER_H_
#define BENCH_IPC_RUNNER_H_

#include <memory>
#include <vector>

#include "bench/report.h"
#include "bench/transports/transport.h"

namespace bench {

struct RunnerOptions {
  int runs = 3;
  int writer_cpu = 0;
  int reader_cpu = 1;
  double timeout_seconds = 60;
  bool progress = true;  // one line per run on stderr
  uint64_t messages = 0;     // per throughput run, before the transport's cap
  uint64_t round_trips = 0;  // recorded per latency run, before the cap
};

// Measures throughput for every transport that has it and every payload in
// `throughput_payloads`, then latency likewise, `options.runs` rounds each,
// and adds the summaries (or the failures) to `report`. A run whose reader
// did not verify every message is a failure; a measure that failed once is
// not run again.
void RunAllMeasures(const std::vector<std::unique_ptr<Transport>>& transports,
                    const std::vector<size_t>& throughput_payloads,
                    const std::vector<size_t>& latency_payloads,
                    const RunnerOptions& options, Report* report);

}  // namespace bench

#endif  // BENCH_IPC_RUNNER_H_
