"""A multipart/form-data upload read as it arrives, so a scan streams into the blob store.

Starlette's form parser would first copy the whole file to a temporary file, without a size
limit; here the file part is a stream the blob store reads (and cuts off at its limit) while the
client is still sending. The rule that makes this possible: the short text fields come first and
the one file comes last, as ``curl -F``, browsers' ``FormData`` and httpx send them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import anyio
import anyio.from_thread
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from archive.errors import BadInput, FieldProblem, ValidationFailed

MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16
MAX_TRAILER_BYTES = 64 * 1024  # after the file: only the closing boundary is expected


# A client that stops sending without closing the connection (a laptop closed, a cable pulled)
# would hold the upload's temporary file and a worker thread for as long as the connection
# lives; after this many seconds without a byte the upload is given up and its file removed.
UPLOAD_IDLE_SECONDS = 60.0


def body_puller(request: Request) -> Callable[[], bytes]:
    """For a worker thread: each call waits for the next piece of the request body from the
    event loop (``b""`` once the body has ended). A client gone silent is refused with
    :class:`BadInput`, and one that disconnected ends the request (``ClientDisconnect``):
    either way the blob store removes what it had written."""
    chunks = request.stream()

    async def next_chunk() -> bytes:
        try:
            with anyio.fail_after(UPLOAD_IDLE_SECONDS):
                return await anext(chunks, b"")
        except TimeoutError:
            raise BadInput(
                "upload_stalled",
                f"上传中断：{UPLOAD_IDLE_SECONDS:.0f} 秒没有收到数据，请重新上传",
                f"the upload stalled: no data for {UPLOAD_IDLE_SECONDS:.0f} seconds",
            ) from None

    return lambda: anyio.from_thread.run(next_chunk)


class StreamedForm:
    """The text fields before the file, then the file itself through :meth:`read`."""

    def __init__(self, pull: Callable[[], bytes], content_type: str) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise BadInput(
                "not_multipart",
                "请以 multipart/form-data 上传文件",
                "send the file as multipart/form-data",
            )
        self._pull = pull
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )
        self.fields: dict[str, str] = {}
        self.file_field: str | None = None
        self.filename: str | None = None
        self._file: deque[bytes] = deque()
        self._state = "fields"  # then "file" while it streams, "after" once it has ended
        self._extra_part = False
        self._ended = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._value = bytearray()
        self._in_file = False
        while self._state == "fields" and not self._ended:
            self._pump()

    # -- reading -----------------------------------------------------------------------------

    def require_file(self, field: str) -> StreamedForm:
        """This form, if its file came under ``field``; otherwise a problem naming it."""
        if self.file_field != field:
            raise ValidationFailed(
                [FieldProblem(field, "请选择要上传的文件", f"the file is required as {field!r}")]
            )
        return self

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of the file; ``b""`` once it has ended and nothing follows it."""
        while not self._file and self._state == "file":
            self._pump()
        if not self._file:
            self._finish()
            return b""
        chunk = self._file.popleft()
        if len(chunk) > size:
            self._file.appendleft(chunk[size:])
            chunk = chunk[:size]
        return chunk

    def _finish(self) -> None:
        """Read what follows the file: anything but the closing boundary is refused, so no
        field is silently ignored."""
        received = 0
        while not self._ended and received <= MAX_TRAILER_BYTES:
            received += self._pump()
        if self._extra_part or not self._ended:
            raise BadInput(
                "fields_after_file",
                "上传时请先填文字项，最后附一个文件（文件之后不能再有其他内容）",
                "send the text fields first and exactly one file, last",
            )

    def _pump(self) -> int:
        """Feed the parser the next piece of the body (called only before the form's end)."""
        chunk = self._pull()
        if not chunk:
            raise BadInput("incomplete_upload", "上传不完整，请重试", "the upload was cut short")
        try:
            self._parser.write(chunk)
        except FormParserError:
            raise BadInput(
                "bad_multipart", "上传内容格式不对", "malformed multipart body"
            ) from None
        return len(chunk)

    # -- parser callbacks --------------------------------------------------------------------

    def _on_part_begin(self) -> None:
        if self._state != "fields":
            self._extra_part = True
        self._disposition = b""
        self._value = bytearray()
        self._in_file = False

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        if self._state != "fields":
            return
        _, options = parse_options_header(self._disposition)
        self._name = _text(options.get(b"name", b""))
        if b"filename" in options:
            self._state, self._in_file = "file", True
            self.file_field, self.filename = self._name, _text(options[b"filename"])
        elif len(self.fields) >= MAX_FIELDS:
            raise BadInput("too_many_fields", "上传的字段太多", "too many form fields")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._file.append(bytes(data[start:end]))
        elif self._state == "fields":
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                raise ValidationFailed(
                    [FieldProblem(self._name, "内容太长", f"{self._name} is too long")]
                )

    def _on_part_end(self) -> None:
        if self._in_file:
            self._state, self._in_file = "after", False
        elif self._state == "fields":
            self.fields[self._name] = _text(bytes(self._value))

    def _on_end(self) -> None:
        self._ended = True


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("not_utf8", "文字项应为 UTF-8 编码", "text fields must be UTF-8") from None
