// Precision and recall of classify() over the shared corpus (labels from corpus/README.md:
// the folder a message is in says what it is). Prints the figures; asserts the level reached.
#include <gtest/gtest.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "parsers/parse.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;
using namespace ticketd::parsers;
using ticketd::testing::corpus_dir;
using ticketd::testing::read_file;

namespace {

struct Case {
    fs::path path;
    bool positive;          // machine mail: must never be answered
    Classification expect;  // the exact class the label implies
};

const char* name_of(Classification c) {
    switch (c) {
        case Classification::requester: return "requester";
        case Classification::auto_reply: return "auto_reply";
        case Classification::bounce: return "bounce";
        case Classification::list: return "list";
    }
    return "?";
}

std::vector<fs::path> emls(const fs::path& dir, bool recursive) {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    if (recursive) {
        for (const auto& e : fs::recursive_directory_iterator(dir))
            if (e.is_regular_file() && e.path().extension() == ".eml") out.push_back(e.path());
    } else {
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file() && e.path().extension() == ".eml") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// "lhost-exim-02.eml" -> "lhost-exim"; "014-crlf.eml" -> folder name.
std::string family(const fs::path& p) {
    std::string stem = p.stem().string();
    auto dash = stem.rfind('-');
    if (dash != std::string::npos && dash + 1 < stem.size() && std::isdigit(static_cast<unsigned char>(stem[dash + 1])))
        return stem.substr(0, dash);
    return p.parent_path().filename().string();
}

std::vector<Case> labelled(const fs::path& corpus) {
    std::vector<Case> cases;
    for (const fs::path& p : emls(corpus / "bounces" / "sisimai", false)) {
        bool rfc3834 = p.filename().string().rfind("rfc3834-", 0) == 0;
        cases.push_back({p, true, rfc3834 ? Classification::auto_reply : Classification::bounce});
    }
    for (const fs::path& p : emls(corpus / "robust" / "mikel-mail" / "multipart_report_emails", false))
        cases.push_back({p, true, Classification::bounce});
    for (const fs::path& p : emls(corpus / "bounces" / "not-bounces", false))
        cases.push_back({p, false, Classification::requester});
    for (const fs::path& p : emls(corpus / "parse", true)) {
        std::string name = p.filename().string();
        bool thirdparty = p.parent_path().filename() == "stalwart-thirdparty";
        if (thirdparty && name.rfind("014", 0) == 0)
            cases.push_back({p, true, Classification::list});
        else if (thirdparty && name.rfind("015", 0) == 0)
            cases.push_back({p, true, Classification::auto_reply});
        else
            cases.push_back({p, false, Classification::requester});
    }
    return cases;
}

}  // namespace

TEST(ClassifyCorpus, PrecisionAndRecall) {
    fs::path corpus = corpus_dir();
    if (corpus.empty()) GTEST_SKIP() << "no shared corpus";
    std::vector<Case> cases = labelled(corpus);
    ASSERT_GT(cases.size(), 300u);

    int tp = 0, fp = 0, fn = 0, tn = 0, parse_errors = 0;
    int exact = 0, positives = 0;
    int bounce_expected = 0, bounce_found = 0, bounce_predicted = 0, bounce_correct = 0;
    int negatives_as_bounce = 0, with_original_id = 0, with_recipient = 0, with_status = 0;
    std::map<std::string, std::pair<int, int>> families;  // family -> (exact, total), positives only
    std::vector<std::string> misses;

    for (const Case& c : cases) {
        ParseResult r = parse(read_file(c.path));
        Classification got = Classification::requester;
        std::string reason;
        const Message* m = std::get_if<Message>(&r);
        if (m) {
            got = m->classification;
            reason = m->classification_reason;
        } else {
            ++parse_errors;
            reason = "parse error: " + std::get<ParseError>(r).code;
        }
        bool predicted = got != Classification::requester;
        std::string rel = fs::relative(c.path, corpus).string();
        if (c.positive) {
            ++positives;
            predicted ? ++tp : ++fn;
            auto& fam = families[family(c.path)];
            ++fam.second;
            if (got == c.expect) {
                ++exact;
                ++fam.first;
            } else {
                misses.push_back(rel + ": expected " + name_of(c.expect) + ", got " + name_of(got) + " (" + reason + ")");
            }
        } else {
            predicted ? ++fp : ++tn;
            if (predicted) misses.push_back(rel + ": negative, got " + name_of(got) + " (" + reason + ")");
            if (got == Classification::bounce) ++negatives_as_bounce;
        }
        if (got == Classification::bounce) ++bounce_predicted;
        if (c.expect == Classification::bounce && c.positive) {
            ++bounce_expected;
            if (got == Classification::bounce) {
                ++bounce_found;
                if (m && m->bounce) {
                    if (!m->bounce->original_message_id.empty()) ++with_original_id;
                    if (!m->bounce->failed_recipients.empty()) ++with_recipient;
                    if (!m->bounce->status.empty()) ++with_status;
                }
            }
        }
        if (got == Classification::bounce && c.expect == Classification::bounce) ++bounce_correct;
    }

    auto pct = [](double a, double b) { return b == 0 ? 100.0 : 100.0 * a / b; };
    double precision = pct(tp, tp + fp), recall = pct(tp, tp + fn);
    double bounce_precision = pct(bounce_correct, bounce_predicted), bounce_recall = pct(bounce_found, bounce_expected);
    std::cout << std::fixed << std::setprecision(1)
              << "messages: " << cases.size() << " (" << positives << " machine-made, " << (tp + fp + fn + tn - positives)
              << " human), parse errors: " << parse_errors << "\n"
              << "not-a-requester: precision " << precision << "% (" << tp << "/" << tp + fp << "), recall " << recall
              << "% (" << tp << "/" << tp + fn << ")\n"
              << "exact class on machine-made: " << pct(exact, positives) << "% (" << exact << "/" << positives << ")\n"
              << "bounce: precision " << bounce_precision << "% (" << bounce_correct << "/" << bounce_predicted
              << "), recall " << bounce_recall << "% (" << bounce_found << "/" << bounce_expected << ")\n"
              << "negatives classified as bounce: " << negatives_as_bounce << "\n"
              << "bounces with original Message-ID: " << with_original_id << "/" << bounce_found
              << ", with a failed recipient: " << with_recipient << "/" << bounce_found << ", with a status: " << with_status
              << "/" << bounce_found << "\n";
    for (const auto& [fam, counts] : families)
        if (counts.first != counts.second)
            std::cout << "  family " << fam << ": " << counts.first << "/" << counts.second << " exact\n";
    for (const std::string& s : misses) std::cout << "  miss: " << s << "\n";

    // Thresholds at the level reached (docs/classification.md has the figures and the misses).
    // Since the parser skips a leading mbox "From " line, the 26 sisimai files that start with
    // one classify too; the remaining misses are machine mail of another kind (see the doc).
    EXPECT_EQ(parse_errors, 0);
    EXPECT_GE(precision, 99.5);
    EXPECT_GE(recall, 99.0);
    EXPECT_GE(bounce_precision, 99.5);
    EXPECT_GE(bounce_recall, 98.5);
    // One "not-bounce" (rb-issue-368) is a postmaster's "email bounce notification" returning
    // the message: we call it a bounce and say why in the doc.
    EXPECT_LE(negatives_as_bounce, 1);
    EXPECT_GE(pct(with_original_id, bounce_found), 85.0);
}
