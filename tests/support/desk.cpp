#include "tests/support/desk.h"

#include "tests/support/dovecot.h"
#include "tests/support/paths.h"
#include "tests/support/smtp_sink.h"

namespace ticketd::testing {

std::filesystem::path write_desk(const std::filesystem::path& dir, const DovecotServer* imap, const SmtpSink& sink,
                                 const DeskOptions& options) {
    std::filesystem::copy(source_dir() / "config/templates", dir / "templates",
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
    write_file(dir / "imap.password", "secret\n");
    // 0600 as docs/operations.md asks, so the desk's log is not full of the other_readable warning.
    std::filesystem::permissions(dir / "imap.password",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const auto path = dir / "ticketd.yaml";
    write_file(path,
               "desk:\n"
               "  name: ACME Support\n"
               "  addresses: [support@acme.example]\n"
               "  subject_tag: ACME\n"
               "  database: desk.db\n" +
                   (imap ? "imap:\n"
                           "  - name: support\n"
                           "    url: " + imap->imap_url() + "\n"
                           "    username: support\n"
                           "    password_file: imap.password\n"
                           "    require_starttls: false\n" +
                               options.mailbox_lines
                         : std::string()) +
                   "smtp:\n"
                   "  url: " + sink.url("desk.acme.example") + "\n"
                   "  require_starttls: false\n" +
                   options.extra);
    return path;
}

}  // namespace ticketd::testing
