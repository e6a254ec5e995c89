"""Files family: whole files, big files line by line, CSV, directory listings and watching.

Relative paths are relative to the working directory of the process.
Errors go to the ``error`` port with the reference's wording:
``File read error: No such file or directory (os error 2)``.

**Streams.** ``tpl_file_lines``, ``tpl_csv_read`` (``emit: rows``) and
``tpl_dir_list`` send one packet per item with ``ctx.send`` (so a slow consumer
slows the reader down and memory stays constant), then a ``Flow`` on the same
port to mark the end (``endMarker``), then the number of items on ``count``.
``tpl_reduce`` and ``tpl_collect`` take that ``Flow`` as the end of their input.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import json_text, os_error_text, pretty_json, rfc3339, schema, to_number
from ._common import settings as node_settings

__all__ = ["COMPONENTS"]

MISSING_PATH = "Missing 'path' in config"


def _path(ctx: Any, port: str, default: str = "") -> str:
    """The path to use: a String packet on ``port``, or an Object packet's ``path`` field
    (what ``tpl_dir_list`` and ``tpl_dir_watch`` send), wins over the config's ``path``."""
    message = ctx.inputs.get(port)
    if message is not None:
        data = message.get("data")
        if message["type"] == "String" and data:
            return str(data)
        if message["type"] == "Object" and isinstance(data, Mapping) and isinstance(data.get("path"), str) and data["path"]:
            return data["path"]
    return ctx.config.get("path") or default


def _read_error(exc: OSError | LookupError) -> Message:
    """``File read error: ...``: the reference's text, plus the path it leaves out (so a failure says which file)."""
    if not isinstance(exc, OSError):  # an unknown text encoding
        return Message.error(f"File read error: {exc}")
    where = f": {exc.filename}" if exc.filename else ""
    return Message.error(f"File read error: {os_error_text(exc)}{where}")


def _write_error(exc: OSError) -> Message:
    """``File write error: ...``, as the reference words it."""
    return Message.error(f"File write error: {os_error_text(exc)}")


def _prepare_dirs(path: str, config: Mapping[str, Any]) -> None:
    """Create the folders above ``path`` unless ``createDirs`` is off."""
    folder = os.path.dirname(path)
    if folder and config.get("createDirs", True):
        os.makedirs(folder, exist_ok=True)


# -- tpl_file_load -----------------------------------------------------------------------------


class FileLoad(Actor):
    """Reads a whole file as Bytes."""

    component = "tpl_file_load"
    inports = [PortSpec("trigger", None, "a packet reads `path`; a String packet, or an Object with `path` (tpl_dir_list, tpl_dir_watch), is the path to read")]
    outports = [
        PortSpec("output", "Bytes", "the file's content"),
        PortSpec("metadata", "Object", "{mimeType, path, size}"),
        PortSpec("error", "Error", "`File read error: ...` or `Missing 'path' in config`"),
    ]
    threaded = True
    config_schema = schema(
        {"path": {"type": "string", "default": "", "description": "The file to read (a String on `trigger` overrides it)."}}
    )
    description = (
        "On any packet on `trigger`, reads the file at `path` (or at the path a String packet names) and "
        "sends its bytes on `output` and {mimeType, path, size} on `metadata`. For big files use "
        "tpl_file_lines, which streams."
    )
    example = {
        "files": {"hello.txt": "hi\n"},
        "config": {"path": "hello.txt"},
        "inputs": {"trigger": [{"type": "Flow"}]},
        "outputs": {
            "output": [{"type": "Bytes", "data": [104, 105, 10]}],
            "metadata": [{"type": "Object", "data": {"mimeType": "text/plain", "path": "hello.txt", "size": 3}}],
        },
    }

    def run(self, ctx: Any) -> None:
        import mimetypes

        path = _path(ctx, "trigger")
        if not path:
            ctx.done({"error": Message.error(MISSING_PATH)})
            return
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as exc:
            ctx.done({"error": _read_error(exc)})
            return
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        ctx.done(
            {
                "output": Message.bytes(content),
                "metadata": Message.object({"mimeType": mime, "path": path, "size": len(content)}),
            }
        )


# -- tpl_file_save -----------------------------------------------------------------------------


