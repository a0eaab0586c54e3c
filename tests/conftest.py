"""Fixtures: a real ACTIO simulator over HTTP and a config entry pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
import logging
import re
import socket
import sys
import types
from typing import Any
from unittest.mock import PropertyMock, patch

from aiohttp import ClientSession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from actio_simulator import SimState, Simulator, Token, run_simulator

# Import the project's package before the plugin's bundled custom_components
# can shadow it.
import custom_components.actio_sms  # noqa: F401
from custom_components.actio_sms.const import (
    CONF_API_MODE,
    CONF_API_URL,
    CONF_CLOUDHOOK,
    CONF_NUMBER,
    CONF_SENDER,
    CONF_TOKEN,
    DOMAIN,
    SUBENTRY_RECIPIENT,
)
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component

TOKEN = "test-token-0123456789abcdef"
TCX_TOKEN = "test-3cx-token-abcdef"
NOMULTI_TOKEN = "test-nomulti-token"
SENDER = "48732129000"
WEBHOOK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"


@dataclass
class Sim:
    """A running simulator and helpers to inspect it."""

    sim: Simulator
    url: str

    @property
    def state(self) -> SimState:
        """The simulator's mutable state."""
        return self.sim.state

    @property
    def outbox(self) -> list[Any]:
        """Messages the simulator accepted."""
        return self.sim.state.outbox

    @property
    def requests(self) -> list[dict[str, Any]]:
        """API requests the simulator saw."""
        return self.sim.state.requests

    def clear_log(self) -> None:
        """Forget the requests seen so far (the setup probe, say)."""
        self.sim.state.requests.clear()
        self.sim.state.max_inflight = 0

    def fault(self, fault: str | None, count: int | None = None) -> None:
        """Inject a fault for the next ``count`` requests (None = all)."""
        self.sim.state.fault = fault
        self.sim.state.fault_count = count


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_state(**kwargs: Any) -> SimState:
    """Simulator state with the test tokens."""
    return SimState(
        tokens={
            TOKEN: Token(senders=[SENDER]),
            TCX_TOKEN: Token(senders=[SENDER], mode="3cx", multi=False),
            NOMULTI_TOKEN: Token(senders=[SENDER], multi=False),
        },
        **kwargs,
    )


@dataclass
class FakeCloud:
    """Stands in for homeassistant.components.cloud, which cannot import here."""

    active: bool = True
    created: list[str] | None = None
    deleted: list[str] | None = None

    def async_active_subscription(self, hass: HomeAssistant) -> bool:
        return self.active

    async def async_create_cloudhook(self, hass: HomeAssistant, webhook_id: str) -> str:
        assert self.created is not None
        self.created.append(webhook_id)
        return f"https://hooks.nabu.casa/{webhook_id[:8]}"

    async def async_delete_cloudhook(
        self, hass: HomeAssistant, webhook_id: str
    ) -> None:
        assert self.deleted is not None
        self.deleted.append(webhook_id)

    def async_remote_ui_url(self, hass: HomeAssistant) -> str:
        """No remote UI: what core's helper gets without a subscription."""
        raise CloudNotAvailableError


class CloudNotAvailableError(Exception):
    """Stands in for cloud's CloudNotAvailable."""


@pytest.fixture
def fake_cloud(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> FakeCloud:
    """Home Assistant Cloud loaded with an active subscription (faked)."""
    cloud = FakeCloud(created=[], deleted=[])
    module = types.ModuleType("homeassistant.components.cloud")
    for name in (
        "async_active_subscription",
        "async_create_cloudhook",
        "async_delete_cloudhook",
        "async_remote_ui_url",
    ):
        setattr(module, name, getattr(cloud, name))
    module.CloudNotAvailable = CloudNotAvailableError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", module)
    hass.config.components.add("cloud")
    return cloud


# Loggers outside the integration that name the webhook id: HA core's webhook
# component (a wrong method, or a call after unregistering) and the test
# server's access log (HA's bootstrap sets aiohttp.access to WARNING, so a
# real instance never logs it at INFO).
NOT_OURS = ("homeassistant.components.webhook", "aiohttp.access")
# A correspondent's number as the tests write them (48 6xx …), in digits or
# grouped, not inside a message id. The entry's own virtual number (48 732 …,
# the default entry title that Home Assistant's own lines name) is no one's
# personal number.
UNMASKED_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\+?48 ?6(?:\d{8}|\d\d(?: \d{3}){2})(?![0-9A-Za-z])"
)


