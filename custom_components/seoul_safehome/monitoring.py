"""Deliver alarm reports to a monitoring centre: in order, confirmed, retried, supervised.

A report counts as delivered only on the receiver's ACK. Until then it stays in the
stored queue with its sequence number and is sent again (the same number, a fresh
timestamp) after a NAK, a timeout or a connection error: at once, then with a growing
pause (`BACKOFF_FIRST` doubling up to `BACKOFF_MAX`). After `ALERT_AFTER` seconds of
failure a repair issue is raised, the phones get a critical alert for every report not
delivered, and the link keeps trying every `SLOW_RETRY` seconds. Reports go out in the
order they were raised; a link failure (no answer, NAK) stops a round at the first
report. A DUH (the receiver did not understand that one message) says the link works: the
reports after it go through, and after `DUH_LIMIT` DUHs the report is dropped with a
repair issue and a critical alert (the centre refuses it). Every `supervision` seconds
without an ACK, a test report (RP) checks the link. An unexpected error (the queue cannot
be stored) shows the link down and raises the repair; delivery carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
import homeassistant.util.dt as dt_util

from .const import CONF_SUPERVISION, DEFAULT_SUPERVISION, DOMAIN, LOGGER
from .data import MonitoringConfigEntry
from .monitoring_alert import (
    async_alert_refused,
    async_alert_undelivered,
    async_clear_unreachable,
    async_report_refused,
    async_report_unreachable,
    async_tell_delivered,
)
from .monitoring_config import build_sender
from .monitoring_queue import QueuedReport, ReportQueue
from .sia import (
    SUPERVISION_CODE,
    SiaConnectionError,
    SiaDuhError,
    SiaError,
    SiaEvent,
    SiaNakError,
    SiaSender,
    SiaTimeoutError,
)

# Seconds one transmission waits for the receiver's answer.
ATTEMPT_TIMEOUT: Final = 8.0
# Pauses between failed rounds: 1, 2, 4, ... seconds, at most BACKOFF_MAX.
BACKOFF_FIRST: Final = 1.0
BACKOFF_MAX: Final = 30.0
# Seconds of failure before the repair issue and the phones' alert; then one try a minute.
ALERT_AFTER: Final = 120.0
SLOW_RETRY: Final = 60.0
# Seconds the report_alarm action waits for the first attempt's outcome.
REPORT_WAIT: Final = 10.0
# DUH answers to one report before it is dropped as refused by the centre.
DUH_LIMIT: Final = 3
# Seconds a clock offset learnt from the receiver's NAK is used before it is learnt anew.
CLOCK_OFFSET_KEPT: Final = 3600.0


def _error_kind(err: SiaError) -> str:
    """Name a failure for diagnostics."""
    if isinstance(err, SiaNakError):
        return "nak"
    if isinstance(err, SiaDuhError):
        return "duh"
    if isinstance(err, SiaTimeoutError):
        return "timeout"
    if isinstance(err, SiaConnectionError):
        return "unreachable"
    return "invalid_reply"


class MonitoringCentreLink:
    """Send an entry's alarm reports and supervision tests; know whether the link works."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MonitoringConfigEntry,
        queue: ReportQueue,
        sender: SiaSender,
    ) -> None:
        """Bind the link to its entry, stored queue and sender (nothing runs yet)."""
        self.hass = hass
        self.entry = entry
        self.queue = queue
        self._sender = sender
        self._listeners: list[CALLBACK_TYPE] = []
        self._wake = asyncio.Event()
        # The actions waiting for a report's first outcome, by the report's identity.
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        # How many DUHs each pending report got (by identity).
        self._duhs: dict[int, int] = {}
        # An unexpected error broke the worker; the state must be stored again.
        self._fault = False
        # The outcome of the last transmission (None: nothing sent yet).
        self._acked: bool | None = None
        # Pending reports whose last transmission was not acknowledged.
        self._refused: set[int] = set()
        self.last_error: str | None = None
        self._failing_since: float | None = None
        self._failed_rounds = 0
        self._issue = False
        # The sequence number of a supervision test being sent (not stored).
        self._test: int | None = None
        self._next_test = 0.0
        # How far the receiver's clock is ahead of ours (learnt from its NAKs), and when.
        self._clock_offset = timedelta(0)
        self._clock_learnt = 0.0

    @property
    def supervision(self) -> int:
        """Seconds between supervision tests (0: none)."""
        return int(self.entry.options.get(CONF_SUPERVISION, DEFAULT_SUPERVISION))

    @property
    def link_up(self) -> bool | None:
        """Whether the last message was acknowledged and no report waits after a failure."""
        if self._acked is None:
            return None
        return self._acked and not self._refused and not self._fault

    # --- listeners (the entities) ----------------------------------------------------

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` on every change; return the function that stops it."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def _async_notify(self) -> None:
        for update in list(self._listeners):
            update()

    # --- reports ----------------------------------------------------------------------

    async def async_report(self, event: SiaEvent, wait: float | None = None) -> tuple[int, bool]:
        """Queue an alarm report; wait (REPORT_WAIT seconds) for its first transmission.

        Return its sequence number and whether the receiver has acknowledged it. A report
        not acknowledged yet stays queued and is retried.
        """
        report = self.queue.add(event)
        waiter: asyncio.Future[bool] = self.hass.loop.create_future()
        self._waiters[id(report)] = waiter
        try:
            # Shielded: a cancelled action still stores the report it queued.
            await asyncio.shield(self.queue.async_save())
        finally:
            self._wake.set()  # the worker sends it even if the action was cancelled
            self._async_notify()
        LOGGER.debug("%s: %s queued as #%04d", self.entry.title, event.code, report.seq)
        try:
            async with asyncio.timeout(REPORT_WAIT if wait is None else wait):
                delivered = await asyncio.shield(waiter)
        except TimeoutError:
            delivered = False
        return report.seq, delivered

    def _resolve(self, key: int, delivered: bool) -> None:
        if (waiter := self._waiters.pop(key, None)) is not None and not waiter.done():
            waiter.set_result(delivered)

    @callback
    def async_stop(self) -> None:
        """Answer every waiting action (the entry unloads; the reports stay stored)."""
        for key in list(self._waiters):
            self._resolve(key, False)

    # --- the worker -------------------------------------------------------------------

    async def async_run(self) -> None:
        """Deliver the queue and supervise the link until the entry unloads."""
        loop = self.hass.loop
        self._next_test = loop.time()  # check the link at start (unless reports do it)
        while True:
            try:
                delay = await self._async_step()
            except asyncio.CancelledError:
                raise
            except Exception:
                LOGGER.exception("%s: delivering the alarm reports failed", self.entry.title)
                delay = await self._async_fault()
            if delay is not None and delay <= 0:
                continue
            await self._async_sleep(delay)

    async def _async_step(self) -> float | None:
        """Do one round of work; return the pause before the next (None: until woken)."""
        self._wake.clear()
        now = self.hass.loop.time()
        if self._fault:
            await self.queue.async_save()  # what could not be stored, stored now
            self._fault = False
            self._recovered()
            self._async_notify()
        if (
            self._test is None
            and self.supervision
            and now >= self._next_test
            # Reports the centre answered DUH to say nothing about the link: test it.
            and all(id(report) in self._duhs for report in self.queue.pending)
        ):
            self._test = await self.queue.async_take_sequence()
        if self.queue.pending or self._test is not None:
            outcome = await self._async_round()
            if outcome == "ok":
                return 0.0
            if outcome == "duh":
                return BACKOFF_FIRST
            return await self._async_failed_round()
        if self.supervision:
            return self._next_test - now
        return None

    async def _async_fault(self) -> float:
        """Show the link down after an unexpected error, raise the repair; return the pause."""
        self._fault = True
        self.last_error = "internal_error"
        if self._failing_since is None:
            self._failing_since = self.hass.loop.time()
        self._issue = True
        async_report_unreachable(self.hass, self.entry)
        self._async_notify()
        self._failed_rounds += 1
        return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self._failed_rounds - 1)))

    async def _async_sleep(self, delay: float | None) -> None:
        """Wait `delay` seconds (None: for ever), or until a report is queued."""
        if delay is None:
            await self._wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, delay)):
                await self._wake.wait()

    async def _async_round(self) -> str:
        """Send the pending reports in order, then a due test.

        Return "ok" if all were ACKed, "duh" if only DUHs held some back (the link
        works), "failed" if the link failed.
        """
        covered = list(self._waiters)
        delivered_late: list[QueuedReport] = []
        refused: list[QueuedReport] = []
        failed = duh = False
        try:
            for report in self.queue.pending:
                key = id(report)
                error = await self._async_send(report.event, report.seq)
                if error is None:
                    await self.queue.async_acknowledged(report)
                    self._refused.discard(key)
                    self._duhs.pop(key, None)
                    self._resolve(key, True)
                    if report.alerted:
                        delivered_late.append(report)
                    self._async_notify()
                    continue
                if isinstance(error, SiaDuhError):
                    self._duhs[key] = self._duhs.get(key, 0) + 1
                    if self._duhs[key] >= DUH_LIMIT:
                        await self._async_reject(report)
                        refused.append(report)
                    else:
                        duh = True
                    continue
                failed = True
                self._refused.add(key)
                self._async_notify()
                break  # the link fails: the next reports would too (and keep their order)
            if not failed and self._test is not None:
                if await self._async_send(SiaEvent(SUPERVISION_CODE), self._test) is None:
                    self._test = None
                    await self.queue.async_acknowledged()
                    self._async_notify()
                else:
                    failed = True
        finally:
            for key in covered:
                self._resolve(key, False)
        if refused:
            async_report_refused(self.hass, self.entry, refused)
            self.entry.async_create_background_task(
                self.hass,
                async_alert_refused(self.hass, self.entry, refused),
                f"{DOMAIN} monitoring centre refused {self.entry.title}",
            )
        if delivered_late:
            self.entry.async_create_background_task(
                self.hass,
                async_tell_delivered(self.hass, self.entry, delivered_late),
                f"{DOMAIN} monitoring centre delivered {self.entry.title}",
            )
        if failed:
            return "failed"
        self._recovered()
        return "duh" if duh else "ok"

    async def _async_reject(self, report: QueuedReport) -> None:
        """Drop a report the centre keeps answering DUH to (it will never process it)."""
        LOGGER.error(
            "%s: the monitoring centre refused %s #%04d %d times (DUH); it is dropped",
            self.entry.title,
            report.code,
            report.seq,
            DUH_LIMIT,
        )
        key = id(report)
        self._duhs.pop(key, None)
        self._refused.discard(key)
        self._resolve(key, False)
        await self.queue.async_rejected(report)
        self._async_notify()

    async def _async_send(self, event: SiaEvent, seq: int) -> SiaError | None:
        """Transmit one message; return the error if the receiver did not ACK it."""
        now = self.hass.loop.time()
        if self._clock_offset and now - self._clock_learnt > CLOCK_OFFSET_KEPT:
            # Learnt from an unsigned NAK: trust it for a while only (a correct clock
            # again, or a NAK that lied, is then found out from the next NAK).
            self._clock_offset = timedelta(0)
        try:
            _ack, offset = await self._sender.send_on_receiver_time(event, seq, self._clock_offset)
        except SiaDuhError as err:
            # The receiver answered: the link works, only this message was not understood.
            LOGGER.warning(
                "%s: the monitoring centre could not process %s #%04d (%s)",
                self.entry.title,
                event.code,
                seq,
                err,
            )
            self._acked = True
            self.last_error = _error_kind(err)
            self._async_notify()
            return err
        except SiaError as err:
            self._acked = False
            self.last_error = _error_kind(err)
            if self._failing_since is None:
                self._failing_since = self.hass.loop.time()
                LOGGER.warning(
                    "%s: %s #%04d not acknowledged by the monitoring centre (%s); retrying",
                    self.entry.title,
                    event.code,
                    seq,
                    err,
                )
            else:
                LOGGER.debug(
                    "%s: %s #%04d failed again: %s", self.entry.title, event.code, seq, err
                )
            self._async_notify()
            return err
        if offset != self._clock_offset:
            self._clock_offset, self._clock_learnt = offset, now
        self._acked = True
        self.last_error = None
        self._next_test = self.hass.loop.time() + self.supervision
        self._async_notify()
        return None

    async def _async_failed_round(self) -> float:
        """Raise the alarm if failing for too long; return the pause before the next round."""
        self._failed_rounds += 1
        failing_for = self.hass.loop.time() - (self._failing_since or self.hass.loop.time())
        now = dt_util.utcnow()
        overdue = [
            report
            for report in self.queue.pending
            if not report.alerted and (now - report.queued).total_seconds() >= ALERT_AFTER
        ]
        if overdue or failing_for >= ALERT_AFTER:
            if not self._issue:
                LOGGER.error(
                    "%s: the monitoring centre could not be reached for %d s; still trying",
                    self.entry.title,
                    failing_for,
                )
            self._issue = True
            async_report_unreachable(self.hass, self.entry)
        if overdue:
            await self.queue.async_mark_alerted(overdue)
            self.entry.async_create_background_task(
                self.hass,
                async_alert_undelivered(self.hass, self.entry, overdue),
                f"{DOMAIN} monitoring centre alert {self.entry.title}",
            )
        if self._issue:
            return SLOW_RETRY
        return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self._failed_rounds - 1)))

    def _recovered(self) -> None:
        """Everything sent was acknowledged: reset the retry state and the repair issue."""
        if self._failing_since is not None:
            LOGGER.info("%s: the monitoring centre acknowledges again", self.entry.title)
        self._failing_since = None
        self._failed_rounds = 0
        self._issue = False
        async_clear_unreachable(self.hass, self.entry)

    # --- diagnostics ------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Return the link's state (the caller redacts the reports' text)."""
        last = self.queue.last_report
        return {
            "link_up": self.link_up,
            "last_error": self.last_error,
            "supervision": self.supervision,
            "failing": self._failing_since is not None,
            "repair_issue": self._issue,
            "next_seq": self.queue.next_seq,
            "receiver_clock_offset_s": self._clock_offset.total_seconds(),
            "last_ack": self.queue.last_ack.isoformat() if self.queue.last_ack else None,
            "last_report": {
                "seq": last.seq,
                "code": last.code,
                "zone": last.zone,
                "queued": last.queued.isoformat(),
                "delivered": last.delivered.isoformat() if last.delivered else None,
            }
            if last
            else None,
            "pending": [report.as_dict() for report in self.queue.pending],
        }


async def async_create_link(
    hass: HomeAssistant, entry: MonitoringConfigEntry
) -> MonitoringCentreLink:
    """Load an entry's stored queue and return its link (not running yet)."""
    queue = ReportQueue(hass, entry.entry_id)
    await queue.async_load()
    return MonitoringCentreLink(hass, entry, queue, build_sender(entry.data, ATTEMPT_TIMEOUT))
