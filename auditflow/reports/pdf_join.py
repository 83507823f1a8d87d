"""The PDF's parts joined into one archival file (PDF/A-3b, tagged for PDF/UA-1), with pypdf.

Each part comes from WeasyPrint as a tagged PDF/A page run without page numbers
(``reports.pdf_parts``). Joining them:

- the pages taken from each part, in order; each part's font subsets renamed with
  a tag of their own (two parts subset the same face differently, and a reader may
  take two subsets of one name for one font);
- the page number ("- n -") of every page drawn from a sheet WeasyPrint rendered
  with the report's own page style, one page per number, placed as a form over the
  page and marked as a pagination artifact (no part of the text's structure);
- the structure trees: WeasyPrint tags each page on its own (its elements point to
  their page), so the kept pages' elements go under one Document element and the
  parent tree is numbered again page by page;
- one catalog: the language (ko), the output intent of the first part (sRGB), the
  XMP metadata (PDF/A-3b and PDF/UA-1 identification, title, author, dates), the
  document information agreeing with it, and a file identifier computed from the
  content. Every date is the edition's day: nothing depends on the moment of writing.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast
from xml.sax.saxutils import escape, quoteattr

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
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
PAGE_NUMBER = NameObject("/AFPageNumber")
_SUBSET = re.compile(r"^/([A-Z]{6})\+(.*)$")


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str
    day: date  # the edition's day (issued, else the reference date)
    producer: str

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


def join(parts: Sequence[Pages], numbers: bytes, metadata: Metadata) -> bytes:
    """One PDF of ``parts``' pages, page ``n`` numbered by page ``n`` of ``numbers``."""
    writer = PdfWriter()
    sheet = PdfReader(io.BytesIO(numbers))
    document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/Document"),
                                 NameObject("/K"): ArrayObject()})
    document_ref = writer._add_object(document)
    tree = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot"),
                             NameObject("/K"): ArrayObject([document_ref])})
    tree_ref = writer._add_object(tree)
    document[NameObject("/P")] = tree_ref
    numbered = ArrayObject()
    before = writer._add_object(_stream(b"q\n"))
    after = writer._add_object(_stream(
        b"Q\nq /Artifact <</Type /Pagination /Subtype /Footer>> BDC "
        + PAGE_NUMBER.encode() + b" Do EMC Q\n"))
    first_reader: PdfReader | None = None
    for index, part in enumerate(parts):
        reader = PdfReader(io.BytesIO(part.data))
        first_reader = first_reader or reader
        _rename_subsets(reader, index)
        pages: dict[int, IndirectObject] = {}
        kept = []
        for number in range(part.first, part.stop):
            source = reader.pages[number]
            page = writer.add_page(source)
            assert source.indirect_reference is not None and page.indirect_reference is not None
            pages[source.indirect_reference.idnum] = page.indirect_reference
            kept.append((source, page))
        copier = _StructureCopier(writer, pages)
        source_tree = cast(DictionaryObject, reader.trailer["/Root"]["/StructTreeRoot"].get_object())
        source_document = cast(DictionaryObject, source_tree["/K"][0].get_object())
        for kid in cast(ArrayObject, source_document["/K"]):
            element = cast(DictionaryObject, kid.get_object())
            page_ref = element.get("/Pg")
            if isinstance(page_ref, IndirectObject) and page_ref.idnum in pages:
                cast(ArrayObject, document["/K"]).append(copier.element(kid, document_ref))
        parents = _parent_arrays(source_tree)
        base = len(writer.pages) - len(kept)
        for offset, (source, page) in enumerate(kept):
            key = base + offset
            marks = parents.get(int(source.get("/StructParents", -1)), ArrayObject())
            numbered.extend([NumberObject(key), ArrayObject(copier.mapped(mark) for mark in marks)])
            page[NameObject("/StructParents")] = NumberObject(key)
            _number(writer, page, sheet, key, before, after)
    tree[NameObject("/ParentTree")] = writer._add_object(
        DictionaryObject({NameObject("/Nums"): numbered}))
    tree[NameObject("/ParentTreeNextKey")] = NumberObject(len(writer.pages))
    assert first_reader is not None
    _catalog(writer, first_reader, tree_ref, metadata)
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(hashlib.sha256(part.data).digest())
    digest.update(hashlib.sha256(numbers).digest())
    digest.update(repr(metadata).encode())
    identifier = ByteStringObject(digest.digest())
    writer._ID = ArrayObject([identifier, identifier])
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


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
    nums = cast(ArrayObject, tree["/ParentTree"].get_object()["/Nums"])
    return {int(nums[i]): cast(ArrayObject, nums[i + 1].get_object())
            for i in range(0, len(nums), 2)}


