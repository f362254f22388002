"""Install the bundled automation blueprints into the user's blueprints folder.

The blueprints ship inside the integration (custom_components/seoul_safehome/blueprints/,
which is what HACS installs) and are copied at setup to
<config>/blueprints/automation/seoul_safehome/, where Home Assistant's blueprint
editor finds them. A copy the user edited is never overwritten:

- a missing blueprint is installed, and the SHA-256 of what was written is stored;
- an installed copy that still matches the stored fingerprint (the user did not touch
  it) is replaced silently by a newer bundled version;
- a copy that differs from both the bundled version and the fingerprint was edited by
  the user (or imported by hand): it is left alone, and if the bundled version is newer
  than what the user started from, a fixable repair issue says so. Confirming the
  repair replaces the copy with the new version; ignoring it keeps the user's copy.

Automations using a replaced blueprint are reloaded so that they run the new version.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import hashlib
import os
from pathlib import Path
import tempfile
from typing import Any, Final

from homeassistant.components.automation import automations_with_blueprint
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER

BUNDLED_FOLDER: Final = Path(__file__).parent / "blueprints"
BLUEPRINT_DOMAIN: Final = "automation"
SOURCE_URL: Final = (
    "https://github.com/seoul-safehome/seoul-safehome/blob/main/blueprints/automation/"
    f"{DOMAIN}/{{file}}"
)

STORAGE_KEY: Final = f"{DOMAIN}.blueprints"
STORAGE_VERSION: Final = 1

ISSUE_PREFIX: Final = "blueprint_modified_"
ISSUE_TRANSLATION_KEY: Final = "blueprint_modified"

DATA_LOCK: Final = f"{DOMAIN}_blueprints_lock"
DATA_LISTENER: Final = f"{DOMAIN}_blueprints_listener"


@dataclass
class InstallResult:
    """What one installation pass did, by file name."""

    installed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # User-edited copies that were left alone, and of those the ones that are behind the
    # bundled version (these get a repair issue).
    kept: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def bundled_blueprints(source: Path = BUNDLED_FOLDER) -> dict[str, bytes]:
    """Return the bundled blueprints by file name (blocking I/O)."""
    return {path.name: path.read_bytes() for path in sorted(source.glob("*.yaml"))}


def install_blueprints(
    source: Path,
    target: Path,
    fingerprints: dict[str, str],
    force: frozenset[str] = frozenset(),
) -> InstallResult:
    """Copy the bundled blueprints into `target` without clobbering user edits.

    `fingerprints` maps each file name to the SHA-256 of what was installed last time;
    file names in `force` are overwritten even if edited (the user confirmed it).
    Blocking: run it in the executor.
    """
    result = InstallResult(fingerprints=dict(fingerprints))
    for name, data in bundled_blueprints(source).items():
        digest = _sha256(data)
        dest = target / name
        recorded = fingerprints.get(name)
        try:
            current: str | None = _sha256(dest.read_bytes())
        except FileNotFoundError:
            current = None

        if current == digest:
            result.unchanged.append(name)
        elif current is None:
            _write_atomically(dest, data)
            result.installed.append(name)
        elif current == recorded or name in force:
            _write_atomically(dest, data)
            result.updated.append(name)
        else:
            # Edited by the user, or a copy imported by hand: theirs to keep.
            result.kept.append(name)
            if recorded != digest:
                result.outdated.append(name)
            continue
        result.fingerprints[name] = digest
    return result


def issue_id(file_name: str) -> str:
    """Return the repair issue id for an edited, outdated blueprint."""
    return f"{ISSUE_PREFIX}{Path(file_name).stem}"


class BlueprintInstaller:
    """Install the bundled blueprints and keep the fingerprints of what was installed."""

    def __init__(self, hass: HomeAssistant, source: Path = BUNDLED_FOLDER) -> None:
        """Prepare an installer for this Home Assistant instance."""
        self.hass = hass
        self.source = source
        self.target = Path(hass.config.path("blueprints", BLUEPRINT_DOMAIN, DOMAIN))
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)

    async def _async_fingerprints(self) -> dict[str, str]:
        data = await self._store.async_load() or {}
        files = data.get("files", {})
        return {str(key): str(value) for key, value in files.items()}

    async def async_install(self, force: frozenset[str] = frozenset()) -> InstallResult:
        """Install or update the blueprints, then open or close the repair issues."""
        lock: asyncio.Lock = self.hass.data.setdefault(DATA_LOCK, asyncio.Lock())
        async with lock:
            await self._async_populate_examples()
            fingerprints = await self._async_fingerprints()
            result = await self.hass.async_add_executor_job(
                install_blueprints, self.source, self.target, fingerprints, force
            )
            if result.fingerprints != fingerprints:
                await self._store.async_save({"files": result.fingerprints})
        for name in result.installed + result.updated:
            LOGGER.info("Installed blueprint %s", self.target / name)
        self._async_update_issues(result)
        if result.updated:
            await self._async_reload_consumers(result.updated)
        return result

    async def _async_populate_examples(self) -> None:
        """Let Home Assistant add its example blueprints before the folder exists.

        Home Assistant copies its own examples into blueprints/automation only when that
        folder does not exist yet; creating it first would lose them on a new install.
        """
        folder = Path(self.hass.config.path("blueprints", BLUEPRINT_DOMAIN))
        if await self.hass.async_add_executor_job(folder.exists):
            return
        try:
            await async_get_blueprints(self.hass).async_populate()
        except FileExistsError:
            # The automation integration copied them at the same moment.
            LOGGER.debug("Home Assistant's example blueprints were copied meanwhile")

    @callback
    def _async_update_issues(self, result: InstallResult) -> None:
        for name in result.installed + result.updated + result.unchanged:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(name))
        for name in result.outdated:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id(name),
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_TRANSLATION_KEY,
                translation_placeholders={
                    "file": name,
                    "path": str(Path("blueprints", BLUEPRINT_DOMAIN, DOMAIN, name)),
                },
                learn_more_url=SOURCE_URL.format(file=name),
                data={"file": name},
            )

    async def _async_reload_consumers(self, names: list[str]) -> None:
        """Make automations built on a replaced blueprint run the new version."""
        if BLUEPRINT_DOMAIN not in self.hass.config.components:
            return
        if any(automations_with_blueprint(self.hass, f"{DOMAIN}/{name}") for name in names):
            # Reloading clears the blueprint cache too.
            await self.hass.services.async_call(BLUEPRINT_DOMAIN, "reload", blocking=True)
        else:
            await async_get_blueprints(self.hass).async_reset_cache()

    @callback
    def async_listen_for_fixes(self) -> None:
        """Replace an edited blueprint once the user confirms its repair issue."""
        if DATA_LISTENER in self.hass.data:
            return

        @callback
        def _is_fix(event_data: ir.EventIssueRegistryUpdatedData) -> bool:
            return (
                event_data["action"] == "remove"
                and event_data["domain"] == DOMAIN
                and event_data["issue_id"].startswith(ISSUE_PREFIX)
            )

        async def _async_fixed(event: Event[ir.EventIssueRegistryUpdatedData]) -> None:
            stem = event.data["issue_id"].removeprefix(ISSUE_PREFIX)
            try:
                await self.async_install(force=frozenset({f"{stem}.yaml"}))
            except OSError as err:
                LOGGER.error("Could not replace blueprint %s.yaml: %s", stem, err)

        self.hass.data[DATA_LISTENER] = self.hass.bus.async_listen(
            ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, _async_fixed, event_filter=_is_fix
        )


async def async_setup_blueprints(hass: HomeAssistant) -> None:
    """Install the bundled blueprints; never fails the integration's setup."""
    installer = BlueprintInstaller(hass)
    installer.async_listen_for_fixes()
    try:
        await installer.async_install()
    except OSError as err:
        LOGGER.warning(
            "Could not install the Seoul SafeHome blueprints into %s: %s", installer.target, err
        )
