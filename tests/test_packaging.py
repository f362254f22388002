"""The files HACS and Home Assistant read: manifest.json, hacs.json, the schema itself."""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path
import re
from urllib.parse import urlsplit

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant import bootstrap
from homeassistant.auth.mfa_modules import totp
import homeassistant.components
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.loader import Manifest
from jsonschema import Draft202012Validator
from packaging.requirements import Requirement
from PIL import Image
import pytest

from custom_components.seoul_safehome import PLATFORMS
from tests.schema import SCHEMA_PATH

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "seoul_safehome"
# The minimum supported release, which scripts/setup installs (requirements_test.txt).
MINIMUM_HA = "2026.2.3"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_keys_follow_home_assistant_order() -> None:
    """Domain and name first, then the other keys alphabetically (hassfest's rule)."""
    keys = list(_load(INTEGRATION / "manifest.json"))
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_describes_a_local_push_hub() -> None:
    """HACS needs a version; discovery needs the zeroconf type the hubs announce."""
    manifest = _load(INTEGRATION / "manifest.json")
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "hub"
    assert manifest["iot_class"] == "local_push"
    assert manifest["zeroconf"] == ["_safehome._tcp.local."]
    assert all(part.isdigit() for part in manifest["version"].split("."))
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://")


def test_hacs_json_names_the_minimum_home_assistant() -> None:
    """HACS refuses to install on a Home Assistant older than hacs.json says."""
    hacs = _load(ROOT / "hacs.json")
    assert set(hacs) <= {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
        "render_readme",
    }
    assert hacs["name"] == _load(INTEGRATION / "manifest.json")["name"]
    assert hacs["homeassistant"] == "2026.2.0"
    assert hacs["render_readme"] is True


def test_protocol_schema_is_a_valid_json_schema() -> None:
    """Both sides validate against this schema, so it must itself be valid."""
    Draft202012Validator.check_schema(_load(SCHEMA_PATH))


# --- HACS and Home Assistant's rules for a custom integration ---------------------------
#
# hacs.json: HACS's publishing rules (hacs.xyz "General" → hacs.json, the keys and types
# HACS's own validation accepts); manifest.json: Home Assistant's developer docs
# ("Integration manifest") and hassfest's manifest checks for custom integrations; brand
# images: the home-assistant/brands image rules, which HA 2026.3+ applies to an
# integration's local brand/ folder and HACS requires (at least brand/icon.png).

HACS_KEYS: dict[str, type] = {
    "name": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "hide_default_branch": bool,
    "country": str | list,  # type: ignore[dict-item]
    "homeassistant": str,
    "hacs": str,
    "persistent_directory": str,
    "render_readme": bool,
}
VERSION_STRATEGIES = (
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
)
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
# A custom integration may not be "virtual" (that is for core brand entries only).
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
QUALITY_SCALES = {"bronze", "silver", "gold", "platinum", "internal", "legacy"}
# Keys Home Assistant reads from a manifest, less the ones it sets itself.
MANIFEST_KEYS = set(Manifest.__annotations__) - {"is_built_in", "overwrites_built_in"}
CODEOWNER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?$")
BRAND = INTEGRATION / "brand"


def _valid_version(version: str) -> bool:
    try:
        AwesomeVersion(version, ensure_strategy=list(VERSION_STRATEGIES))
    except AwesomeVersionException:
        return False
    return True


def test_hacs_json_follows_hacs_rules() -> None:
    """Only keys HACS knows, of the right types; `name` required; versions valid."""
    hacs = _load(ROOT / "hacs.json")
    assert isinstance(hacs.get("name"), str)
    assert hacs["name"].strip()
    for key, value in hacs.items():
        assert key in HACS_KEYS, f"hacs.json: HACS does not know the key {key!r}"
        assert isinstance(value, HACS_KEYS[key]), f"hacs.json: {key} must be {HACS_KEYS[key]}"
    for key in ("homeassistant", "hacs"):
        if key in hacs:
            assert _valid_version(hacs[key]), f"hacs.json: {key} {hacs[key]!r} is no version"
    countries = hacs.get("country", [])
    for country in [countries] if isinstance(countries, str) else countries:
        assert re.fullmatch(r"[A-Z]{2}", country), f"{country!r}: ISO 3166-1 alpha-2, upper"
    if hacs.get("zip_release"):
        assert "filename" in hacs, "hacs.json: zip_release needs filename"
    if hacs.get("render_readme"):
        assert (ROOT / "README.md").is_file()
    # The minimum Home Assistant HACS enforces is no newer than the one the tests run on.
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(HA_VERSION)