class _StructureCopier:
    """Copies structure elements of one part, pointing them at the pages kept from it."""

    def __init__(self, writer: PdfWriter, pages: dict[int, IndirectObject]) -> None:
        self.writer = writer
        self.pages = pages
        self.copies: dict[int, IndirectObject] = {}

    def mapped(self, mark: PdfObject) -> PdfObject:
        if isinstance(mark, IndirectObject) and mark.idnum in self.copies:
            return self.copies[mark.idnum]
        return NullObject()

    def element(self, ref: IndirectObject, parent: IndirectObject) -> IndirectObject:
        source = cast(DictionaryObject, ref.get_object())
        copy = DictionaryObject()
        copy_ref = self.writer._add_object(copy)
        self.copies[ref.idnum] = copy_ref
        for key, value in source.items():
            if key == "/P":
                copy[NameObject(key)] = parent
            elif key == "/Pg":
                copy[NameObject(key)] = self._page(value)
            elif key == "/K":
                copy[NameObject(key)] = self._kids(value, copy_ref)
            else:
                copy[NameObject(key)] = value.clone(self.writer)
        return copy_ref

    def _page(self, value: PdfObject) -> PdfObject:
        if isinstance(value, IndirectObject) and value.idnum in self.pages:
            return self.pages[value.idnum]
        return NullObject()

    def _kids(self, value: PdfObject, parent: IndirectObject) -> PdfObject:
        if isinstance(value, ArrayObject):
            return ArrayObject(self._kid(kid, parent) for kid in value)
        return self._kid(value, parent)

    def _kid(self, kid: PdfObject, parent: IndirectObject) -> PdfObject:
        target = kid.get_object()
        if isinstance(target, DictionaryObject) and "/S" in target:
            assert isinstance(kid, IndirectObject)
            return self.element(kid, parent)
        if isinstance(target, DictionaryObject):  # a marked-content or object reference
            reference = DictionaryObject()
            for key, value in target.items():
                reference[NameObject(key)] = (self._page(value) if key == "/Pg"
                                              else value.clone(self.writer))
            return reference
        return kid.clone(self.writer)


def _number(writer: PdfWriter, page: DictionaryObject, sheet: PdfReader, index: int,
            before: IndirectObject, after: IndirectObject) -> None:
    """Draw page ``index`` of the sheet over ``page`` as a pagination artifact."""
    number_page = sheet.pages[index]
    content = cast(StreamObject, number_page["/Contents"].get_object())
    form = StreamObject()
    form._data = content._data
    for key in ("/Filter", "/DecodeParms"):
        if key in content:
            form[NameObject(key)] = content[key].clone(writer)
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(number_page.mediabox)
    form[NameObject("/Resources")] = number_page["/Resources"].clone(writer)
    resources = DictionaryObject(cast(DictionaryObject, page["/Resources"].get_object()))
    forms = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    forms[PAGE_NUMBER] = writer._add_object(form)
    resources[NameObject("/XObject")] = forms
    page[NameObject("/Resources")] = resources
    contents = page.raw_get("/Contents")
    target = contents.get_object()
    kept = list(target) if isinstance(target, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject([before, *kept, after])


def _catalog(writer: PdfWriter, first: PdfReader, tree: IndirectObject,
             metadata: Metadata) -> None:
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(LANGUAGE)
    root[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)})
    root[NameObject("/StructTreeRoot")] = tree
    intents = first.trailer["/Root"].get("/OutputIntents")
    if intents is not None:
        root[NameObject("/OutputIntents")] = intents.clone(writer)
    xmp = _stream(_xmp(metadata))
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(xmp)
    writer.add_metadata({
        "/Title": metadata.title,
        "/Author": metadata.author,
        "/Subject": metadata.subject,
        "/Creator": CREATOR,
        "/Producer": metadata.producer,
        "/CreationDate": metadata.pdf_date,
        "/ModDate": metadata.pdf_date,
    })


def _xmp(metadata: Metadata) -> bytes:
    """The XMP packet: PDF/A-3b and PDF/UA-1, and what the document information says."""
    title, author = escape(metadata.title), escape(metadata.author)
    when = metadata.xmp_date
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' pdfaid:part="3" pdfaid:conformance="B"/>\n'
        '<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"'
        ' pdfuaid:part="1"/>\n'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
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
