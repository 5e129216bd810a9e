#include "resonance/core/metrics.h"

#include <gtest/gtest.h>

namespace resonance {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry m;
  m.counter("x_total", "Things", "kind=\"a\"").inc(3);
  m.counter("x_total", "Things", "kind=\"b\"").inc();
  m.gauge("depth", "Queue depth").set(7);
  m.gauge_fn("computed", "Computed", [] { return 1.5; });
  const std::string text = m.render_prometheus();
  EXPECT_NE(text.find("# HELP x_total Things\n# TYPE x_total counter\nx_total{kind=\"a\"} 3\nx_total{kind=\"b\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE depth gauge\ndepth 7\n"), std::string::npos);
  EXPECT_NE(text.find("computed 1.5\n"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsSameCounter) {
  MetricsRegistry m;
  Counter& a = m.counter("c_total", "C");
  Counter& b = m.counter("c_total", "C");
  EXPECT_EQ(&a, &b);
  a.inc(2);
  EXPECT_EQ(m.counter_value("c_total"), 2u);
  EXPECT_EQ(m.counter_value("absent"), 0u);
}

}  // namespace
}  // namespace resonance