@pytest.fixture(autouse=True)
def no_secrets_in_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Fail any test whose log at INFO or above names a token or webhook id.

    Every token and webhook id the test made counts: the fixed ones, those of
    every ACTIO SMS entry in its hass and every token its simulator knows.
    """
    # Taken now: by the end of the test these fixtures are torn down.
    hass: HomeAssistant | None = (
        request.getfixturevalue("hass") if "hass" in request.fixturenames else None
    )
    sim: Sim | None = (
        request.getfixturevalue("simulator")
        if "simulator" in request.fixturenames
        else None
    )
    yield
    secrets = {TOKEN, TCX_TOKEN, NOMULTI_TOKEN, WEBHOOK_ID}
    if hass is not None:
        for entry in hass.config_entries.async_entries(DOMAIN):
            secrets |= {
                str(entry.data[key])
                for key in (CONF_TOKEN, CONF_WEBHOOK_ID)
                if entry.data.get(key)
            }
    if sim is not None:
        secrets |= set(sim.state.tokens)
    records = [r for when in ("setup", "call") for r in caplog.get_records(when)]
    leaks = [
        f"{record.name}: {record.getMessage()[:200]}"
        for record in records
        if record.levelno >= logging.INFO
        and record.name not in NOT_OURS
        and any(secret in record.getMessage() for secret in secrets)
    ]
    assert not leaks
    # Phone numbers are personal data, and logs end up in public bug reports:
    # ours are masked at every level (+48 600 *** *00).
    numbers = [
        f"{record.name}: {without_text(record)[:200]}"
        for record in records
        if record.name.startswith("custom_components.actio_sms")
        and UNMASKED_NUMBER.search(without_text(record))
    ]
    assert not numbers


def without_text(record: logging.LogRecord) -> str:
    """A log line without the SMS text it ends with (texts are logged at debug
    as they were written, numbers in them included: ``...: %s`` last)."""
    if (
        record.levelno == logging.DEBUG
        and isinstance(record.msg, str)
        and record.msg.endswith(": %s")
        and isinstance(record.args, tuple)
        and record.args
    ):
        return str(record.msg[:-4] % record.args[:-1])
    return record.getMessage()


@pytest.fixture(autouse=True)
def sensor_window(request: pytest.FixtureRequest) -> Iterator[None]:
    """Write sensors at once in tests; a test marked real_sensor_window gets a
    cooldown of a minute instead, advanced with async_fire_time_changed, so its
    outcome does not depend on how fast the machine is."""
    cooldown = 60 if request.node.get_closest_marker("real_sensor_window") else 0
    with patch("custom_components.actio_sms.data.SENSOR_COOLDOWN", cooldown):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Enable entities that are disabled by default (as HA core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (registry ids and times masked)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config dir of its own per test: the message journal writes real files."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    """Retries of lost answers and 429s within milliseconds, not seconds.

    The budget stays above a few attempts, so every retry path runs; a test
    of the real timing patches these itself.
    """
    with (
        patch("custom_components.actio_sms.actio.client.RETRY_DELAYS", (0.01,) * 3),
        patch("custom_components.actio_sms.actio.client.RETRY_BUDGET", 1.0),
    ):
        yield


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[Sim]:
    """A real ACTIO simulator on a free localhost port."""
    async with run_simulator(make_state()) as (sim, url):
        yield Sim(sim, url)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[ClientSession]:
    """A plain aiohttp session for client contract tests."""
    async with ClientSession() as client_session:
        yield client_session


def entry_data(url: str, token: str = TOKEN, mode: str = "sms") -> dict[str, Any]:
    """Config entry data for a simulator URL."""
    return {
        CONF_TOKEN: token,
        CONF_SENDER: SENDER,
        CONF_API_URL: url,
        CONF_API_MODE: mode,
        CONF_WEBHOOK_ID: WEBHOOK_ID,
        CONF_CLOUDHOOK: False,
    }


def actio_entry(
    url: str, *, recipients: dict[str, str] | None = None, **kwargs: Any
) -> MockConfigEntry:
    """An entry for the simulator, with recipient subentries {name: number}."""
    kwargs.setdefault("minor_version", 2)
    kwargs.setdefault("title", SENDER)
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=SENDER,
        data=entry_data(url),
        subentries_data=[
            ConfigSubentryDataWithId(
                data={CONF_NUMBER: number},
                subentry_type=SUBENTRY_RECIPIENT,
                title=name,
                unique_id=number,
                subentry_id=f"recipient_{name.lower()}",
            )
            for name, number in (recipients or {}).items()
        ],
        **kwargs,
    )


SECOND_SENDER = "48732129001"


def second_entry(url: str) -> MockConfigEntry:
    """Another entry on the same account: its own number and webhook."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=SECOND_SENDER,
        title=SECOND_SENDER,
        minor_version=2,
        data=entry_data(url) | {CONF_SENDER: SECOND_SENDER, CONF_WEBHOOK_ID: "f" * 64},
    )


