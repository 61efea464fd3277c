// imap
