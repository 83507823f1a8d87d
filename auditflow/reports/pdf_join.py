"""The PDF's parts joined into one archival file (PDF/A-3b; tagged, PDF/UA-1), read with pypdf.

Each part comes from WeasyPrint as a PDF/A page run (tagged for an issued edition)
without page numbers (``reports.pdf_parts``). Joining them:

- the pages taken from each part, in order; each part's font subsets renamed with
  a tag of their own (two parts subset the same face differently, and a reader may
  take two subsets of one name for one font);
- the page number ("- n -") of every page drawn from sheets WeasyPrint rendered
  with the report's own page style, one page per number, placed as a form over the
  page and marked as a pagination artifact (no part of the text's structure);
- the structure trees of a tagged file: WeasyPrint tags each page on its own (its
  elements point to their page), so the kept pages' elements go under one Document
  element and the parent tree is numbered again page by page;
- one catalog: the language (ko), the output intent of the first part (sRGB), the
  XMP metadata (PDF/A-3b, and PDF/UA-1 when tagged; title, author, dates), the
  document information agreeing with it, and a file identifier computed from the
  content. Every date is the edition's day: nothing depends on the moment of writing.

The file is written as it is joined, part after part (``_Output``): only one part's
objects are held at a time, and of the rest only what the last objects need (the
pages' numbers, the top structure elements', the objects' offsets).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, cast
from xml.sax.saxutils import escape, quoteattr

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

LANGUAGE = "ko"
CREATOR = "auditflow"
_SUBSET = re.compile(r"^/([A-Z]{6})\+(.*)$")


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str
    day: date  # the edition's day (issued, else the reference date)
    producer: str
    tagged: bool  # the parts are tagged: the file keeps their structure and claims PDF/UA-1

    @property
    def xmp_date(self) -> str:
        return f"{self.day.isoformat()}T00:00:00+09:00"

    @property
    def pdf_date(self) -> str:
        return f"D:{self.day:%Y%m%d}000000+09'00'"


@dataclass(frozen=True)
class Pages:
    """Pages ``first`` to ``stop`` (exclusive) of the PDF ``data``."""

    data: bytes
    first: int
    stop: int


def join(parts: Sequence[Pages], numbers: Sequence[bytes], metadata: Metadata,
         output: BinaryIO) -> None:
    """Write one PDF of ``parts``' pages to ``output``, page ``n`` numbered by page ``n`` of
    the sheets ``numbers`` one after the other (PDFs of as many pages in all)."""
    out = _Output(output)
    catalog, pages_node = out.reserve(), out.reserve()
    tree, document = (out.reserve(), out.reserve()) if metadata.tagged else (0, 0)
    sheets = [_Copier(out, PdfReader(io.BytesIO(sheet))) for sheet in numbers]
    sheet_pages = [(sheet, index) for sheet in sheets for index in range(len(sheet.reader.pages))]
    before = out.put_new(_stream(b"q\n"))
    kids: list[int] = []
    top: list[int] = []
    nums = ArrayObject()
    intents: PdfObject | None = None
    for index, part in enumerate(parts):
        reader = PdfReader(io.BytesIO(part.data))
        _rename_subsets(reader, index)
        copier = _Copier(out, reader)
        kept = {}
        for number, source in enumerate(reader.pages):
            assert source.indirect_reference is not None
            if part.first <= number < part.stop:
                kept[source.indirect_reference.idnum] = out.reserve()
            copier.memo[source.indirect_reference.idnum] = kept.get(
                source.indirect_reference.idnum, 0)
        catalog_source = cast(DictionaryObject, reader.trailer["/Root"])
        if intents is None and "/OutputIntents" in catalog_source:
            intents = copier.copy(catalog_source.raw_get("/OutputIntents"))
        parents: dict[int, ArrayObject] = {}
        if metadata.tagged:
            root = cast(DictionaryObject, catalog_source["/StructTreeRoot"].get_object())
            parents = _parent_arrays(root)
            top_source = cast(DictionaryObject, cast(ArrayObject, root["/K"])[0].get_object())
            for kid in cast(ArrayObject, top_source["/K"]):
                page_ref = cast(DictionaryObject, kid.get_object()).get("/Pg")
                if isinstance(page_ref, IndirectObject) and page_ref.idnum in kept:
                    top.append(copier.element(kid, document))
        resources_number, resources = _part_resources(copier, reader.pages[0])
        for number in range(part.first, part.stop):
            source = reader.pages[number]
            key = len(kids)
            assert source.indirect_reference is not None
            page_number = kept[source.indirect_reference.idnum]
            if metadata.tagged:
                marks = parents.get(int(source.get("/StructParents", -1)), ArrayObject())
                nums.extend([NumberObject(key), _ref(out.put_new(
                    ArrayObject(copier.mapped(mark) for mark in marks)))])
            form = _number_form(*sheet_pages[key])
            forms = cast(DictionaryObject, resources["/XObject"])
            forms[NameObject(f"/AFPage{key + 1}")] = _ref(form)
            page = DictionaryObject()
            for name, _value in source.items():
                if name not in ("/Parent", "/Contents", "/Resources", "/StructParents"):
                    page[NameObject(name)] = copier.copy(source.raw_get(name))
            page[NameObject("/Parent")] = _ref(pages_node)
            page[NameObject("/Resources")] = _ref(resources_number)
            if metadata.tagged:
                page[NameObject("/StructParents")] = NumberObject(key)
            contents = _ref(out.put_new(_stream(
                b"\nQ\nq /Artifact <</Type /Pagination /Subtype /Footer>> BDC "
                + f"/AFPage{key + 1}".encode() + b" Do EMC Q\n")))
            page[NameObject("/Contents")] = ArrayObject(
                [_ref(before), copier.copy(source.raw_get("/Contents")), contents])
            out.put(page_number, page)
            kids.append(page_number)
        out.put(resources_number, resources)
        copier.flush()
        del reader, copier
    for sheet in sheets:
        sheet.flush()
    out.put(pages_node, DictionaryObject({
        NameObject("/Type"): NameObject("/Pages"),
        NameObject("/Kids"): ArrayObject(_ref(kid) for kid in kids),
        NameObject("/Count"): NumberObject(len(kids))}))
    if metadata.tagged:
        out.put(document, DictionaryObject({
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject("/Document"), NameObject("/P"): _ref(tree),
            NameObject("/K"): ArrayObject(_ref(kid) for kid in top)}))
        parent_tree = out.put_new(DictionaryObject({NameObject("/Nums"): nums}))
        out.put(tree, DictionaryObject({
            NameObject("/Type"): NameObject("/StructTreeRoot"),
            NameObject("/K"): ArrayObject([_ref(document)]),
            NameObject("/ParentTree"): _ref(parent_tree),
            NameObject("/ParentTreeNextKey"): NumberObject(len(kids))}))
    xmp = _stream(_xmp(metadata))
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    root_dict = DictionaryObject({
        NameObject("/Type"): NameObject("/Catalog"),
        NameObject("/Pages"): _ref(pages_node),
        NameObject("/Lang"): TextStringObject(LANGUAGE),
        NameObject("/ViewerPreferences"): DictionaryObject(
            {NameObject("/DisplayDocTitle"): BooleanObject(True)}),
        NameObject("/Metadata"): _ref(out.put_new(xmp)),
    })
    if metadata.tagged:
        root_dict[NameObject("/MarkInfo")] = DictionaryObject(
            {NameObject("/Marked"): BooleanObject(True)})
        root_dict[NameObject("/StructTreeRoot")] = _ref(tree)
    if intents is not None:
        root_dict[NameObject("/OutputIntents")] = intents
    out.put(catalog, root_dict)
    info = out.put_new(DictionaryObject({
        NameObject(key): TextStringObject(value) for key, value in (
            ("/Title", metadata.title), ("/Author", metadata.author),
            ("/Subject", metadata.subject), ("/Creator", CREATOR),
            ("/Producer", metadata.producer), ("/CreationDate", metadata.pdf_date),
            ("/ModDate", metadata.pdf_date))}))
    out.close(catalog, info)


def _ref(number: int) -> IndirectObject:
    return IndirectObject(number, 0, None)


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


class _Output:
    """A PDF written object by object: numbers reserved first, each object written once,
    the cross-reference table and a trailer whose identifier is the hash of all before it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.start = stream.tell()
        self.offsets: list[int] = []
        self.digest = hashlib.md5(usedforsecurity=False)
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.stream.write(data)
        self.digest.update(data)

    def reserve(self) -> int:
        self.offsets.append(-1)
        return len(self.offsets)

    def put(self, number: int, obj: PdfObject) -> None:
        assert self.offsets[number - 1] == -1, number
        self.offsets[number - 1] = self.stream.tell() - self.start
        buffer = io.BytesIO()
        buffer.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(buffer)
        buffer.write(b"\nendobj\n")
        self._write(buffer.getvalue())

    def put_new(self, obj: PdfObject) -> int:
        number = self.reserve()
        self.put(number, obj)
        return number

    def close(self, root: int, info: int) -> None:
        missing = [number for number, offset in enumerate(self.offsets, 1) if offset < 0]
        assert not missing, missing
        identifier = self.digest.hexdigest().upper()
        xref = self.stream.tell() - self.start
        lines = [f"xref\n0 {len(self.offsets) + 1}\n", "0000000000 65535 f \n"]
        lines += [f"{offset:010d} 00000 n \n" for offset in self.offsets]
        lines.append(f"trailer\n<< /Size {len(self.offsets) + 1} /Root {root} 0 R /Info {info} 0 R"
                     f" /ID [<{identifier}> <{identifier}>] >>\nstartxref\n{xref}\n%%EOF\n")
        self.stream.write("".join(lines).encode())