class FileSave(Actor):
    """Writes each packet to a file: text and bytes as they are, anything else as JSON."""

    component = "tpl_file_save"
    inports = [PortSpec("input", None, "what to write; a Flow writes nothing")]
    outports = [
        PortSpec("path", "String", "the path written"),
        PortSpec("metadata", "Object", "{path, size (bytes written), written}"),
        PortSpec("error", "Error", "`File write error: ...`"),
    ]
    threaded = True
    config_schema = schema(
        {
            "path": {"type": "string", "minLength": 1, "description": "The file to write."},
            "createDirs": {"type": "boolean", "default": True, "description": "Create missing parent directories."},
            "mode": {
                "type": "string",
                "enum": ["overwrite", "append"],
                "default": "overwrite",
                "description": "overwrite: every packet replaces the file (the reference's behaviour); append: "
                "every packet is added at the end.",
            },
            "newline": {
                "type": "boolean",
                "default": False,
                "description": "Write a newline after each packet (handy with append and line streams).",
            },
        },
        required=("path",),
    )
    description = (
        "Writes each packet to `path`: a String as UTF-8 text and Bytes as they are; any other message "
        "as JSON text of its data, indented by two spaces (as the reference). Sends the path on `path` "
        "and {path, size, written: true} on `metadata`. A Flow (end of a stream) writes nothing and "
        "sends {path, size: the file's size, written: false}."
    )
    example = {
        "config": {"path": "out/result.json"},
        "inputs": {"input": [{"type": "Object", "data": {"errors": 2}}]},
        "outputs": {
            "path": [{"type": "String", "data": "out/result.json"}],
            "metadata": [{"type": "Object", "data": {"path": "out/result.json", "size": 17, "written": True}}],
        },
        "files_after": {"out/result.json": "{\n  \"errors\": 2\n}"},
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        path = config["path"]
        message = ctx.inputs["input"]
        kind = message["type"]
        try:
            if kind == "Flow":
                size = os.path.getsize(path) if os.path.isfile(path) else 0
                ctx.done(
                    {
                        "path": Message.string(path),
                        "metadata": Message.object({"path": path, "size": size, "written": False}),
                    }
                )
                return
            data = message["data"]
            if kind == "String":
                content = data.encode("utf-8")
            elif kind == "Bytes":
                content = data
            else:
                content = pretty_json(data).encode("utf-8")
            if config.get("newline"):
                content += b"\n"
            _prepare_dirs(path, config)
            with open(path, "ab" if config.get("mode") == "append" else "wb") as handle:
                handle.write(content)
        except OSError as exc:
            ctx.done({"error": _write_error(exc)})
            return
        ctx.done(
            {
                "path": Message.string(path),
                "metadata": Message.object({"path": path, "size": len(content), "written": True}),
            }
        )


# -- tpl_file_lines ----------------------------------------------------------------------------

_END_MARKER = {
    "type": "boolean",
    "default": True,
    "description": "After the last item, send a Flow on `output` to mark the end of the stream.",
}


class FileLines(Actor):
    """Streams a text file line by line in constant memory."""

    component = "tpl_file_lines"
    inports = [PortSpec("trigger", None, "a packet reads `path`; a String packet, or an Object with `path` (tpl_dir_list, tpl_dir_watch), is the path to read")]
    outports = [
        PortSpec("output", None, "one String per line, then a Flow (end of stream)"),
        PortSpec("count", "Integer", "the number of lines sent, after the end"),
        PortSpec("error", "Error", "`File read error: ...` (open failures, undecodable text)"),
    ]
    config_schema = schema(
        {
            "path": {"type": "string", "default": "", "description": "The file to read (a String on `trigger` overrides it)."},
            "encoding": {"type": "string", "default": "utf-8", "description": "Text encoding."},
            "errors": {
                "type": "string",
                "enum": ["strict", "replace", "ignore"],
                "default": "strict",
                "description": "Undecodable bytes: strict stops with an error; replace uses U+FFFD; ignore drops them.",
            },
            "keepNewline": {"type": "boolean", "default": False, "description": "Keep the line ending on each line."},
            "skipBlank": {"type": "boolean", "default": False, "description": "Skip lines holding only whitespace."},
            "endMarker": _END_MARKER,
        }
    )
    description = (
        "Reads a text file of any size one line at a time and sends each line as a String on `output` "
        "(pushed at once with ctx.send, so a slow consumer holds the reader back and memory stays "
        "constant), then a Flow on `output` (end of stream) and the line count on `count`. Line endings "
        "(\\n, \\r\\n, \\r) are removed unless `keepNewline`. A decoding error stops the stream with a packet "
        "on `error` (no end marker)."
    )
    example = {
        "files": {"app.log": "INFO start\nERROR boom\n"},
        "config": {"path": "app.log"},
        "inputs": {"trigger": [{"type": "Flow"}]},
        "outputs": {
            "output": [{"type": "String", "data": "INFO start"}, {"type": "String", "data": "ERROR boom"}, {"type": "Flow"}],
            "count": [{"type": "Integer", "data": 2}],
        },
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        path = _path(ctx, "trigger")
        if not path:
            ctx.done({"error": Message.error(MISSING_PATH)})
            return
        keep = bool(config.get("keepNewline"))
        skip_blank = bool(config.get("skipBlank"))
        try:
            handle = open(path, encoding=config.get("encoding") or "utf-8", errors=config.get("errors") or "strict")
        except (OSError, LookupError) as exc:
            ctx.done({"error": _read_error(exc)})
            return
        send = ctx.send
        string = Message.string
        count = 0
        with handle:
            try:
                for line in handle:
                    if not keep and line.endswith("\n"):
                        line = line[:-1]
                    if skip_blank and not line.strip():
                        continue
                    send({"output": string(line)})
                    count += 1
            except (UnicodeDecodeError, OSError) as exc:
                ctx.done({"error": Message.error(f"File read error: {path}: after line {count}: {exc}")})
                return
        if config.get("endMarker", True):
            send({"output": Message.flow()})
        ctx.done({"count": Message.integer(count)})


# -- CSV ---------------------------------------------------------------------------------------


def _infer(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    number = to_number(text)
    return text if number is None else number


class _CsvSettings:
    __slots__ = ("delimiter", "quotechar", "header", "columns", "infer")

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.delimiter = config.get("delimiter") or ","
        self.quotechar = config.get("quotechar") or '"'
        self.header = bool(config.get("header", True))
        self.columns = list(config.get("columns") or [])
        self.infer = bool(config.get("inferTypes"))


def _csv_rows(source: Any, settings: _CsvSettings) -> Iterator[Any]:
    """Rows of a CSV text source as Objects keyed by the header (or Arrays without one)."""
    reader = csv.reader(source, delimiter=settings.delimiter, quotechar=settings.quotechar, strict=True)
    names: list[str] | None = settings.columns or None
    skip_header = settings.header
    for record in reader:
        if not record:
            continue
        if skip_header:
            skip_header = False
            if names is None:
                names = record
            continue
        values: list[Any] = [_infer(v) for v in record] if settings.infer else record
        if names is None:
            yield values
            continue
        row: dict[str, Any] = {}
        for index, name in enumerate(names):
            row[name] = values[index] if index < len(values) else None
        if len(values) > len(names):
            row["_extra"] = values[len(names):]
        yield row


_CSV_COMMON = {
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1, "default": ",", "description": "Field separator."},
    "quotechar": {"type": "string", "minLength": 1, "maxLength": 1, "default": '"', "description": "Quote character."},
    "columns": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Column names (for reading: replaces the header row; for writing: the columns and their order).",
    },
}


class CsvRead(Actor):
    """Parses CSV (a file or text) into rows: Objects keyed by the header."""

    component = "tpl_csv_read"
    inports = [
        PortSpec("trigger", None, "a packet reads the file at `path`; a String packet, or an Object with `path` (tpl_dir_list, tpl_dir_watch), is the path to read"),
        PortSpec("input", None, "CSV text as a String or Bytes"),
    ]
    outports = [
        PortSpec("output", None, "emit array: one Array of rows; emit rows: one row per packet, then a Flow"),
        PortSpec("count", "Integer", "the number of rows"),
        PortSpec("error", "Error", "`File read error: ...`, `CSV parse error: ...`"),
    ]
    config_schema = schema(
        {
            "path": {"type": "string", "default": "", "description": "The CSV file `trigger` reads."},
            **_CSV_COMMON,
            "header": {
                "type": "boolean",
                "default": True,
                "description": "The first row holds the column names. Without a header (and without `columns`) "
                "rows are Arrays of Strings.",
            },
            "emit": {
                "type": "string",
                "enum": ["array", "rows"],
                "default": "array",
                "description": "array: all rows in one Array packet; rows: each row its own packet (constant "
                "memory for big files), then a Flow marking the end.",
            },
            "inferTypes": {
                "type": "boolean",
                "default": False,
                "description": "Turn numeric cells into numbers and true/false into Booleans (otherwise every cell is a String).",
            },
            "encoding": {"type": "string", "default": "utf-8", "description": "Text encoding of the file (a UTF-8 BOM is skipped)."},
        }
    )
    description = (
        "Reads CSV from the file at `path` (on a `trigger` packet) or from the text on `input` with the "
        "`csv` module. Each row becomes an Object keyed by the header row (or by `columns`); short rows "
        "get null for the missing cells and long rows keep the extra cells in `_extra`. Rows go out as one "
        "Array (emit array) or one packet each followed by a Flow (emit rows); `count` gets the number of "
        "rows. Malformed quoting (an unterminated quoted field) is a `CSV parse error`."
    )
    example = {
        "config": {"inferTypes": True},
        "inputs": {"input": [{"type": "String", "data": "name,qty\napple,3\npear,5\n"}]},
        "outputs": {
            "output": [{"type": "Array", "data": [{"name": "apple", "qty": 3}, {"name": "pear", "qty": 5}]}],
            "count": [{"type": "Integer", "data": 2}],
        },
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        settings = node_settings(ctx, _CsvSettings)  # once per node
        streaming = config.get("emit") == "rows"
        if "input" in ctx.inputs:
            message = ctx.inputs["input"]
            if message["type"] == "Bytes":
                try:
                    text = message["data"].decode("utf-8-sig")
                except UnicodeDecodeError as exc:
                    ctx.done({"error": Message.error(f"CSV parse error: invalid UTF-8 at byte {exc.start}")})
                    return
            elif message["type"] == "String":
                text = message["data"]
            else:
                ctx.done({"error": Message.error("Expected String or Bytes on input port")})
                return
            self._emit(ctx, io.StringIO(text, newline=""), settings, streaming, "<input>")
            return
        path = _path(ctx, "trigger")
        if not path:
            ctx.done({"error": Message.error(MISSING_PATH)})
            return
        encoding = config.get("encoding") or "utf-8"
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"
        try:
            handle = open(path, encoding=encoding, newline="")
        except (OSError, LookupError) as exc:
            ctx.done({"error": _read_error(exc)})
            return
        with handle:
            self._emit(ctx, handle, settings, streaming, path)

    @staticmethod
    def _emit(ctx: Any, source: Any, settings: _CsvSettings, streaming: bool, where: str) -> None:
        rows: list[Any] = []
        count = 0
        send = ctx.send
        try:
            for row in _csv_rows(source, settings):
                count += 1
                if streaming:
                    send({"output": Message.object(row) if isinstance(row, dict) else Message.array(row)})
                else:
                    rows.append(row)
        except csv.Error as exc:
            ctx.done({"error": Message.error(f"CSV parse error: {where}: row {count + 1}: {exc}")})
            return
        except (UnicodeDecodeError, OSError) as exc:
            ctx.done({"error": Message.error(f"File read error: {where}: after row {count}: {exc}")})
            return
        if streaming:
            send({"output": Message.flow()})
            ctx.done({"count": Message.integer(count)})
        else:
            ctx.done({"output": Message.array(rows), "count": Message.integer(count)})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json_text(value)


def _is_table(data: Any) -> bool:
    return isinstance(data, list) and all(isinstance(row, (dict, list)) for row in data)


class _CsvStream:
    """An open streamed CSV output (a file, or lines sent on `output`)."""

    __slots__ = ("handle", "writer", "buffer", "columns", "count")

    def __init__(self) -> None:
        self.handle: Any = None
        self.writer: Any = None
        self.buffer: io.StringIO | None = None
        self.columns: list[str] | None = None
        self.count = 0

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


class CsvWrite(Actor):
    """Writes rows as CSV: a whole Array at once, or a stream of rows ended by a Flow."""

    component = "tpl_csv_write"
    inports = [PortSpec("input", None, "an Array of rows (Objects or Arrays), or one row per packet then a Flow")]
    outports = [
        PortSpec("output", "String", "the CSV text (whole table), or one line per streamed row when no `path`"),
        PortSpec("path", "String", "the file written (when `path` is set), after a table or at the end of a stream"),
        PortSpec("count", "Integer", "rows written"),
        PortSpec("error", "Error", "`File write error: ...`, a row that does not fit"),
    ]
    config_schema = schema(
        {
            "path": {"type": "string", "default": "", "description": "File to write; empty: only send the text on `output`."},
            **_CSV_COMMON,
            "header": {"type": "boolean", "default": True, "description": "Write a header line with the column names."},
            "lineTerminator": {"type": "string", "default": "\n", "description": "Line ending."},
            "createDirs": {"type": "boolean", "default": True, "description": "Create missing parent directories."},
        }
    )
    description = (
        "An Array of Objects (or of Arrays) is a whole table: it is rendered with the `csv` module "
        "(columns from `columns`, else every key in first-seen order), sent on `output`, and written to "
        "`path` when set, with the row count on `count`. Any other packet is one row of a stream: rows are "
        "written to `path` as they come (or sent as CSV lines on `output`), and a Flow closes the stream "
        "and sends `path` and `count`. Cells: null is empty, Booleans true/false, objects compact JSON."
    )
    example = {
        "config": {"columns": ["name", "qty"]},
        "inputs": {"input": [{"type": "Array", "data": [{"name": "apple", "qty": 3}, {"name": "pear, green", "qty": 5}]}]},
        "outputs": {
            "output": [{"type": "String", "data": "name,qty\napple,3\n\"pear, green\",5\n"}],
            "count": [{"type": "Integer", "data": 2}],
        },
    }

    @staticmethod
    def _writer(target: Any, config: Mapping[str, Any]) -> Any:
        return csv.writer(
            target,
            delimiter=config.get("delimiter") or ",",
            quotechar=config.get("quotechar") or '"',
            lineterminator=config.get("lineTerminator", "\n"),
        )

    @staticmethod
    def _columns(rows: list[Any], config: Mapping[str, Any]) -> list[str] | None:
        columns = list(config.get("columns") or [])
        if columns:
            return columns
        seen: dict[str, None] = {}
        for row in rows:
            if isinstance(row, dict):
                for key in row:
                    seen.setdefault(key, None)
        return list(seen) if seen else None

    @staticmethod
    def _cells(row: Any, columns: list[str] | None) -> list[str] | str:
        """The cells of ``row``, or an error text."""
        if isinstance(row, dict):
            if columns is None:
                return "an Object row needs column names"
            unknown = [key for key in row if key not in columns]
            if unknown:
                return f"row has fields not in the columns ({', '.join(unknown)}); set `columns`"
            return [_cell(row.get(name)) for name in columns]
        if isinstance(row, list):
            return [_cell(value) for value in row]
        return f"a row must be an Object or an Array, not {json_text(row)}"

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        kind = message["type"]
        if kind == "Array" and _is_table(message["data"]):
            self._table(ctx, message["data"])
        elif kind == "Flow":
            self._finish(ctx)
        else:
            self._row(ctx, message.get("data"))

    def _table(self, ctx: Any, rows: list[Any]) -> None:
        config = ctx.config
        columns = self._columns(rows, config)
        buffer = io.StringIO()
        writer = self._writer(buffer, config)
        if columns is not None and config.get("header", True):
            writer.writerow(columns)
        for index, row in enumerate(rows):
            cells = self._cells(row, columns)
            if isinstance(cells, str):
                ctx.done({"error": Message.error(f"CSV write: row {index}: {cells}")})
                return
            writer.writerow(cells)
        text = buffer.getvalue()
        outputs: dict[str, Message] = {"output": Message.string(text), "count": Message.integer(len(rows))}
        path = config.get("path") or ""
        if path:
            try:
                _prepare_dirs(path, config)
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
            except OSError as exc:
                ctx.done({"error": _write_error(exc)})
                return
            outputs["path"] = Message.string(path)
        ctx.done(outputs)

    def _stream(self, ctx: Any) -> _CsvStream:
        stream = ctx.state.get("stream")
        if stream is None:
            stream = ctx.state["stream"] = _CsvStream()
        return stream

    def _row(self, ctx: Any, row: Any) -> None:
        config = ctx.config
        stream = self._stream(ctx)
        path = config.get("path") or ""
        first = stream.writer is None
        if first:
            columns = list(config.get("columns") or []) or (list(row) if isinstance(row, dict) else None)
            stream.columns = columns
        cells = self._cells(row, stream.columns)
        if isinstance(cells, str):
            ctx.done({"error": Message.error(f"CSV write: {cells}")})
            return
        try:
            if first:
                if path:
                    _prepare_dirs(path, config)
                    stream.handle = open(path, "w", encoding="utf-8", newline="")
                    stream.writer = self._writer(stream.handle, config)
                else:
                    stream.buffer = io.StringIO()
                    stream.writer = self._writer(stream.buffer, {**config, "lineTerminator": ""})
                if stream.columns is not None and config.get("header", True):
                    self._write(ctx, stream, stream.columns)
            self._write(ctx, stream, cells)
        except OSError as exc:
            stream.close()
            ctx.state["stream"] = None
            ctx.done({"error": _write_error(exc)})
            return
        stream.count += 1

    @staticmethod
    def _write(ctx: Any, stream: _CsvStream, cells: list[str]) -> None:
        stream.writer.writerow(cells)
        if stream.buffer is not None:
            line = stream.buffer.getvalue()
            stream.buffer.seek(0)
            stream.buffer.truncate()
            ctx.send({"output": Message.string(line)})

    def _finish(self, ctx: Any) -> None:
        config = ctx.config
        stream = self._stream(ctx)
        ctx.state["stream"] = None
        path = config.get("path") or ""
        outputs: dict[str, Message] = {"count": Message.integer(stream.count)}
        if path:
            try:
                if stream.handle is None:  # an empty stream still leaves a file (header only)
                    _prepare_dirs(path, config)
                    with open(path, "w", encoding="utf-8", newline="") as handle:
                        columns = list(config.get("columns") or [])
                        if columns and config.get("header", True):
                            self._writer(handle, config).writerow(columns)
                stream.close()
            except OSError as exc:
                ctx.done({"error": _write_error(exc)})
                return
            outputs["path"] = Message.string(path)
        ctx.done(outputs)

    def teardown(self, ctx: Any) -> None:
        stream = ctx.state.get("stream")
        if stream is not None:
            stream.close()


# -- walking directories (tpl_dir_list, tpl_dir_watch) ---------------------------------------------


@dataclass(frozen=True)
class DirItem:
    """One entry met while walking a directory tree."""

    path: str
    name: str
    is_dir: bool
    size: int
    mtime_ns: int

    def as_data(self) -> dict[str, Any]:
        """The entry as the Object data the directory components send."""
        return {
            "path": self.path,
            "name": self.name,
            "size": self.size,
            "mtime": rfc3339(nanos=self.mtime_ns),
            "isDir": self.is_dir,
        }


@dataclass(frozen=True)
class WalkError:
    """A folder that could not be listed (``is_root``: the directory asked for itself)."""

    folder: str
    error: OSError
    is_root: bool


def walk_directory(root: str, *, recursive: bool, hidden: bool) -> Iterator[DirItem | WalkError]:
    """Every entry under ``root``: each folder's entries in name order, then its subfolders' (depth first).

    Symlinked directories are listed but never entered; entries that vanish
    while being looked at are skipped. A folder that cannot be listed is
    yielded as a :class:`WalkError` and the walk goes on.
    """
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield WalkError(folder, exc, folder is root)
            continue
        subfolders = []
        for entry in entries:
            if not hidden and entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                info = entry.stat()
            except OSError:
                continue  # vanished, or a broken link
            if is_dir and recursive and not entry.is_symlink():
                subfolders.append(entry.path)
            yield DirItem(entry.path, entry.name, is_dir, info.st_size, info.st_mtime_ns)
        pending.extend(reversed(subfolders))


class _Matcher:
    """The entry filter shared by the directory components: `pattern`, `includeDirs`, `includeHidden`."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        import fnmatch

        self.pattern = config.get("pattern") or "*"
        self.include_dirs = bool(config.get("includeDirs"))
        self.hidden = bool(config.get("includeHidden"))
        self._name_matches = re.compile(fnmatch.translate(self.pattern)).match  # fnmatchcase, compiled once

    def __call__(self, item: DirItem) -> bool:
        return (self.include_dirs or not item.is_dir) and self._name_matches(item.name) is not None


_WALK_CONFIG: dict[str, Any] = {
    "recursive": {"type": "boolean", "default": False, "description": "Descend into subdirectories (not through symlinks)."},
    "pattern": {
        "type": "string",
        "default": "*",
        "description": "Glob on the entry's name (`*.log`, `data-??.csv`), case-sensitive.",
    },
    "includeDirs": {"type": "boolean", "default": False, "description": "Send directories too (isDir true)."},
    "includeHidden": {
        "type": "boolean",
        "default": False,
        "description": "Include names starting with a dot (and descend into such directories).",
    },
}


# -- tpl_dir_list ------------------------------------------------------------------------------


class DirList(Actor):
    """Lists the files of a directory (optionally recursively), one Object per file."""

    component = "tpl_dir_list"
    inports = [PortSpec("trigger", None, "a packet lists `path`; a String packet, or an Object with `path`, is the directory to list")]
    outports = [
        PortSpec("output", None, "{path, name, size, mtime, isDir} per entry, then a Flow (end of stream)"),
        PortSpec("count", "Integer", "the number of entries sent"),
        PortSpec("error", "Error", "`Directory read error: ...` (the directory, or a subdirectory that cannot be read)"),
    ]
    threaded = True
    config_schema = schema(
        {
            "path": {"type": "string", "default": ".", "description": "The directory to list (a String on `trigger` overrides it)."},
            **_WALK_CONFIG,
            "endMarker": _END_MARKER,
        }
    )
    description = (
        "On a `trigger` packet, lists the directory and sends one Object per file matching `pattern`: "
        "{path (the directory joined with the relative path), name, size (bytes), mtime (RFC 3339 UTC), "
        "isDir}: each directory's entries in name order, then its subdirectories' (with `recursive`); then a Flow on `output` and the "
        "number of entries on `count`."
    )
    example = {
        "files": {"logs/a.log": "1\n", "logs/b.txt": "22\n"},
        "config": {"path": "logs", "pattern": "*.log"},
        "inputs": {"trigger": [{"type": "Flow"}]},
        "outputs": {
            "output": [
                {"type": "Object", "data": {"path": "logs/a.log", "name": "a.log", "size": 2, "mtime": "<rfc3339>", "isDir": False}},
                {"type": "Flow"},
            ],
            "count": [{"type": "Integer", "data": 1}],
        },
    }

    def run(self, ctx: Any) -> None:
        config = ctx.config
        root = _path(ctx, "trigger", ".")
        match = _Matcher(config)
        send = ctx.send
        count = 0
        for item in walk_directory(root, recursive=bool(config.get("recursive")), hidden=match.hidden):
            if isinstance(item, WalkError):
                text = f"Directory read error: {os_error_text(item.error)}"
                if item.is_root:
                    ctx.done({"error": Message.error(text)})
                    return
                send({"error": Message.error(f"{text}: {item.folder}")})
            elif match(item):
                send({"output": Message.object(item.as_data())})
                count += 1
        if config.get("endMarker", True):
            send({"output": Message.flow()})
        ctx.done({"count": Message.integer(count)})


# -- tpl_dir_watch -----------------------------------------------------------------------------

_WATCH_EVENTS = ("created", "modified", "deleted")


@dataclass
class _Pending:
    """A created or modified entry waiting for its size and mtime to hold still (`settle`)."""

    event: str
    item: DirItem
    still_scans: int = 0


class DirWatcher:
    """Compares successive scans of a directory tree and says what changed.

    The pure part of ``tpl_dir_watch`` (no I/O, no timing), so its rules can
    be tested on their own: a new path is ``created``, a path whose size or
    mtime changed is ``modified`` (files only; a directory's mtime moves with
    its entries), a path gone is ``deleted`` (a file replaced by a directory,
    or the reverse, is both). With ``settle`` > 0 a created or
    modified entry is reported only after that many further scans saw it
    unchanged (a file still being written is reported once, when complete);
    a created entry deleted before it settled is never reported.
    """

    def __init__(self, settle: int = 0, events: tuple[str, ...] = _WATCH_EVENTS) -> None:
        self.settle = settle
        self.events = frozenset(events)
        self.known: dict[str, DirItem] = {}
        self.pending: dict[str, _Pending] = {}

    def baseline(self, items: Mapping[str, DirItem]) -> None:
        """Take ``items`` as the state to compare the next scan against (reporting nothing)."""
        self.known = dict(items)

    def changes(self, items: Mapping[str, DirItem]) -> list[tuple[str, DirItem]]:
        """The reportable ``(event, item)`` pairs since the last scan, in path order."""
        found: list[tuple[str, DirItem]] = []
        for path in sorted(self.known.keys() | items.keys() | self.pending.keys()):
            before, now = self.known.get(path), items.get(path)
            if now is None or (before is not None and before.is_dir != now.is_dir):  # gone, or replaced
                waiting = self.pending.pop(path, None)
                if before is not None and not (waiting and waiting.event == "created"):
                    found.append(("deleted", before))
                if now is None:
                    continue
                before = None
            if before is None:
                change = "created"
            elif not now.is_dir and (now.size, now.mtime_ns) != (before.size, before.mtime_ns):
                change = "modified"
            else:
                change = None
            found.extend(self._settled(path, change, now))
        self.known = dict(items)
        return [(event, item) for event, item in found if event in self.events]

    def _settled(self, path: str, change: str | None, item: DirItem) -> list[tuple[str, DirItem]]:
        waiting = self.pending.get(path)
        if change is None and waiting is None:
            return []
        if self.settle == 0:
            return [(change, item)] if change else []
        if waiting is None:
            self.pending[path] = _Pending(change or "modified", item)
            return []
        if change is None:
            waiting.still_scans += 1
        else:
            waiting.item, waiting.still_scans = item, 0
        if waiting.still_scans < self.settle:
            return []
        del self.pending[path]
        return [(waiting.event, item)]


class DirWatch(Actor):
    """Watches a directory and sends one Object per created, modified or deleted file."""

    component = "tpl_dir_watch"
    long_running = True  # watches until maxEvents or shutdown: shutdown stops it at once
    inports = [PortSpec("start", None, "a packet starts watching `path`; a String packet, or an Object with `path`, is the directory to watch")]
    outports = [
        PortSpec("output", "Object", "{event: created|modified|deleted, path, name, size, mtime, isDir} per change"),
        PortSpec("done", "Flow", "after `maxEvents` changes (only when maxEvents > 0)"),
        PortSpec("error", "Error", "`Directory read error: ...` when the directory cannot be read (once until it can again)"),
    ]
    config_schema = schema(
        {
            "path": {"type": "string", "default": ".", "description": "The directory to watch (a String on `start` overrides it)."},
            **_WALK_CONFIG,
            "interval": {
                "type": "number",
                "minimum": 10,
                "default": 1000,
                "description": "Milliseconds between two scans of the directory.",
            },
            "includeExisting": {
                "type": "boolean",
                "default": False,
                "description": "Report the entries already there at start as `created` (a backlog to process first).",
            },
            "settle": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": (
                    "Report a created or modified file only after this many further scans saw its size and mtime "
                    "unchanged (1 or 2 for files that are still being written)."
                ),
            },
            "events": {
                "type": "array",
                "items": {"enum": list(_WATCH_EVENTS)},
                "uniqueItems": True,
                "default": list(_WATCH_EVENTS),
                "description": "The kinds of change to report.",
            },
            "maxEvents": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Stop after this many changes and send a Flow on `done`; 0 watches until the run stops.",
            },
        }
    )
    description = (
        "On a packet on `start`, scans the directory every `interval` milliseconds (by polling: it works "
        "on every file system, network mounts included) and sends {event, path, name, size, mtime (RFC 3339 "
        "UTC), isDir} on `output` for every entry matching `pattern` that was created, modified or deleted "
        "since the previous scan, in path order. A rename is a `deleted` and a `created`. If the directory "
        "itself disappears its entries are reported deleted; other read errors go to `error` once and the "
        "watch goes on. A second `start` watches again after the first watch ends."
    )
    example = {
        "files": {"inbox/a.csv": "x,y\n", "inbox/notes.txt": "hi\n"},
        "config": {"path": "inbox", "pattern": "*.csv", "includeExisting": True, "maxEvents": 1, "interval": 10},
        "inputs": {"start": [{"type": "Flow"}]},
        "outputs": {
            "output": [
                {
                    "type": "Object",
                    "data": {
                        "event": "created",
                        "path": "inbox/a.csv",
                        "name": "a.csv",
                        "size": 4,
                        "mtime": "<rfc3339>",
                        "isDir": False,
                    },
                }
            ],
            "done": [{"type": "Flow"}],
        },
    }

    async def run(self, ctx: Any) -> None:
        import trio

        config = ctx.config
        root = _path(ctx, "start", ".")
        match = _Matcher(config)
        recursive = bool(config.get("recursive"))
        period = float(config.get("interval", 1000)) / 1000.0
        limit = int(config.get("maxEvents") or 0)
        watcher = DirWatcher(int(config.get("settle") or 0), tuple(config.get("events") or _WATCH_EVENTS))
        failing = False

        def scan() -> tuple[dict[str, DirItem], WalkError | None]:
            items: dict[str, DirItem] = {}
            problem = None
            for item in walk_directory(root, recursive=recursive, hidden=match.hidden):
                if isinstance(item, WalkError):
                    problem = problem or item
                elif match(item):
                    items[item.path] = item
            return items, problem

        async def look() -> dict[str, DirItem] | None:
            """One scan; ``None`` when the tree cannot be read (reported once per outage)."""
            nonlocal failing
            items, problem = await trio.to_thread.run_sync(scan)
            vanished = problem is not None and problem.is_root and isinstance(problem.error, FileNotFoundError)
            if problem is None or vanished:
                failing = False
                return items
            if not failing:
                failing = True
                where = "" if problem.is_root else f": {problem.folder}"
                await ctx.send_async({"error": Message.error(f"Directory read error: {os_error_text(problem.error)}{where}")})
            return None if problem.is_root else items

        baselined = bool(config.get("includeExisting"))  # with it, the first scan reports everything
        sent = 0
        deadline = trio.current_time()
        while True:
            items = await look()
            if items is not None and not baselined:
                watcher.baseline(items)
                baselined = True
            elif items is not None:
                for event, item in watcher.changes(items):
                    await ctx.send_async({"output": Message.object({"event": event, **item.as_data()})})
                    sent += 1
                    if limit and sent >= limit:
                        ctx.done({"done": Message.flow()})
                        return
            deadline = max(deadline + period, trio.current_time())
            await trio.sleep_until(deadline)


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_file_load": FileLoad,
    "tpl_file_save": FileSave,
    "tpl_file_lines": FileLines,
    "tpl_csv_read": CsvRead,
    "tpl_csv_write": CsvWrite,
    "tpl_dir_list": DirList,
    "tpl_dir_watch": DirWatch,
}
