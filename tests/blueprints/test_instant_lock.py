"""Instant lock: every close locks the door at once; failures reach every phone, critically."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from tests.blueprints.common import (
    DOOR,
    LOCK,
    Clock,
    Phone,
    add_mobile_app_device,
    add_stuck_phone,
    async_create_automations,
    commands_named,
    log_errors,
    wait_for_commands,
)
from tests.conftest import Control
from tests.integration.common import until, wait_for_state

BLUEPRINT = "instant_lock.yaml"
AUTO_LOCK_DELAY = "number.front_door_lock_auto_lock_delay"
LOCK_AGAIN = f"SAFEHOME_LOCK_AGAIN_{LOCK}"
IOS_CRITICAL = {
    "interruption-level": "critical",
    "sound": {"name": "default", "critical": 1, "volume": 1.0},
}


async def _setup(hass: HomeAssistant, *phones: Phone, **inputs: object) -> None:
    """An instant-lock automation for the kit's front door, made from the blueprint."""
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": DOOR,
                "lock_entity": LOCK,
                "phones": [phone.device_id for phone in phones],
                **inputs,
            },
        },
    )


async def _walk_in(control: Control, hass: HomeAssistant) -> None:
    """The resident unlocks with the keypad and opens the door."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "지우"})
    await wait_for_state(hass, LOCK, "unlocked")
    await control.post("/devices/lock-1/door", {"state": "open"})
    await wait_for_state(hass, DOOR, "on")


async def _unlock_from_outside(control: Control, hass: HomeAssistant) -> None:
    """Someone unlocks with the keypad and does not open the door."""
    await control.post("/devices/lock-1/activity", {"activity": "keypad", "user": "지우"})
    await wait_for_state(hass, LOCK, "unlocked")
    assert hass.states.get(DOOR).state == "off"


def _locks(log: list[dict]) -> list[dict]:
    return commands_named(log, "lock", "lock-1")


async def test_door_closes_lock_locks_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closing the door makes Home Assistant send `lock` at once, long before the auto-lock."""
    await _setup(hass, iphone)
    await _walk_in(control, hass)
    await control.request("DELETE", "/log")

    await control.post("/devices/lock-1/door", {"state": "closed"})

    log = await wait_for_commands(control, _locks)
    assert _locks(log)[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    assert (await control.device("lock-1"))["state"]["lock_state"] == "locked"
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert log_errors(caplog) == []


async def test_jammed_lock_sends_a_critical_alert_and_lock_again_locks(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    galaxy: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A jam is a critical alert on every phone at once; "Lock again" clears it and locks."""
    await _setup(hass, iphone, galaxy)
    await _walk_in(control, hass)
    await control.post("/devices/lock-1/jam", {"jam": True})
    await control.request("DELETE", "/log")

    await control.post("/devices/lock-1/door", {"state": "closed"})

    await until(lambda: iphone.calls and galaxy.calls)
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "jammed"
    # A jammed bolt refuses a new lock command: no pointless retry, the phones are told.
    assert len(_locks(await control.commands())) == 1
    for phone in (iphone, galaxy):
        assert len(phone.calls) == 1
        note = phone.last
        assert note["title"] == "⚠️ 도어락이 걸렸어요"
        assert "Front door lock" in note["message"]
        assert "직접 확인" in note["message"]
        assert note["data"]["tag"] == f"safehome-lock-{LOCK}"
        assert note["data"]["actions"] == [
            {"action": LOCK_AGAIN, "title": "다시 잠그기", "authenticationRequired": True}
        ]
    # Critical: it sounds through silent mode and Do Not Disturb, the way each app needs.
    assert iphone.last["data"]["push"] == IOS_CRITICAL
    assert "channel" not in iphone.last["data"]
    assert galaxy.last["data"]["channel"] == "alarm_stream"
    assert galaxy.last["data"]["priority"] == "high"
    assert galaxy.last["data"]["ttl"] == 0
    assert galaxy.last["data"]["clickAction"] == f"entityId:{LOCK}"
    assert "push" not in galaxy.last["data"]

    # The resident frees the bolt and taps "Lock again": the bolt is pulled back, then locked.
    await control.request("DELETE", "/log")
    hass.bus.async_fire("mobile_app_notification_action", {"action": LOCK_AGAIN})

    log = await wait_for_commands(control, _locks)
    assert [c["command"] for c in log if c["device_id"] == "lock-1"] == ["unlock", "lock"]
    await wait_for_state(hass, LOCK, "locked")
    await until(lambda: len(iphone.calls) == len(galaxy.calls) == 2)
    for phone in (iphone, galaxy):
        assert phone.last["title"] == "🔒 문을 잠갔어요"
        assert phone.last["data"]["tag"] == f"safehome-lock-{LOCK}"  # replaces the alert
    assert log_errors(caplog) == []


async def test_a_close_seen_through_unavailable_locks(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The door closes while the hub's link is down: on → unavailable → off still locks."""
    # The hub's own auto-lock must not do the blueprint's work in this test.
    await hass.services.async_call(
        "number", "set_value", {"entity_id": AUTO_LOCK_DELAY, "value": 30}, blocking=True
    )
    await _setup(hass, iphone)
    await _walk_in(control, hass)
    seen: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: seen.append(event.data["new_state"].state)
        if event.data["entity_id"] == DOOR
        else None,
    )

    # A link blip: the hub's API restarts; the door closes meanwhile.
    await control.post("/restart", {"downtime": 300, "new_boot": False})
    await wait_for_state(hass, DOOR, STATE_UNAVAILABLE)
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await control.request("DELETE", "/log")
    await control.post("/restart", {"downtime": 0, "new_boot": False})

    log = await wait_for_commands(control, _locks, timeout=15)
    assert _locks(log)[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    assert seen[:2] == [STATE_UNAVAILABLE, "off"]
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert log_errors(caplog) == []


async def test_unlocked_with_the_door_closed_is_locked_again_never_while_open(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unlocked and never opened: locked again after 30 s. An open door is never locked."""
    await _setup(hass, iphone)
    await _unlock_from_outside(control, hass)
    await control.request("DELETE", "/log")

    await clock.advance(29)
    assert _locks(await control.commands()) == []
    await clock.advance(2)
    log = await wait_for_commands(control, _locks)
    assert _locks(log)[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")

    # Unlocked and opened: the door stays unlocked as long as it is open ...
    await _walk_in(control, hass)
    await control.request("DELETE", "/log")
    await clock.advance(120)
    assert _locks(await control.commands()) == []
    assert hass.states.get(LOCK).state == "unlocked"
    # ... and locks the instant it closes.
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await wait_for_commands(control, _locks)
    await wait_for_state(hass, LOCK, "locked")
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert log_errors(caplog) == []


async def test_a_reload_does_not_forget_an_unlocked_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Saving an automation (a reload) in the middle of the 30 s still locks on time."""
    await _setup(hass)
    await _unlock_from_outside(control, hass)
    await control.request("DELETE", "/log")

    await clock.advance(10)
    await hass.services.async_call("automation", "reload", blocking=True)
    await clock.advance(19)
    assert _locks(await control.commands()) == []
    await clock.advance(2)
    await wait_for_commands(control, _locks)
    await wait_for_state(hass, LOCK, "locked")
    assert log_errors(caplog) == []


async def test_home_assistant_start_locks_a_closed_unlocked_door(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A door that closed while Home Assistant was down is locked as soon as it starts."""
    await _unlock_from_outside(control, hass)
    await control.request("DELETE", "/log")

    # Home Assistant starting: automations are set up first, then it starts.
    hass.set_state(CoreState.not_running)
    await _setup(hass, iphone)
    await hass.async_start()

    # At once, not 30 s later.
    log = await wait_for_commands(control, _locks)
    assert _locks(log)[0]["result"] == "accepted"
    await wait_for_state(hass, LOCK, "locked")
    await hass.async_block_till_done()
    assert iphone.calls == []
    assert log_errors(caplog) == []


async def test_a_failing_recipient_never_stops_or_delays_the_others(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    galaxy: Phone,
    contact_calls: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A removed phone first, a hanging one next, a typo: everyone else is alerted at once."""
    removed = add_mobile_app_device(hass, "Old Galaxy")
    stuck = add_stuck_phone(hass, "Hanging phone")
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": DOOR,
                "lock_entity": LOCK,
                "phones": [removed, stuck.device_id, iphone.device_id, galaxy.device_id],
                "extra_notify": ["notify.old_tablet", "family_sms"],
            },
        },
    )
    await _walk_in(control, hass)
    await control.post("/devices/lock-1/jam", {"jam": True})

    await control.post("/devices/lock-1/door", {"state": "closed"})

    await until(lambda: iphone.calls and galaxy.calls and contact_calls)
    assert len(stuck.calls) == 1  # still hanging: it delays nobody
    for note in (iphone.last, galaxy.last, dict(contact_calls[-1].data)):
        assert note["title"] == "⚠️ 도어락이 걸렸어요"
    # A notify action of unknown platform gets both apps' critical settings.
    family = dict(contact_calls[-1].data)["data"]
    assert family["push"] == IOS_CRITICAL
    assert family["channel"] == "alarm_stream"

    stuck.release()
    await hass.async_block_till_done()
    # The broken recipients are reported in the log, for the user to fix; nothing else is.
    errors = log_errors(caplog, "Service not found")
    assert sum("parallel 1: Repeat" in error for error in errors) == 1  # the removed phone
    assert sum("parallel 5: Repeat" in error for error in errors) == 1  # the typo


async def test_door_left_open_alert(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    control: Control,
    iphone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the alert on, a door left open for the chosen minutes reaches the phone, once.

    (Minutes, not tens of minutes: a jump past the hub link's 10-minute watchdog would
    take the link down in the middle of the test.)
    """
    await _setup(hass, iphone, left_open_minutes=2)
    await _walk_in(control, hass)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1))
    await hass.async_block_till_done()
    assert iphone.calls == []

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2, seconds=1))
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1
    assert iphone.last["title"] == "🚪 문이 열려 있어요"
    assert iphone.last["message"].startswith("문(Front door lock Door)이 2분째 열려 있어요.")
    # Worth knowing at once, but not an alarm.
    assert iphone.last["data"]["push"] == {"interruption-level": "time-sensitive"}

    # Closing the door locks it, and the open-door alert does not come back.
    await control.post("/devices/lock-1/door", {"state": "closed"})
    await wait_for_state(hass, LOCK, "locked")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    assert len(iphone.calls) == 1
    assert log_errors(caplog) == []


@pytest.fixture
async def back_door(hass: HomeAssistant) -> None:
    """A lock and a door contact from other integrations: template entities over helpers.

    The bolt moves only while `input_boolean.back_door_motor` is on (off: a stuck bolt),
    and every lock command is counted.
    """
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "back_door_open": {},
                "back_door_bolt": {"initial": False},
                "back_door_motor": {"initial": True},
            }
        },
    )
    assert await async_setup_component(hass, "counter", {"counter": {"lock_commands": {}}})
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "binary_sensor": [
                        {
                            "name": "Back door",
                            "device_class": "door",
                            "state": "{{ is_state('input_boolean.back_door_open', 'on') }}",
                        }
                    ],
                    "lock": [
                        {
                            "name": "Back door lock",
                            "state": (
                                "{{ 'locked' if is_state('input_boolean.back_door_bolt', 'on')"
                                " else 'unlocked' }}"
                            ),
                            "lock": [
                                {
                                    "action": "counter.increment",
                                    "target": {"entity_id": "counter.lock_commands"},
                                },
                                {
                                    "if": "{{ is_state('input_boolean.back_door_motor', 'on') }}",
                                    "then": {
                                        "action": "input_boolean.turn_on",
                                        "target": {"entity_id": "input_boolean.back_door_bolt"},
                                    },
                                },
                            ],
                            "unlock": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": "input_boolean.back_door_bolt"},
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()


async def _toggle(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Flip a helper (the "hardware" behind the template entities)."""
    await hass.services.async_call(
        "input_boolean", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )


async def _back_door_automation(hass: HomeAssistant, phone: Phone, **inputs: object) -> None:
    from custom_components.seoul_safehome.blueprints import async_setup_blueprints

    await async_setup_blueprints(hass)
    await async_create_automations(
        hass,
        {
            "blueprint": BLUEPRINT,
            "input": {
                "door_sensor": "binary_sensor.back_door",
                "lock_entity": "lock.back_door_lock",
                "phones": [phone.device_id],
                **inputs,
            },
        },
    )


async def _open_and_close(hass: HomeAssistant) -> None:
    await _toggle(hass, "input_boolean.back_door_open", True)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.back_door").state == "on"
    await _toggle(hass, "input_boolean.back_door_open", False)
    await until(lambda: hass.states.get("binary_sensor.back_door").state == "off")


async def test_any_lock_and_door_sensor_with_a_delay(
    hass: HomeAssistant,
    config_dir: object,
    back_door: None,
    iphone: Phone,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The blueprint is not tied to SafeHome: a template lock and contact work the same."""
    await _back_door_automation(hass, iphone, lock_delay=1.5)
    assert hass.states.get("lock.back_door_lock").state == "unlocked"
    await _open_and_close(hass)

    # The chosen delay first ...
    await clock.advance(1)
    assert hass.states.get("lock.back_door_lock").state == "unlocked"
    await clock.advance(0.6)
    # ... then the lock locks, and nobody is bothered.
    await until(lambda: hass.states.get("lock.back_door_lock").state == "locked")
    assert hass.states.get("input_boolean.back_door_bolt").state == "on"
    await hass.async_block_till_done()
    assert iphone.calls == []

    # Already locked: closing the door again does nothing.
    await _open_and_close(hass)
    await clock.advance(10)
    await hass.async_block_till_done()
    assert hass.states.get("lock.back_door_lock").state == "locked"
    assert hass.states.get("counter.lock_commands").state == "1"
    assert iphone.calls == []
    assert log_errors(caplog) == []


async def test_a_lock_that_does_not_lock_is_tried_twice_then_reported(
    hass: HomeAssistant,
    config_dir: object,
    back_door: None,
    iphone: Phone,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stuck bolt: one more try, then a critical alert that says the lock is *unlocked*."""
    await _toggle(hass, "input_boolean.back_door_motor", False)
    # (No later re-lock: this is about the attempts right after the close.)
    await _back_door_automation(hass, iphone, verify_timeout=2, relock_seconds=0)
    await _open_and_close(hass)
    await until(lambda: hass.states.get("counter.lock_commands").state == "1")

    await clock.advance(2.5)
    await until(lambda: hass.states.get("counter.lock_commands").state == "2")
    assert iphone.calls == []
    await clock.advance(2.5)
    await until(lambda: iphone.calls)

    note = iphone.last
    assert note["title"] == "⚠️ 문이 잠기지 않았어요"
    # "Unlocked" (잠금 해제) is not "open" (열림): the door is closed.
    assert "도어락(Back door lock)이 잠기지 않았어요(지금 상태: 잠금 해제)" in note["message"]
    assert "열림" not in note["message"]
    assert note["data"]["push"] == IOS_CRITICAL
    assert note["data"]["actions"][0]["title"] == "다시 잠그기"
    assert hass.states.get("counter.lock_commands").state == "2"
    assert log_errors(caplog) == []
