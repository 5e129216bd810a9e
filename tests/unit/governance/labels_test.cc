#include "resonance/governance/labels.h"

#include <gtest/gtest.h>

namespace resonance::governance {
namespace {

Labels make(Grade g, Personal p, bool ts, Sharing s, std::string owner = "") {
  Labels l;
  l.grade = g;
  l.personal = p;
  l.trade_secret = ts;
  l.sharing = s;
  l.owner = std::move(owner);
  return l;
}

TEST(Labels, ParseAndPrintRoundTrip) {
  for (auto g : {Grade::kGeneral, Grade::kImportant, Grade::kCore})
    EXPECT_EQ(parse_grade(to_string(g)), g);
  for (auto p : {Personal::kNone, Personal::kPersonal, Personal::kSensitive})
    EXPECT_EQ(parse_personal(to_string(p)), p);
  for (auto s :
       {Sharing::kClear, Sharing::kGreen, Sharing::kAmber, Sharing::kAmberStrict, Sharing::kRed})
    EXPECT_EQ(parse_sharing(to_string(s)), s);
  EXPECT_FALSE(parse_grade("secret"));
  EXPECT_FALSE(parse_personal("PII"));
  EXPECT_FALSE(parse_sharing("AMBER"));
}

TEST(Labels, ClassDiffersOnEveryRestrictiveAxisButNotOnOwner) {
  const Labels base = make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen, "a");
  Labels other = base;
  other.owner = "b";
  EXPECT_EQ(label_class(base), label_class(other));
  for (auto mutate :
       std::initializer_list<void (*)(Labels&)>{[](Labels& l) { l.grade = Grade::kImportant; },
                                                [](Labels& l) { l.personal = Personal::kPersonal; },
                                                [](Labels& l) { l.trade_secret = true; },
                                                [](Labels& l) { l.sharing = Sharing::kAmber; }}) {
    Labels m = base;
    mutate(m);
    EXPECT_NE(label_class(base), label_class(m)) << describe(m);
  }
}

struct InheritCase {
  const char* name;
  std::vector<Labels> inputs;
  Labels expected;
};

TEST(Labels, DerivedDataInheritsTheStrictestOnEachAxis) {
  const std::vector<InheritCase> cases = {
      {"single input unchanged",
       {make(Grade::kImportant, Personal::kNone, true, Sharing::kAmber, "o")},
       make(Grade::kImportant, Personal::kNone, true, Sharing::kAmber, "o")},
      {"grade from one, personal from another",
       {make(Grade::kImportant, Personal::kNone, false, Sharing::kGreen),
        make(Grade::kGeneral, Personal::kSensitive, false, Sharing::kGreen)},
       make(Grade::kImportant, Personal::kSensitive, false, Sharing::kGreen)},
      {"core wins over everything",
       {make(Grade::kGeneral, Personal::kNone, false, Sharing::kClear),
        make(Grade::kCore, Personal::kNone, false, Sharing::kGreen),
        make(Grade::kImportant, Personal::kPersonal, true, Sharing::kRed)},
       make(Grade::kCore, Personal::kPersonal, true, Sharing::kRed)},
      {"owners merged",
       {make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen, "a"),
        make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen, "b"),
        make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen, "a")},
       make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen, "a, b")},
  };
  for (const auto& c : cases) {
    auto rec = derive_labels(c.inputs, nullptr);
    ASSERT_TRUE(rec) << c.name << ": " << rec.error().to_string();
    EXPECT_EQ(rec->result, c.expected) << c.name << ": got " << describe(rec->result);
    EXPECT_EQ(rec->inherited, rec->result) << c.name;
    EXPECT_TRUE(rec->lowered.empty()) << c.name;
    EXPECT_EQ(rec->input_count, c.inputs.size());
  }
}

TEST(Labels, NoInputsIsAnError) {
  auto rec = derive_labels({}, nullptr);
  ASSERT_FALSE(rec);
  EXPECT_NE(rec.error().message().find("no inputs"), std::string::npos);
}

TEST(Labels, ApprovedTransformationLowersAndIsRecorded) {
  Transformation t;
  t.id = "agg";
  t.kind = "aggregation";
  t.approved_by = "urn:dso";
  t.approval_ref = "DSO-1";
  t.lowers_grade_to = Grade::kGeneral;
  t.lowers_personal_to = Personal::kNone;
  const std::vector<Labels> in = {
      make(Grade::kImportant, Personal::kPersonal, true, Sharing::kAmber)};
  auto rec = derive_labels(in, &t);
  ASSERT_TRUE(rec) << rec.error().to_string();
  EXPECT_EQ(rec->inherited.grade, Grade::kImportant);
  EXPECT_EQ(rec->result.grade, Grade::kGeneral);
  EXPECT_EQ(rec->result.personal, Personal::kNone);
  EXPECT_TRUE(rec->result.trade_secret) << "not cleared by this transformation";
  EXPECT_EQ(rec->result.sharing, Sharing::kAmber) << "sharing not lowered by default";
  EXPECT_EQ(rec->transformation_id, "agg");
  EXPECT_EQ(rec->approval_ref, "DSO-1");
  ASSERT_EQ(rec->lowered.size(), 2u);
  EXPECT_EQ(rec->lowered[0], "grade: important -> general");
  EXPECT_EQ(rec->lowered[1], "personal: personal -> none");
}

TEST(Labels, TransformationNeverRaises) {
  Transformation t;
  t.id = "x";
  t.approved_by = "urn:dso";
  t.approval_ref = "DSO-1";
  t.lowers_grade_to = Grade::kImportant;  // above the input's grade: must not raise it
  const std::vector<Labels> in = {make(Grade::kGeneral, Personal::kNone, false, Sharing::kGreen)};
  auto rec = derive_labels(in, &t);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->result.grade, Grade::kGeneral);
  EXPECT_TRUE(rec->lowered.empty());
}

TEST(Labels, UnapprovedTransformationIsRefused) {
  Transformation t;
  t.id = "sneaky";
  t.lowers_grade_to = Grade::kGeneral;
  const std::vector<Labels> in = {make(Grade::kCore, Personal::kNone, false, Sharing::kRed)};
  auto rec = derive_labels(in, &t);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(rec.error().message().find("'sneaky'"), std::string::npos) << rec.error().message();
}

}  // namespace
}  // namespace resonance::governance
