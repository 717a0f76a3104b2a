"""An assumption set whose published anchors come from another publication than the default's."""

ANOTHER_PUBLICATION = """
sources:
  acme: {title: Imaging Outsourcing Outlook 2026, publisher: Acme Research, date: "2026-01"}
market:
  name: imaging services outsourcing market
  source: acme
  trends: [AI triage of routine studies, reporting hubs in lower-cost regions]
  forecast_factors: [radiologist shortages]
  historic_factors: [teleradiology adoption]
anchors:
  base_size: {source: acme}
  next_size: {source: acme}
  historic_growth: {source: acme}
  horizon_size: {source: acme}
  forecast_cagr: {source: acme}
"""
