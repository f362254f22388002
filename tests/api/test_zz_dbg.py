import json
import pytest
from custom_components.seoul_safehome.api import EventName
from tests.api.conftest import wait_until
from tests.api.test_events import started

@pytest.mark.parametrize("kind", ["not_json", "unknown_type", "unknown_event", "missing_fields", "oversized", "binary"])
async def test_dbg(make_stream, client, control, capture, kind):
    capture.garbage_expected = True
    stream, rec, hub = await started(make_stream, client)
    n = len(capture.ws_received)
    await control.post("/stream/garbage", {"kind": kind})
    await control.post("/devices/doorbell-1/ring")
    await wait_until(lambda: rec.named(EventName.DOORBELL_RING))
    print(kind, "resyncs", rec.resyncs, "skipped", stream.skipped_frames, [x[:150] for x in capture.ws_received[n:]], rec.seqs())
