"""The VBA project of ``IMGOUT.xlsm``: xlwings' standalone quickstart project, minus its sample macro.

xlwings' ``quickstart_standalone.xlsm`` carries the ``xlwings`` VBA module (what calls Python), its
``Dictionary`` class, the document modules of the workbook and two sheets, and ``Module1``, whose
``SampleCall`` macro imports a Python module named after the workbook (``IMGOUT``, which does not exist).
:func:`standalone_project` rewrites that project the way the specifications describe it, with the
modules asked for and nothing else:

- the project is a Compound File (MS-CFB): read with ``olefile``, written afresh by :func:`write_compound_file`
  (version 3, 512-byte sectors, small streams in the mini stream, directory trees as red-black trees);
- its ``VBA/dir`` stream (MS-OVBA 2.3.4.2) lists the modules; it is decompressed, its module records are
  dropped or added, and it is compressed again (MS-OVBA 2.4.1, :func:`compress` / :func:`decompress`);
- the ``PROJECT`` and ``PROJECTwm`` streams name the modules too and are edited to match;
- module streams are copied byte for byte; an added document module (one per extra worksheet) is the
  compressed source of an existing one under its new name. ``_VBA_PROJECT`` keeps version 0xFFFF, which
  tells Office to compile the project from source (xlwings ships it that way).

Nothing here runs in Excel: the tests read the result back with oletools (olevba) and LibreOffice.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import olefile

# ---------------------------------------------------------------------------------------------- MS-OVBA compression

_CHUNK = 4096


def decompress(data: bytes) -> bytes:
    """A CompressedContainer (MS-OVBA 2.4.1.1.1) back to its bytes."""
    if not data or data[0] != 1:
        raise ValueError("not a VBA compressed container (the first byte must be 1)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = int.from_bytes(data[pos : pos + 2], "little")
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # a raw chunk: 4096 bytes as they are
            out += data[pos : pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = int.from_bytes(data[pos : pos + 2], "little")
                pos += 2
                bits = _offset_bits(len(out) - start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                for _ in range(length):  # byte by byte: a copy may overlap what it writes
                    out.append(out[-offset])
    return bytes(out)


def _offset_bits(position: int) -> int:
    """How many bits of a copy token hold the offset, given the position within the chunk (2.4.1.3.19.1)."""
    return max((position - 1).bit_length(), 4)


def compress(data: bytes) -> bytes:
    """Bytes as a CompressedContainer (MS-OVBA 2.4.1.3.6), longest matches first."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[start : start + _CHUNK])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    body = bytearray()
    pos = 0
    while pos < len(chunk):
        flags = 0
        tokens = bytearray()
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _longest_match(chunk, pos)
            if length:
                bits = _offset_bits(pos)
                tokens += (((offset - 1) << (16 - bits)) | (length - 3)).to_bytes(2, "little")
                flags |= 1 << bit
                pos += length
            else:
                tokens.append(chunk[pos])
                pos += 1
        body.append(flags)
        body += tokens
    if len(body) > _CHUNK:  # incompressible: a raw chunk (only a full chunk can be raw)
        return (0x3FFF).to_bytes(2, "little") + chunk.ljust(_CHUNK, b"\x00")
    return (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + bytes(body)


def _longest_match(chunk: bytes, pos: int) -> tuple[int, int]:
    """The (offset, length) of the longest earlier copy of ``chunk[pos:]``, length 0 if under 3 bytes."""
    if pos == 0:
        return 0, 0
    bits = _offset_bits(pos)
    max_length = min((0xFFFF >> bits) + 3, len(chunk) - pos)
    best_offset, best_length = 0, 0
    for candidate in range(pos - 1, max(pos - (1 << bits), 0) - 1, -1):
        length = 0
        while length < max_length and chunk[candidate + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_offset, best_length = pos - candidate, length
            if length == max_length:
                break
    return (best_offset, best_length) if best_length >= 3 else (0, 0)


# ---------------------------------------------------------------------------------------------- the dir stream

_PROJECT_VERSION = 0x0009  # its size field says 4 but 6 bytes follow (MS-OVBA 2.3.4.2.1.11)
_PROJECT_MODULES = 0x000F
_MODULE_NAME = 0x0019
_MODULE_NAME_UNICODE = 0x0047
_MODULE_STREAM_NAME = 0x001A
_MODULE_STREAM_NAME_UNICODE = 0x0032
_MODULE_OFFSET = 0x0031
_MODULE_TERMINATOR = 0x002B


@dataclass
class Module:
    """One module record of the dir stream (its records in order) and the stream holding its code."""

    records: list[tuple[int, bytes]]
    stream: bytes

    def field(self, record_id: int) -> bytes:
        """The data of one record of this module."""
        return next(data for rid, data in self.records if rid == record_id)

    @property
    def name(self) -> str:
        """The module's name (``xlwings``, ``Sheet1`` ...)."""
        return self.field(_MODULE_NAME).decode("latin-1")

    @property
    def source(self) -> str:
        """The module's VBA source, as the VBA editor shows it."""
        offset = int.from_bytes(self.field(_MODULE_OFFSET), "little")
        return decompress(self.stream[offset:]).decode("latin-1")

    def renamed(self, name: str) -> Module:
        """A copy under another name, its source renamed too and stored without compiled code."""
        old = self.name
        replaced = {
            _MODULE_NAME: name.encode("latin-1"),
            _MODULE_NAME_UNICODE: name.encode("utf-16-le"),
            _MODULE_STREAM_NAME: name.encode("latin-1"),
            _MODULE_STREAM_NAME_UNICODE: name.encode("utf-16-le"),
            _MODULE_OFFSET: (0).to_bytes(4, "little"),
        }
        records = [(rid, replaced.get(rid, data)) for rid, data in self.records]
        source = self.source.replace(f'Attribute VB_Name = "{old}"', f'Attribute VB_Name = "{name}"', 1)
        return Module(records, compress(source.encode("latin-1")))


@dataclass
class Project:
    """A VBA project: its dir stream split into the part before the modules, the modules, and the rest."""

    head: list[tuple[int, bytes]]
    modules: list[Module]
    tail: list[tuple[int, bytes]]
    project_text: str
    other_streams: dict[str, bytes] = field(default_factory=dict)

    def module(self, name: str) -> Module:
        """The module called ``name``."""
        return next(m for m in self.modules if m.name == name)

    def dir_stream(self) -> bytes:
        """The dir stream, with the module count matching the modules."""
        out = bytearray()
        for rid, data in self.head:
            if rid == _PROJECT_MODULES:
                data = len(self.modules).to_bytes(2, "little")
            out += _record(rid, data)
        for module in self.modules:
            for rid, data in module.records:
                out += _record(rid, data)
        for rid, data in self.tail:
            out += _record(rid, data)
        return bytes(out)


def _record(rid: int, data: bytes) -> bytes:
    size = 4 if rid == _PROJECT_VERSION else len(data)
    return struct.pack("<HI", rid, size) + data


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    pos = 0
    while pos < len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == _PROJECT_VERSION:
            size = 6
        out.append((rid, data[pos : pos + size]))
        pos += size
    return out


def read_project(vba_project_bin: bytes) -> Project:
    """A vbaProject.bin, read into its modules (with their streams) and the project's other streams."""
    ole = olefile.OleFileIO(io.BytesIO(vba_project_bin))
    records = _records(decompress(ole.openstream("VBA/dir").read()))
    first = next(i for i, (rid, _) in enumerate(records) if rid == _MODULE_NAME)
    last = max(i for i, (rid, _) in enumerate(records) if rid == _MODULE_TERMINATOR)
    modules: list[Module] = []
    current: list[tuple[int, bytes]] = []
    for rid, data in records[first : last + 1]:
        current.append((rid, data))
        if rid == _MODULE_TERMINATOR:
            stream_name = dict(current)[_MODULE_STREAM_NAME].decode("latin-1")
            modules.append(Module(current, ole.openstream(f"VBA/{stream_name}").read()))
            current = []
    other = {
        "/".join(path): ole.openstream(path).read()
        for path in ole.listdir(streams=True)
        if path[0] != "VBA" or path[1] in ("_VBA_PROJECT",)
    }
    text = other.pop("PROJECT").decode("latin-1")
    other.pop("PROJECTwm", None)
    return Project(records[:first], modules, records[last + 1 :], text, other)


def standalone_project(template: bytes, drop: Iterable[str], documents: Sequence[str] = ()) -> bytes:
    """``template`` (a vbaProject.bin) without the modules ``drop`` and with extra worksheet document modules.

    Each of ``documents`` (``Sheet3`` ...) is a copy of the template's last worksheet document module,
    so that every worksheet of the workbook has its module, as Excel writes them.
    """
    project = read_project(template)
    dropped = set(drop)
    missing = dropped - {m.name for m in project.modules}
    if missing:
        raise ValueError(f"the VBA project has no module {', '.join(sorted(missing))}")
    model = _last_sheet_module(project)
    project.modules = [m for m in project.modules if m.name not in dropped]
    project.modules += [model.renamed(name) for name in documents]
    return write_compound_file(_streams(project, dropped, documents, model.name))


def _last_sheet_module(project: Project) -> Module:
    documents = [
        m for m in project.modules if m.name.startswith("Sheet") and 'VB_Base = "0{00020820' in m.source
    ]
    return documents[-1]


def _names_module(line: str) -> str | None:
    """The module a PROJECT line is about: ``Module=Module1``, ``Document=Sheet1/&H0``, ``Module1=0, 0 ...``."""
    key, _, value = line.partition("=")
    if key in ("Module", "Class", "BaseClass", "Document"):
        return value.partition("/")[0]
    return key if value[:1].isdigit() else None


def _streams(project: Project, dropped: set[str], documents: Sequence[str], model: str) -> dict[str, bytes]:
    """Every stream of the new project by path (``PROJECT``, ``VBA/dir`` ...)."""
    kept = [line for line in project.project_text.split("\r\n") if _names_module(line) not in dropped]
    for name in reversed(documents):  # after the model's lines, in the order given
        kept.insert(kept.index(f"Document={model}/&H00000000") + 1, f"Document={name}/&H00000000")
        kept.insert(
            next(i for i, line in enumerate(kept) if line.startswith(f"{model}=")) + 1,
            f"{name}=0, 0, 0, 0, C",
        )
    names = b"".join(
        m.name.encode("latin-1") + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00" for m in project.modules
    )
    streams = {
        "PROJECT": "\r\n".join(kept).encode("latin-1"),
        "PROJECTwm": names + b"\x00\x00",
        "VBA/dir": compress(project.dir_stream()),
    }
    streams.update(project.other_streams)
    for module in project.modules:
        streams[f"VBA/{module.field(_MODULE_STREAM_NAME).decode('latin-1')}"] = module.stream
    return streams


# ---------------------------------------------------------------------------------------------- MS-CFB writing

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FAT_SECTOR, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_PER_SECTOR = _SECTOR // 4


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    start: int = _END
    left: int = _NONE
    right: int = _NONE
    child: int = _NONE
    black: bool = True


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """A version-3 Compound File holding ``streams`` (paths like ``VBA/dir``; storages made as needed)."""
    root, entries = _tree(streams)
    mini_fat, mini_stream = _mini_stream(entries)
    sectors = _Sectors()
    # Regular sectors: directory (its start sectors filled in below), mini FAT, mini stream, large streams.
    first_directory = sectors.place(_directory(entries, len(mini_stream)))
    mini_fat_bytes = b"".join(struct.pack("<I", v) for v in mini_fat)
    first_mini_fat = sectors.place(
        mini_fat_bytes.ljust(-(-len(mini_fat_bytes) // _SECTOR) * _SECTOR, b"\xff")
    )
    root.start = sectors.place(mini_stream)
    for e in entries:
        if e.kind == 2 and len(e.data) >= _CUTOFF:
            e.start = sectors.place(e.data)
    directory = _directory(entries, len(mini_stream))
    sectors.data[first_directory * _SECTOR : first_directory * _SECTOR + len(directory)] = directory
    fat_start, fat_count = sectors.close_with_fat()
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # 2**9 bytes a sector
        6,  # 2**6 bytes a mini sector
        b"\x00" * 6,
        0,  # directory sectors: not counted in version 3
        fat_count,
        first_directory,
        0,
        _CUTOFF,
        first_mini_fat,
        len(mini_fat_bytes) // _SECTOR + (1 if len(mini_fat_bytes) % _SECTOR else 0),
        _END,  # no DIFAT sectors: the header's 109 entries are enough
        0,
    )
    difat = [*range(fat_start, fat_start + fat_count)] + [_FREE] * (109 - fat_count)
    return header + struct.pack("<109I", *difat) + bytes(sectors.data)


class _Sectors:
    """The file's 512-byte sectors after the header, and the FAT that chains them."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.fat: list[int] = []

    def place(self, data: bytes) -> int:
        """Append ``data`` in a chain of whole sectors; its first sector (END for nothing)."""
        if not data:
            return _END
        first = len(self.fat)
        count = -(-len(data) // _SECTOR)
        self.fat.extend([*range(first + 1, first + count), _END])
        self.data.extend(data.ljust(count * _SECTOR, b"\x00"))
        return first

    def close_with_fat(self) -> tuple[int, int]:
        """Append the FAT sectors (which the FAT covers too); their first sector and count."""
        count = 0
        while count * _PER_SECTOR < len(self.fat) + count:
            count += 1
        if count > 109:
            raise ValueError("a VBA project this large needs DIFAT sectors, which this writer does not make")
        start = len(self.fat)
        fat = self.fat + [_FAT_SECTOR] * count
        fat += [_FREE] * (count * _PER_SECTOR - len(fat))
        self.data.extend(b"".join(struct.pack("<I", v) for v in fat))
        return start, count


def _tree(streams: dict[str, bytes]) -> tuple[_Entry, list[_Entry]]:
    """The root storage with its storages and streams; every entry in directory order (root first)."""
    root = _Entry("Root Entry", 5)
    for path, data in streams.items():
        parent = root
        *storages, name = path.split("/")
        for storage in storages:
            found = next((c for c in parent.children if c.name == storage), None)
            if found is None:
                found = _Entry(storage, 1)
                parent.children.append(found)
            parent = found
        parent.children.append(_Entry(name, 2, data))
    entries = _flatten(root)
    for entry in entries:
        _link_children(entry, entries)
    return root, entries


def _mini_stream(entries: list[_Entry]) -> tuple[list[int], bytes]:
    """Small streams in 64-byte mini sectors: the mini FAT chaining them, and the mini stream itself."""
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for e in entries:
        if e.kind == 2 and len(e.data) < _CUTOFF:
            e.start = len(mini_fat)
            count = -(-len(e.data) // _MINI)
            mini_fat += [*range(e.start + 1, e.start + count), _END]
            mini_stream += e.data.ljust(count * _MINI, b"\x00")
    return mini_fat, bytes(mini_stream)


def _directory(entries: list[_Entry], mini_stream_size: int) -> bytes:
    """The directory sectors' bytes: 128 bytes an entry, padded with empty entries to whole sectors."""
    directory = b"".join(_directory_entry(e, mini_stream_size) for e in entries)
    return directory + _empty_entry() * (-len(entries) % 4)


def _flatten(root: _Entry) -> list[_Entry]:
    out, todo = [], [root]
    while todo:
        entry = todo.pop(0)
        out.append(entry)
        todo += entry.children
    return out


def _order(entry: _Entry) -> tuple[int, str]:
    """MS-CFB 2.6.4: shorter names first, then by upper-cased name."""
    return len(entry.name), entry.name.upper()


def _link_children(parent: _Entry, entries: list[_Entry]) -> None:
    """Lay ``parent``'s children out as a balanced red-black tree (red only on an incomplete last level)."""
    children = sorted(parent.children, key=_order)
    if not children:
        return
    depth: dict[int, int] = {}

    def build(items: list[_Entry], level: int) -> int:
        if not items:
            return _NONE
        middle = len(items) // 2
        node = items[middle]
        depth[id(node)] = level
        node.left = build(items[:middle], level + 1)
        node.right = build(items[middle + 1 :], level + 1)
        return entries.index(node)

    parent.child = build(children, 0)
    deepest = max(depth.values())
    full = len(children) == 2 ** (deepest + 1) - 1
    for node in children:
        node.black = full or depth[id(node)] < deepest


def _directory_entry(e: _Entry, mini_stream_size: int) -> bytes:
    name = e.name.encode("utf-16-le") + b"\x00\x00"
    if len(name) > 64:
        raise ValueError(f"a compound file name is at most 31 characters: {e.name!r}")
    size = mini_stream_size if e.kind == 5 else len(e.data)
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        e.kind,
        1 if e.black else 0,
        e.left,
        e.right,
        e.child,
        b"\x00" * 16,
        0,
        0,
        0,
        e.start if (e.kind == 5 or e.data) else _END,
        size,
    )


def _empty_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NONE, _NONE, _NONE, b"\x00" * 16, 0, 0, 0, 0, 0)