def _part_resources(copier: _Copier, page: DictionaryObject) -> tuple[int, DictionaryObject]:
    """The resources every page of a part shares (WeasyPrint writes one dictionary), with
    room for each page's number form: its number in the output, and the dictionary."""
    source = cast(DictionaryObject, page["/Resources"].get_object())
    resources = cast(DictionaryObject, copier.copy(source))
    forms = resources.get("/XObject")
    resources[NameObject("/XObject")] = (DictionaryObject(forms.get_object())
                                         if forms is not None else DictionaryObject())
    return copier.out.reserve(), resources


def _number_form(sheet: _Copier, index: int) -> int:
    """Page ``index`` of the sheet of numbers as a form (its content and resources)."""
    page = sheet.reader.pages[index]
    content = cast(StreamObject, page["/Contents"].get_object())
    form = StreamObject()
    form._data = content._data
    for key in ("/Filter", "/DecodeParms"):
        if key in content:
            form[NameObject(key)] = sheet.copy(content.raw_get(key))
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(page.mediabox)
    form[NameObject("/Resources")] = sheet.copy(page.raw_get("/Resources"))
    return sheet.out.put_new(form)


def _rename_subsets(reader: PdfReader, index: int) -> None:
    """Give the font subsets of part ``index`` tags of their own ("ABCDEF+Name")."""
    seen: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            _rename(font, "/BaseFont", index)
            for descendant in font.get("/DescendantFonts", ArrayObject()):
                descendant = descendant.get_object()
                _rename(descendant, "/BaseFont", index)
                if "/FontDescriptor" in descendant:
                    _rename(descendant["/FontDescriptor"].get_object(), "/FontName", index)
            if "/FontDescriptor" in font:
                _rename(font["/FontDescriptor"].get_object(), "/FontName", index)


