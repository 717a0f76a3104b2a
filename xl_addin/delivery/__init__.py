"""Email delivery: build each client's pack, write it as a MIME message, send it exactly once over SMTP.

- :mod:`.settings` - SMTP server, sender, allowed domains, ledger and log locations (environment first).
- :mod:`.pack` - one client's pack (workbook, brief, chart) from one report context.
- :mod:`.message` - the MIME message and the dry-run ``.eml`` file; address checks.
- :mod:`.smtp` - sending with retries and backoff, one outcome per message.
- :mod:`.ledger` - the SQLite send ledger that makes reruns safe.
- :mod:`.batch` - the clients file and batch runs (local processes or a Dask cluster build; one sender).
"""
