"""Email delivery: build each client's pack, then deliver it exactly once through a channel.

- :mod:`.settings` - SMTP server, sender, allowed domains, ledger and log locations (environment first).
- :mod:`.pack` - one client's pack (workbook, brief, chart) from one report context.
- :mod:`.message` - the MIME message that carries a pack; address checks.
- :mod:`.channel` - what a delivery channel is (the pack's key, ``settled``, ``deliver``) and what it reports.
- :mod:`.smtp` - the SMTP channel: claim in the send ledger, send with retries and backoff, record the outcome.
- :mod:`.eml` - the dry-run channel: each message written as an ``.eml`` file, nothing sent.
- :mod:`.ledger` - the SQLite send ledger that makes reruns safe.
- :mod:`.log` - the JSON-lines delivery log.
- :mod:`.batch` - the clients file and batch runs (build in local processes or on a Dask cluster; deliver here).
- :mod:`.terminal` - the progress bar and the summary table of a run.
"""