FAMILY = {"Mom": "48600100200", "Dad": "48600100201"}


def numbers(count: int, start: int = 0) -> list[str]:
    """``count`` distinct Polish mobile numbers (digits)."""
    return [f"48600{i:06d}" for i in range(start, start + count)]


def sms(body: Any, sender: str = "48600100200") -> dict[str, Any]:
    """An inbound SMS as ACTIO posts it to the entry's number."""
    return {"type": "MESSAGE", "from": sender, "to": SENDER, "body": body}


def entry_device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The id of the entry's own device, as the device registry has it."""
    [device] = [
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if device.via_device_id is None
    ]
    return device.id


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Options of the mock entry; tests override this fixture."""
    return {}


@pytest.fixture
def mock_config_entry(simulator: Sim, entry_options: dict[str, Any]) -> MockConfigEntry:
    """An ACTIO SMS entry pointing at the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=SENDER,
        unique_id=SENDER,
        minor_version=2,
        data=entry_data(simulator.url),
        options=entry_options,
    )


type Setup = Callable[[MockConfigEntry], Coroutine[Any, Any, MockConfigEntry]]


@pytest.fixture
def setup_entry(hass: HomeAssistant, simulator: Sim) -> Setup:
    """Add and set up an entry; the simulator's request log starts after it."""

    async def _setup(entry: MockConfigEntry) -> MockConfigEntry:
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        simulator.clear_log()
        return entry

    return _setup


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, setup_entry: Setup
) -> MockConfigEntry:
    """The mock entry, set up."""
    return await setup_entry(mock_config_entry)


async def send(
    hass: HomeAssistant, recipients: Any, message: str = "Hej", **extra: Any
) -> dict[str, Any]:
    """Call actio_sms.send_message and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "send_message",
        {"message": message, "recipients": recipients, **extra},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def get_messages(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """Call actio_sms.get_messages and return its messages."""
    response = await hass.services.async_call(
        DOMAIN, "get_messages", data, blocking=True, return_response=True
    )
    assert response is not None
    return list(response["messages"])  # type: ignore[arg-type]


def end_process(hass: HomeAssistant, entry_id: str) -> None:
    """Home Assistant's process ends: nothing of the entry stays in memory.

    Whatever is not on disk by now is gone, as after ``kill -9``; after an
    unload (which saves the log) it is a clean restart. The webhook stays
    registered, as it is at the next start before the entry is set up. After
    a kill, do not move the clock past the log's save delay: the dropped
    log's pending save would still come due.
    """
    hass.data[DOMAIN].runtimes.pop(entry_id)


SWITCH = "switch.kitchen_light"


@pytest.fixture
async def assist_and_a_switch(hass: HomeAssistant) -> None:
    """Assist with its default agent, and a switch exposed to it (off)."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {"switch": [{"name": "Kitchen light", "turn_on": [], "turn_off": []}]}
            ]
        },
    )
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == "off"
