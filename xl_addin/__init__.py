"""imgout: one market model of the medical imaging outsourcing market, served as Excel functions,
client workbooks and emailed briefs."""

__version__ = "0.1.0"