def test_one_integration_where_hacs_looks() -> None:
    """HACS manages the first directory in custom_components/: there must be only one."""
    assert [p.name for p in (ROOT / "custom_components").iterdir() if p.is_dir()] == [
        INTEGRATION.name
    ]
    assert not _load(ROOT / "hacs.json").get("content_in_root", False)


def test_manifest_follows_home_assistant_rules() -> None:
    """Known keys only, required ones present, values as hassfest and HACS check them."""
    manifest = _load(INTEGRATION / "manifest.json")
    unknown = set(manifest) - MANIFEST_KEYS
    assert not unknown, f"manifest.json: keys Home Assistant does not know: {unknown}"
    # Required by Home Assistant for a custom integration, and by HACS.
    for key in ("domain", "name", "codeowners", "documentation", "issue_tracker", "version"):
        assert manifest.get(key), f"manifest.json: {key} is required"
    assert re.fullmatch(r"[a-z0-9_]+", manifest["domain"])
    assert manifest["domain"] == INTEGRATION.name
    assert not (Path(homeassistant.components.__path__[0]) / manifest["domain"]).exists(), (
        "the domain collides with a built-in integration"
    )
    assert _valid_version(manifest["version"]), f"{manifest['version']!r} is no valid version"
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest.get("integration_type", "hub") in INTEGRATION_TYPES
    if "quality_scale" in manifest:
        assert manifest["quality_scale"] in QUALITY_SCALES
    for key in ("documentation", "issue_tracker"):
        url = urlsplit(manifest[key])
        assert url.scheme == "https", f"{key} must be an https URL"
        assert url.netloc, f"{key} must be an https URL"
    assert isinstance(manifest["codeowners"], list)
    assert manifest["codeowners"], "manifest.json: name at least one code owner"
    for owner in manifest["codeowners"]:
        assert CODEOWNER.fullmatch(owner), f"codeowner {owner!r}: @user or @org/team"
    for key in ("requirements", "dependencies", "after_dependencies", "loggers"):
        assert isinstance(manifest.get(key, []), list)
        assert all(isinstance(item, str) for item in manifest.get(key, []))
    for key in ("config_flow", "single_config_entry", "import_executor"):
        assert isinstance(manifest.get(key, False), bool)
    for requirement in manifest.get("requirements", []):
        parsed = Requirement(requirement)  # PEP 508, as pip reads it
        assert [spec.operator for spec in parsed.specifier] == ["=="], (
            f"{requirement!r}: pin requirements exactly (package==version)"
        )
    for zeroconf in manifest.get("zeroconf", []):
        service = zeroconf if isinstance(zeroconf, str) else zeroconf["type"]
        assert re.fullmatch(r"_[a-z0-9-]+\._(tcp|udp)\.local\.", service)


def _png(name: str) -> Image.Image:
    path = BRAND / name
    assert path.is_file(), f"brand/{name} is missing"
    with Image.open(path) as opened:
        opened.load()
        image = opened
    assert image.format == "PNG", f"brand/{name} is not a PNG"
    assert image.mode == "RGBA", f"brand/{name} has no alpha channel (transparent background)"
    assert "icc_profile" not in image.info or b"sRGB" in image.info["icc_profile"]
    assert path.stat().st_size < 200_000, f"brand/{name} is not optimised for the web"
    return image


def _trimmed(image: Image.Image) -> tuple[int, int, int, int]:
    """The box of the visible pixels; fails if the corners are not transparent."""
    alpha = image.getchannel("A")
    for corner in ((0, 0), (image.width - 1, 0), (0, image.height - 1)):
        assert alpha.getpixel(corner) == 0, "the background is not transparent"
    bbox = alpha.point(lambda a: 255 if a > 8 else 0).getbbox()
    assert bbox, "the image is empty"
    return bbox


@pytest.mark.parametrize("prefix", ["", "dark_"])
def test_brand_icons(prefix: str) -> None:
    """Square icons, 256x256 and 512x512 (@2x), transparent, trimmed to the edges."""
    for name, size in ((f"{prefix}icon.png", 256), (f"{prefix}icon@2x.png", 512)):
        image = _png(name)
        assert image.size == (size, size), f"{name} is {image.size}, not {size}x{size}"
        left, top, right, bottom = _trimmed(image)
        # Trimmed: the mark reaches two opposite edges (within anti-aliasing).
        assert (left <= 2 and right >= size - 2) or (top <= 2 and bottom >= size - 2), name


