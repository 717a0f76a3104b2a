"""Everything a reader of a delivered file could get at, as text: for tests that look for what must not be there."""

from __future__ import annotations

import email
import email.policy
import io
import subprocess
import zipfile
from pathlib import Path

import pikepdf


def everything_readable(name: str, data: bytes, tmp_path: Path) -> str:
    """All the text a reader of the file could get at: a zip's every part, a PDF's text, metadata and
    streams, an email's every part (decoded), or the file itself."""
    if name.endswith((".xlsx", ".xlsm")):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    if name.endswith(".pdf"):
        pdf_file = tmp_path / "read.pdf"
        pdf_file.write_bytes(data)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(pdf_file), "-"], capture_output=True, text=True, check=True
        ).stdout
        with pikepdf.open(io.BytesIO(data)) as pdf:
            parts = [text, str(pdf.docinfo)]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        parts.append(obj.read_bytes().decode("latin-1"))
                    except pikepdf.PdfError:
                        parts.append(obj.read_raw_bytes().decode("latin-1"))
                elif isinstance(obj, pikepdf.Dictionary):
                    parts.append(repr(obj))
        return "\n".join(parts)
    if name.endswith(".eml"):
        message = email.message_from_bytes(data, policy=email.policy.default)
        parts = [str(message)]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if payload:
                parts.append(everything_readable(part.get_filename() or "part.txt", payload, tmp_path))
        return "\n".join(parts)
    return data.decode("utf-8", "replace")