def _rename(holder: DictionaryObject, key: str, index: int) -> None:
    name = holder.get(key)
    found = _SUBSET.match(str(name)) if name is not None else None
    if found is None:
        return
    seed = hashlib.md5(f"{index}:{name}".encode(), usedforsecurity=False).digest()
    tag = "".join(chr(65 + byte % 26) for byte in seed[:6])
    holder[NameObject(key)] = NameObject(f"/{tag}+{found.group(2)}")


def _parent_arrays(tree: DictionaryObject) -> dict[int, ArrayObject]:
    nums = cast(ArrayObject, cast(DictionaryObject, tree["/ParentTree"].get_object())["/Nums"])
    return {int(nums[i]): cast(ArrayObject, nums[i + 1].get_object())
            for i in range(0, len(nums), 2)}


class _Copier:
    """Copies the objects of one source PDF into the output, each once, under new numbers
    (``memo``: source number -> output number; 0: an object left out, a null)."""

    def __init__(self, out: _Output, reader: PdfReader) -> None:
        self.out = out
        self.reader = reader
        self.memo: dict[int, int] = {}
        self.queue: list[tuple[IndirectObject, int]] = []

    def ref(self, source: IndirectObject) -> PdfObject:
        number = self.memo.get(source.idnum)
        if number is None:
            number = self.memo[source.idnum] = self.out.reserve()
            self.queue.append((source, number))
        return _ref(number) if number else NullObject()

    def copy(self, obj: PdfObject) -> PdfObject:
        if isinstance(obj, IndirectObject):
            return self.ref(obj)
        if isinstance(obj, StreamObject):
            stream = StreamObject()
            stream._data = obj._data
            for key, _value in obj.items():
                if key != "/Length":
                    stream[NameObject(key)] = self.copy(obj.raw_get(key))
            return stream
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(key): self.copy(obj.raw_get(key)) for key in obj})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(item) for item in obj)
        return obj

    def flush(self) -> None:
        """Write every object copied by reference so far (and those they refer to)."""
        while self.queue:
            source, number = self.queue.pop()
            target = source.get_object()
            self.out.put(number, self.copy(NullObject() if target is None else target))

    # The structure elements: each under its new parent, pointing at the kept pages.

    def mapped(self, mark: PdfObject) -> PdfObject:
        if isinstance(mark, IndirectObject) and self.memo.get(mark.idnum):
            return _ref(self.memo[mark.idnum])
        return NullObject()

    def element(self, source: IndirectObject, parent: int) -> int:
        element = cast(DictionaryObject, source.get_object())
        number = self.memo[source.idnum] = self.out.reserve()
        copy = DictionaryObject()
        for key in element:
            value = element.raw_get(key)
            if key == "/P":
                copy[NameObject(key)] = _ref(parent)
            elif key == "/K":
                copy[NameObject(key)] = self._kids(value, number)
            else:
                copy[NameObject(key)] = self.copy(value)
        self.out.put(number, copy)
        return number

    def _kids(self, value: PdfObject, parent: int) -> PdfObject:
        if isinstance(value, ArrayObject):
            return ArrayObject(self._kid(kid, parent) for kid in value)
        return self._kid(value, parent)

    def _kid(self, kid: PdfObject, parent: int) -> PdfObject:
        target = kid.get_object()
        if isinstance(kid, IndirectObject) and isinstance(target, DictionaryObject) \
                and "/S" in target:
            return _ref(self.element(kid, parent))
        return self.copy(kid)


def _xmp(metadata: Metadata) -> bytes:
    """The XMP packet: PDF/A-3b (and PDF/UA-1 if tagged), and what the document
    information says."""
    title, author = escape(metadata.title), escape(metadata.author)
    when = metadata.xmp_date
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' pdfaid:part="3" pdfaid:conformance="B"/>\n'
        + ('<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"'
           ' pdfuaid:part="1"/>\n' if metadata.tagged else "")
        + '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        '<dc:format>application/pdf</dc:format>\n'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>\n'
        f'<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>\n'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        f'{escape(metadata.subject)}</rdf:li></rdf:Alt></dc:description>\n'
        f'<dc:language><rdf:Bag><rdf:li>{LANGUAGE}</rdf:li></rdf:Bag></dc:language>\n'
        '</rdf:Description>\n'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmp:CreateDate="{when}" xmp:ModifyDate="{when}" xmp:MetadataDate="{when}"'
        f' xmp:CreatorTool="{CREATOR}"/>\n'
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        f' pdf:Producer={quoteattr(metadata.producer)}/>\n'
        '</rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="r"?>'
    )
    return text.encode("utf-8")