@pytest.mark.parametrize("prefix", ["", "dark_"])
def test_brand_logos(prefix: str) -> None:
    """Landscape logos: short side 128-256 (@2x 256-512), transparent, trimmed."""
    logo, logo2x = _png(f"{prefix}logo.png"), _png(f"{prefix}logo@2x.png")
    for image, low, high in ((logo, 128, 256), (logo2x, 256, 512)):
        assert image.width > image.height, "the logo should be landscape"
        assert low <= min(image.size) <= high, f"short side {min(image.size)} not in {low}-{high}"
        left, top, right, bottom = _trimmed(image)
        assert (left, top) <= (2, 2), "the logo is not trimmed"
        assert right >= image.width - 2, "the logo is not trimmed"
        assert bottom >= image.height - 2, "the logo is not trimmed"
    assert abs(logo2x.width - 2 * logo.width) <= 2
    assert logo2x.height == 2 * logo.height


def test_dark_brand_images_match_the_light_ones() -> None:
    """Each dark_ image has the same size as its light counterpart."""
    for name in ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png"):
        assert _png(f"dark_{name}").size == _png(name).size


def _dev_integrations() -> set[str]:
    """The integrations Home Assistant sets up (or reads) for the dev configuration."""
    config = (ROOT / "scripts" / "dev_configuration.yaml").read_text(encoding="utf-8")
    domains = set(re.findall(r"(?m)^([a-z_]+):", config))
    # Always set up (isal, sentry, ... of bootstrap's early stages only when configured).
    domains |= bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS
    domains |= bootstrap.FRONTEND_INTEGRATIONS | {"system_log", "onboarding", "auth"}
    domains |= {str(platform) for platform in PLATFORMS}  # the entity components we use
    domains |= set(_load(INTEGRATION / "manifest.json").get("dependencies", []))
    return domains


def _runtime_requirements() -> dict[str, set[str]]:
    """What Home Assistant would pip-install for those integrations: requirement → who."""
    components = Path(homeassistant.components.__path__[0])
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    todo = list(_dev_integrations())
    while todo:
        domain = todo.pop()
        if domain in seen or not (components / domain / "manifest.json").is_file():
            continue
        seen.add(domain)
        manifest = _load(components / domain / "manifest.json")
        for requirement in manifest.get("requirements", []):
            found.setdefault(requirement, set()).add(domain)
        # Home Assistant processes dependencies and after_dependencies alike.
        todo += manifest.get("dependencies", []) + manifest.get("after_dependencies", [])
    for requirement in totp.REQUIREMENTS:  # the default multi-factor auth module
        found.setdefault(requirement, set()).add("auth.mfa_modules.totp")
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_home_assistant_needs_no_run_time_installs() -> None:
    """Everything HA pip-installs on a first start of the dev config is pinned and installed.

    requirements_test.txt and requirements_run.txt pin what Home Assistant itself does not
    depend on, at exactly the versions its manifests ask for; the browser test starts it
    with --skip-pip. The pins are those of the minimum release that scripts/setup installs.
    """
    if HA_VERSION != MINIMUM_HA:
        pytest.skip(f"requirements_run.txt pins Home Assistant {MINIMUM_HA}'s packages")
    pinned: dict[str, str] = {}
    lines = [
        line
        for name in ("requirements_test.txt", "requirements_run.txt")
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
    ]
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate():  # e.g. newest-lane-only lines
                pinned[_canonical(req.name)] = str(req.specifier)
    core = {_canonical(Requirement(r).name) for r in metadata.requires("homeassistant") or []}
    plugin = {
        _canonical(Requirement(r).name)
        for r in metadata.requires("pytest-homeassistant-custom-component") or []
    }
    problems = []
    for requirement, domains in sorted(_runtime_requirements().items()):
        req = Requirement(requirement)
        name = _canonical(req.name)
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} ({', '.join(sorted(domains))}) is not installed")
            continue
        if installed not in req.specifier:
            problems.append(f"{requirement} ({', '.join(sorted(domains))}): {installed} installed")
        if name not in core and name not in plugin and pinned.get(name) != str(req.specifier):
            problems.append(f"{requirement} ({', '.join(sorted(domains))}): pin it as such")
    assert not problems, "\n".join(problems)
