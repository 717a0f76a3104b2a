"""Reports built from one context: client workbooks, briefs and their charts."""

from .context import ReportContext, build_context
from .profile import ClientProfile, load_profile, profile_from_mapping, safe_filename

__all__ = [
    "ClientProfile",
    "ReportContext",
    "build_context",
    "load_profile",
    "profile_from_mapping",
    "safe_filename",
]
