"""The embedded Celery broker: kombu's filesystem transport, safe with several processes.

kombu 5.7's filesystem transport (kombu issue 1551, https://github.com/celery/kombu/issues/1551,
open) creates a message file and then locks and writes it, while a consumer lists the folder,
moves whatever file it finds, reads it, removes it and only then decodes it. A consumer that
comes by during the write reads part of a message: the worker dies of ``JSONDecodeError``
("Unrecoverable error") and the message is gone. This subclass changes only the file handling:

- a message is written under a dot-prefixed name that no consumer, ``_size`` or ``_purge``
  looks at, flushed to disk and renamed into the queue's name pattern, so it appears whole;
- a consumer claims a message by renaming it into ``.claimed/`` in the same folder: of two
  consumers (or a consumer and a purge) exactly one rename succeeds, and the other moves on;
- a claimed file that does not decode is moved to ``bad/`` in the same folder and logged with
  its name, and the consumer carries on with the next message; it never raises to the worker;
- exchange tables in the control folder are replaced whole, under a separate lock file, instead
  of being truncated and rewritten in place (a reader could read an empty table).

Select it with Celery's ``broker_transport = "vlsc_portal.broker:Transport"`` and the URL
``filesystem://`` (kombu takes a transport class from the explicit setting, never from a URL).
Known limit, as in kombu: a message is removed when it is handed to the worker, so a worker
killed with SIGKILL loses the message it was running (a warm shutdown puts it back).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

CLAIMED_FOLDER = ".claimed"
BAD_FOLDER = "bad"

Table = list[filesystem.exchange_queue_t]


def write_whole(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader finds either no file (or the previous one) or
    all of ``data``: written to a dot-prefixed sibling, fsynced, then renamed over ``path``."""
    head, tail = os.path.split(os.fspath(path))
    temporary = os.path.join(head, f".{tail}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic writes, atomic claims and bad messages set aside."""

    def _message_names(self, queue: str) -> list[str]:
        """Names of the whole messages waiting in ``queue``, oldest first."""
        wanted = f"{queue}.msg"
        return sorted(
            name
            for name in os.listdir(self.data_folder_in)
            if not name.startswith(".") and name.partition(".")[2] == wanted
        )

    # kombu's filesystem channel names the message ``payload``; celery-types' stubs only know the
    # virtual base's ``message``. Both are passed positionally.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            write_whole(path, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        claimed_folder = os.path.join(self.data_folder_in, CLAIMED_FOLDER)
        os.makedirs(claimed_folder, exist_ok=True)
        for name in self._message_names(queue):
            claimed = os.path.join(claimed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer or a purge took it first
            except OSError as exc:
                raise ChannelError(f"Cannot claim {name!r} from queue.") from exc
            try:
                with open(claimed, "rb") as file:
                    raw = file.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            try:
                payload = loads(bytes_to_str(raw))
                if not isinstance(payload, dict):
                    raise ValueError(f"a message is a JSON object, not {type(payload).__name__}")
            except Exception as exc:  # whatever is in the file, it must not stop the worker
                self._set_aside(claimed, name, exc)
                continue
            if self.store_processed:
                shutil.move(claimed, os.path.join(self.processed_folder, name))
            else:
                os.remove(claimed)
            return payload
        raise Empty()

    def _set_aside(self, claimed: str, name: str, error: Exception) -> None:
        bad_folder = os.path.join(self.data_folder_in, BAD_FOLDER)
        try:
            os.makedirs(bad_folder, exist_ok=True)
            os.replace(claimed, os.path.join(bad_folder, name))
        except OSError:
            logger.exception(
                "Broker message %s can be neither decoded nor moved to %s", name, bad_folder
            )
            return
        logger.error(
            "Broker message %s cannot be decoded (%s: %s); moved to %s",
            name,
            error.__class__.__name__,
            error,
            bad_folder,
        )

    def _purge(self, queue: str) -> int:
        count = 0
        for name in self._message_names(queue):
            try:
                os.remove(os.path.join(self.data_folder_in, name))
            except FileNotFoundError:
                continue  # a consumer claimed it first
            count += 1
        return count

    def _size(self, queue: str) -> int:
        return len(self._message_names(queue))

    def _update_table(self, exchange: str, change: Callable[[Table], Table]) -> None:
        """Replace ``exchange``'s table by ``change(table)``, one writer at a time. Readers
        (kombu's ``get_table``) see the old table or the new one, never a partial one."""
        file = self._exchange_file(exchange)  # type: ignore[attr-defined]  # kombu's, not in the stubs
        try:
            self.control_folder.mkdir(parents=True, exist_ok=True)
            with open(file.with_name(f"{file.name}.lock"), "ab") as lock_file:
                # Released when closed. The stubs miss LOCK_EX and type the file too narrowly.
                filesystem.lock(lock_file, filesystem.LOCK_EX)  # type: ignore[arg-type, attr-defined]
                table = self.get_table(exchange)
                changed = change(list(table))
                if changed != table:
                    write_whole(file, str_to_bytes(dumps(changed)))
        except OSError as exc:
            raise ChannelError(f"Cannot update {file}") from exc

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda table: table if binding in table else [binding, *table])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        # kombu's own _delete would rewrite the table in place; skip to the virtual channel's.
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def remove_once(table: Table) -> Table:
            if binding in table:
                table.remove(binding)
            return table

        self._update_table(exchange, remove_once)


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`; same options, same folders."""

    Channel = Channel


__all__ = ["BAD_FOLDER", "CLAIMED_FOLDER", "Channel", "Transport", "write_whole"]
