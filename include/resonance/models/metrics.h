#pragma once
// Evaluation metrics. Regression: RMSE and the PHM08 score (Saxena et al. 2008) with
// d = predicted − true: S = Σ exp(−d/13) − 1 for d < 0, exp(d/10) − 1 otherwise (late predictions
// cost more). Classification: the confusion matrix of the positive class (label 1) and the
// precision, recall and F1 derived from it, plus the macro F1 over both classes.

#include <cstddef>
#include <span>
#include <string>

namespace resonance::models {

double rmse(std::span<const float> predicted, std::span<const float> truth);
double phm08_score(std::span<const float> predicted, std::span<const float> truth);

struct Confusion {
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;
  void add(bool predicted, bool actual);
  Confusion& operator+=(const Confusion& o);
  double precision() const;  // of the positive class; 0 when nothing was predicted positive
  double recall() const;
  double f1() const;          // positive class
  double f1_negative() const;
  double macro_f1() const;    // mean of the two classes' F1
  double accuracy() const;
  std::string to_string() const;  // "tp=… fp=… fn=… tn=…"
};

// Thresholds scores (probabilities of class 1) at `threshold`; labels are 0 or 1.
Confusion confusion(std::span<const float> scores, std::span<const float> labels, double threshold = 0.5);

}  // namespace resonance::models
