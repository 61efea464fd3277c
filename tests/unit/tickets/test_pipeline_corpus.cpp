// The pipeline over the shared corpus (../shared/corpus): real and hostile mail from other
// projects. Nothing may crash, stop the run or be lost; bounces and RFC 3834 auto-replies never
// open a ticket; ingesting everything a second time creates nothing. Skips without the corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "store/database.h"
#include "store/inbox.h"
#include "store/tickets.h"
#include "tests/support/paths.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {
namespace {

namespace fs = std::filesystem;
using ticketd::testing::TempDir;

std::vector<fs::path> corpus_messages() {
    std::vector<fs::path> out;
    const fs::path root = ticketd::testing::corpus_dir();
    if (root.empty()) return out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        const auto ext = e.path().extension().string();
        if (ext == ".eml" || ext == ".msg" || ext == ".txt" || ext == "") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool automatic_by_corpus(const fs::path& p) {
    // bounces/README: sisimai's lhost-*, rhost-*, rfc3464-* are bounces, rfc3834-* auto-replies.
    if (p.parent_path().filename() != "sisimai") return false;
    const auto name = p.filename().string();
    for (const char* prefix : {"lhost-", "rhost-", "rfc3464-", "rfc3834-"})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

TEST(PipelineCorpus, EverythingIsProcessedNothingIsLostAutomaticMailOpensNoTicket) {
    const auto files = corpus_messages();
    if (files.empty()) GTEST_SKIP() << "no ../shared/corpus";
    TempDir dir;
    store::Database db((dir / "corpus.db").string());
    auto cfg = std::make_shared<config::Config>();
    cfg->desk.addresses = {"support@acme.example"};
    cfg->desk.subject_tag = "ACME";

    store::Inbox inbox(db);
    std::vector<std::pair<std::int64_t, fs::path>> ids;
    for (const auto& f : files) ids.emplace_back(inbox.add_raw("file:" + f.string(), ticketd::testing::read_file(f)), f);

    Pipeline p(db, cfg);
    p.process_pending();
    EXPECT_EQ(inbox.count(store::InboxState::pending), 0);

    // The pipeline's rule, whatever the parser decided: mail classified as a bounce or an
    // auto-reply never opened a ticket.
    {
        auto st = db.prepare(
            "SELECT count(*) FROM messages WHERE kind IN ('auto_reply','bounce') "
            "AND thread_signal = 'new'");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.int64(0), 0);
    }

    int quarantined = 0, automatic_checked = 0;
    std::vector<std::string> disagreements;
    for (const auto& [id, file] : ids) {
        auto e = inbox.get(id);
        ASSERT_TRUE(e);
        EXPECT_NE(e->state, store::InboxState::pending) << file;
        if (e->state == store::InboxState::quarantined) {
            ++quarantined;
            EXPECT_FALSE(e->error.empty()) << file;
            continue;
        }
        if (automatic_by_corpus(file)) {
            ++automatic_checked;
            if (e->outcome != "unmatched_automatic" && e->outcome != "appended" &&
                e->outcome != "duplicate")
                disagreements.push_back(file.filename().string() + " -> " + e->outcome);
        }
    }
    EXPECT_GT(automatic_checked, 100);
    // Which mail is automatic is the parser's call (parsers::classify, scored by its own
    // tests); here only a stray few may disagree with the corpus labels, and they are listed.
    for (const auto& d : disagreements)
        std::cout << "note: corpus says automatic, classified otherwise: " << d << "\n";
    EXPECT_LE(disagreements.size(), static_cast<std::size_t>(automatic_checked) / 100 + 1);
    std::cout << "note: " << files.size() << " corpus files, " << quarantined << " quarantined, "
              << store::Tickets(db).count() << " tickets\n";
    // Hostile input may be refused by the parser's limits, but not much of a real corpus.
    EXPECT_LT(quarantined, static_cast<int>(files.size()) / 20) << quarantined << " quarantined";

    const auto tickets = store::Tickets(db).count();
    for (const auto& f : files) {
        auto out = ingest_raw(db, cfg, "again", ticketd::testing::read_file(f));
        EXPECT_TRUE(out.outcome == Outcome::duplicate || out.outcome == Outcome::quarantined)
            << f << ": " << to_string(out.outcome);
    }
    EXPECT_EQ(store::Tickets(db).count(), tickets);
}

}  // namespace
}  // namespace ticketd::tickets
