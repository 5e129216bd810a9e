// A production line: several simulated machines, each its own device on its own thread.

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "connectors/sim/prng.h"
#include "connectors/sim/sim_runner.h"
#include "connectors/sim/stoppable_sleep.h"

namespace resonance::sim {

int machine_count(const LineOptions& options) {
  return options.equipment.empty() ? options.machines : static_cast<int>(options.equipment.size());
}

DeviceOptions device_options(const LineOptions& options, int index) {
  DeviceOptions device = options.device;
  if (options.equipment.empty()) {
    device.category = "cnc";
    device.equipment = fmt::format("{}-{:02d}", options.equipment_prefix, index + 1);
    device.seed = derive_seed(options.device.seed, static_cast<std::uint64_t>(index));
    return device;
  }
  const LineMachine& m = options.equipment.at(static_cast<std::size_t>(index));
  device.category = m.category;
  device.equipment = m.equipment;
  device.seed = m.seed;
  if (m.sample_hz > 0) device.sample_hz = m.sample_hz;
  return device;
}

Status run_line(const LineOptions& options, std::stop_token stop, LineStats* stats) {
  const int machines = machine_count(options);
  if (machines < 1 || machines > 99) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim line: machines is {}, must be 1..99", machines));
  }
  // Check every machine before starting any, so a bad option fails fast instead of leaving a
  // half-started line.
  std::vector<DeviceOptions> devices;
  for (int i = 0; i < machines; ++i) {
    devices.push_back(device_options(options, i));
    if (Status s = validate(devices.back()); !s) return s;
  }
  LineStats unused;
  LineStats& line_stats = stats != nullptr ? *stats : unused;

  std::stop_source line_stop;
  std::stop_callback forward(stop, [&line_stop] { line_stop.request_stop(); });
  std::vector<Status> results(devices.size());
  {
    std::vector<std::jthread> threads;
    threads.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
      threads.emplace_back([&, i] {
        ++line_stats.devices_running;
        results[i] = run_device(devices[i], line_stop.get_token(), &line_stats.totals);
        --line_stats.devices_running;
        // A device only ends early on an error; then the line is not what was asked for.
        if (!results[i]) line_stop.request_stop();
      });
    }
    spdlog::info("sim line {}/{}/{}: {} machines running", options.device.site,
                 options.device.area, options.device.line, machines);
    if (options.duration) {
      sleep_for(line_stop.get_token(), *options.duration);
    } else {
      wait_for_stop(line_stop.get_token());
    }
    line_stop.request_stop();
  }  // the jthreads join here
  for (Status& result : results) {
    if (!result) return std::move(result);
  }
  return Status::ok();
}

}  // namespace resonance::sim
