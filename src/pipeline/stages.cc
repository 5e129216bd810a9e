#include "resonance/pipeline/stages.h"

#include <fmt/format.h>

#include <algorithm>

namespace resonance {

namespace {

class ValidationStage final : public Stage {
 public:
  ValidationStage(const ValidationOptions& options, const SeriesCatalog& catalog,
                  Quarantine& quarantine, MetricsRegistry& metrics)
      : options_(options),
        catalog_(catalog),
        quarantine_(quarantine),
        refused_(metrics.counter("resonance_validation_refused_total",
                                 "Samples the validation stage sent to the quarantine")) {}

  std::string_view name() const override { return "validation"; }

  Status process(SampleBatch& batch) override {
    auto refuse = [&](const Sample& s, std::string reason) {
      refused_.inc();
      quarantine_.add({s, std::move(reason), std::string(name()), batch.provenance.connector,
                       batch.provenance.client_id, batch.provenance.receive_ts_ns});
    };
    std::erase_if(batch.samples, [&](const Sample& s) {
      if (!catalog_.contains(s.series)) {
        refuse(s, fmt::format("series id {} is not in the catalog", s.series));
        return true;
      }
      return false;
    });
    batch.provenance.transformations.emplace_back("validation");
    return Status::ok();
  }

 private:
  [[maybe_unused]] const ValidationOptions options_;
  const SeriesCatalog& catalog_;
  Quarantine& quarantine_;
  Counter& refused_;
};

class GovernanceStage final : public Stage {
 public:
  explicit GovernanceStage(MetricsRegistry& metrics)
      : batches_(metrics.counter("resonance_governance_batches_total",
                                 "Batches that passed the governance stage")) {}

  std::string_view name() const override { return "governance"; }

  Status process(SampleBatch& batch) override {
    if (batch.provenance.receive_ts_ns == 0) batch.provenance.receive_ts_ns = unix_now_ns();
    if (batch.provenance.connector.empty())
      return Status(StatusCode::kInvalidArgument,
                    "governance: batch has no source connector; every batch must name its source");
    batch.provenance.transformations.emplace_back("governance");
    batches_.inc();
    return Status::ok();
  }

 private:
  Counter& batches_;
};

}  // namespace

std::unique_ptr<Stage> make_validation_stage(const ValidationOptions& options,
                                             const SeriesCatalog& catalog, Quarantine& quarantine,
                                             MetricsRegistry& metrics) {
  return std::make_unique<ValidationStage>(options, catalog, quarantine, metrics);
}

std::unique_ptr<Stage> make_governance_stage(MetricsRegistry& metrics) {
  return std::make_unique<GovernanceStage>(metrics);
}

}  // namespace resonance
