#include "resonance/infomodel/validation_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace resonance::infomodel {

namespace {

struct SeriesState {
  const Category* category = nullptr;  // null: the path does not resolve (reason kept)
  const Signal* signal = nullptr;
  std::string path;
  std::string unresolved_reason;
  bool has_last = false;
  TimestampNs last_ts_ns = 0;  // newest accepted timestamp of the series
  bool model_output = false;   // ai.<interface>.<output>: only the inference scheduler writes it
};

// The value range a data type can hold (integers exactly in a double).
std::pair<double, double> representable(DataType type) {
  switch (type) {
    case DataType::kBool: return {0, 1};
    case DataType::kInt32:
    case DataType::kEnum: return {-2147483648.0, 2147483647.0};
    case DataType::kUInt32: return {0, 4294967295.0};
    case DataType::kInt64: return {-9007199254740992.0, 9007199254740992.0};
    case DataType::kFloat: return {-3.4028234663852886e38, 3.4028234663852886e38};
    case DataType::kDouble: return {-1.7976931348623157e308, 1.7976931348623157e308};
  }
  return {0, 0};
}

class ModelValidationStage final : public Stage {
 public:
  ModelValidationStage(const Model& model, const SeriesCatalog& catalog, Quarantine& quarantine,
                       MetricsRegistry& metrics, ModelValidationOptions options)
      : model_(model), catalog_(catalog), quarantine_(quarantine), options_(std::move(options)) {
    const std::string help = "Samples the information-model validation stage sent to the quarantine";
    for (auto reason : {kReasonUnknownSignal, kReasonWrongType, kReasonOutOfRange,
                        kReasonNonMonotonic, kReasonFutureTimestamp, kReasonPastTimestamp})
      counters_.emplace(std::string(reason),
                        &metrics.counter("resonance_infomodel_refused_total", help,
                                         fmt::format("reason=\"{}\"", reason)));
  }

  std::string_view name() const override { return "infomodel"; }

  Status process(SampleBatch& batch) override {
    const TimestampNs now = options_.now();
    std::lock_guard lock(mu_);
    std::erase_if(batch.samples, [&](const Sample& s) {
      SeriesState& state = state_for(s.series);
      auto refuse = [&](std::string_view reason, std::string text) {
        counters_.at(std::string(reason))->inc();
        QuarantineEntry entry{s, fmt::format("{}: {}", reason, text), std::string(name()),
                              batch.provenance.connector, batch.provenance.client_id,
                              batch.provenance.receive_ts_ns};
        entry.reason_code = std::string(reason);
        quarantine_.add(std::move(entry));
        return true;
      };
      if (state.signal == nullptr) return refuse(kReasonUnknownSignal, state.unresolved_reason);
      // A device must not pass its numbers off as a model's: model outputs come from inference.
      if (state.model_output && batch.provenance.connector != "inference")
        return refuse(kReasonUnknownSignal,
                      fmt::format("series '{}' is a model output; only live inference writes it", state.path));
      const Signal& sig = *state.signal;
      if (auto why = type_error(sig, s.value))
        return refuse(kReasonWrongType, fmt::format("series '{}': {}", state.path, *why));
      if ((sig.min && s.value < *sig.min) || (sig.max && s.value > *sig.max))
        return refuse(kReasonOutOfRange,
                      fmt::format("series '{}': value {} is outside [{}, {}] of {}/{}", state.path,
                                  s.value, sig.min.value_or(-INFINITY), sig.max.value_or(INFINITY), state.category->id, sig.name));
      if (s.ts_ns > now + options_.max_future_ns)
        return refuse(kReasonFutureTimestamp,
                      fmt::format("series '{}': timestamp {} is more than {} s ahead of the clock",
                                  state.path, format_rfc3339(s.ts_ns),
                                  options_.max_future_ns / kNanosPerSecond));
      if (s.ts_ns < now - options_.max_past_ns)
        return refuse(kReasonPastTimestamp,
                      fmt::format("series '{}': timestamp {} is more than {} days behind the clock",
                                  state.path, format_rfc3339(s.ts_ns),
                                  options_.max_past_ns / (86400 * kNanosPerSecond)));
      if (state.has_last && s.ts_ns < state.last_ts_ns)
        return refuse(kReasonNonMonotonic,
                      fmt::format("series '{}': timestamp {} is older than the last accepted {}",
                                  state.path, format_rfc3339(s.ts_ns),
                                  format_rfc3339(state.last_ts_ns)));
      state.has_last = true;
      state.last_ts_ns = s.ts_ns;
      return false;
    });
    batch.provenance.transformations.emplace_back("infomodel");
    return Status::ok();
  }

 private:
  static std::optional<std::string> type_error(const Signal& sig, double v) {
    if (!std::isfinite(v)) return fmt::format("value {} is not a finite number", v);
    const auto [lo, hi] = representable(sig.type);
    if (is_integer(sig.type) && v != std::trunc(v))
      return fmt::format("value {} is not an integer, but signal '{}' is {}", v, sig.name, to_string(sig.type));
    if (v < lo || v > hi)
      return fmt::format("value {} does not fit type {} of signal '{}'", v, to_string(sig.type), sig.name);
    if (sig.type == DataType::kEnum && !sig.values.contains(static_cast<std::int64_t>(v)))
      return fmt::format("value {} is not one of the enum values of signal '{}'", v, sig.name);
    return std::nullopt;
  }

  // Resolved once per series: the catalog path and the model lookup do not change.
  SeriesState& state_for(SeriesId id) {
    auto it = states_.find(id);
    if (it != states_.end()) return it->second;
    SeriesState state;
    if (auto info = catalog_.find(id)) {
      state.path = info->path;
      if (auto ref = lookup_path(model_, info->path)) {
        state.category = ref->category;
        state.signal = ref->signal;
      } else if (auto ai = lookup_ai_output(model_, info->path)) {
        // A model output is judged like a signal, by its contract's type and range.
        Signal& sig = ai_signals_.emplace_back();
        sig.name = info->path.substr(info->path.rfind('/') + 1);
        sig.type = ai->output->type;
        sig.unit = ai->output->unit;
        sig.min = ai->output->min;
        sig.max = ai->output->max;
        sig.values = ai->output->values;
        state.category = ai->category;
        state.signal = &sig;
        state.model_output = true;
      } else {
        const bool ai_name = info->path.substr(info->path.rfind('/') + 1).starts_with("ai.");
        state.unresolved_reason = (ai_name ? ai.error() : ref.error()).message();
      }
    } else {
      state.unresolved_reason = fmt::format("series id {} is not in the catalog", id);
    }
    return states_.emplace(id, std::move(state)).first->second;
  }

  const Model& model_;
  const SeriesCatalog& catalog_;
  Quarantine& quarantine_;
  const ModelValidationOptions options_;
  std::unordered_map<std::string, Counter*> counters_;  // fixed after construction
  std::mutex mu_;
  std::unordered_map<SeriesId, SeriesState> states_;  // guarded by mu_
  std::deque<Signal> ai_signals_;  // guarded by mu_; model outputs as signals (stable addresses)
};

}  // namespace

std::unique_ptr<Stage> make_model_validation_stage(const Model& model, const SeriesCatalog& catalog,
                                                   Quarantine& quarantine, MetricsRegistry& metrics,
                                                   ModelValidationOptions options) {
  return std::make_unique<ModelValidationStage>(model, catalog, quarantine, metrics,
                                                std::move(options));
}

}  // namespace resonance::infomodel
