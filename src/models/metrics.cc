#include "resonance/models/metrics.h"

#include <fmt/format.h>

#include <cmath>

namespace resonance::models {

double rmse(std::span<const float> predicted, std::span<const float> truth) {
  if (predicted.empty() || predicted.size() != truth.size()) return std::nan("");
  double sum = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double d = double{predicted[i]} - double{truth[i]};
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(predicted.size()));
}

double phm08_score(std::span<const float> predicted, std::span<const float> truth) {
  if (predicted.size() != truth.size()) return std::nan("");
  double score = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double d = double{predicted[i]} - double{truth[i]};
    score += d < 0 ? std::exp(-d / 13.0) - 1.0 : std::exp(d / 10.0) - 1.0;
  }
  return score;
}

void Confusion::add(bool predicted, bool actual) {
  if (predicted) {
    ++(actual ? tp : fp);
  } else {
    ++(actual ? fn : tn);
  }
}

Confusion& Confusion::operator+=(const Confusion& o) {
  tp += o.tp;
  fp += o.fp;
  tn += o.tn;
  fn += o.fn;
  return *this;
}

namespace {
double ratio(std::size_t a, std::size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }
double harmonic(double p, double r) { return p + r == 0 ? 0.0 : 2 * p * r / (p + r); }
}  // namespace

double Confusion::precision() const { return ratio(tp, tp + fp); }
double Confusion::recall() const { return ratio(tp, tp + fn); }
double Confusion::f1() const { return harmonic(precision(), recall()); }
double Confusion::f1_negative() const { return harmonic(ratio(tn, tn + fn), ratio(tn, tn + fp)); }
double Confusion::macro_f1() const { return (f1() + f1_negative()) / 2; }
double Confusion::accuracy() const { return ratio(tp + tn, tp + tn + fp + fn); }
std::string Confusion::to_string() const { return fmt::format("tp={} fp={} fn={} tn={}", tp, fp, fn, tn); }

Confusion confusion(std::span<const float> scores, std::span<const float> labels, double threshold) {
  Confusion c;
  for (std::size_t i = 0; i < scores.size() && i < labels.size(); ++i) {
    c.add(scores[i] >= threshold, labels[i] >= 0.5f);
  }
  return c;
}

}  // namespace resonance::models
