import asyncio, time
async def test_x(hass, freezer):
    loop = asyncio.get_running_loop()
    a = loop.time(); t=time.time(); m=time.monotonic()
    for _ in range(1000):
        await asyncio.sleep(0)
    print("loop", loop.time()-a, "time", time.time()-t, "mono", time.monotonic()-m)
    freezer.tick(10)
    print("after tick loop", loop.time()-a, "time", time.time()-t)
    await asyncio.wait_for(asyncio.sleep(0.01), 1)
    print("sleep ok")
