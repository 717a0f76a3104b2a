"""What the tests stand on: harnesses for the real components (LibreOffice, Gnumeric, Chromium, an SMTP
server, a Graph-like HTTPS server, xlwings' own UDF code on Linux), shared fixtures' helpers, and the
scripts a person runs to look at what the tests check (``python -m tests.support.look_at_briefs``)."""
