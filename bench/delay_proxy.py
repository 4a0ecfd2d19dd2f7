# Userspace latency injector for the delay experiment: a fake EPMD plus delaying TCP relays to Erlang nodes.
"""
Usage: delay_proxy.py --epmd-port PORT --delay-ms D [--host ADDR] [--real-epmd-port 4369] [--ready-file F]

Clients pointed at it with ERL_EPMD_PORT=PORT (beamprobe, erl_call and erl all honour it)
see every byte they send or receive delayed by D ms one way, so one request/reply costs
2*D more.  PORT_PLEASE2 requests are answered from the real EPMD with the node's port
rewritten to a relay that forwards to the node with the same per-chunk delay; any other
EPMD request (ALIVE2 registration of an escript's node, NAMES, ...) is relayed as is,
delayed too.  Order is kept and chunks in flight are pipelined, like a delay line on a
link: this adds latency, not bandwidth limits.  Unlike netem it cannot delay TCP's own
SYN/SYN-ACK, so connection setup is not slowed, only the data exchanged.
"""
import argparse
import asyncio
import os
import signal
import struct
import sys

PORT2_REQ = 122
PORT2_RESP = 119


class Proxy:
    def __init__(self, host, real_epmd_port, delay_s):
        self.host = host
        self.real_epmd_port = real_epmd_port
        self.delay = delay_s
        self.relays = {}  # node port -> relay listening port

    async def pump(self, reader, writer, first=b""):
        """Copies reader to writer, each chunk released `delay` after it arrived."""
        loop = asyncio.get_running_loop()
        q = asyncio.Queue()

        async def release():
            while True:
                due, data = await q.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    try:
                        if writer.can_write_eof():
                            writer.write_eof()
                    except OSError:
                        pass
                    return
                writer.write(data)
                try:
                    await writer.drain()
                except OSError:
                    return

        sender = asyncio.create_task(release())
        try:
            if first:
                q.put_nowait((loop.time() + self.delay, first))
            while True:
                try:
                    data = await reader.read(65536)
                except OSError:
                    data = b""
                q.put_nowait((loop.time() + self.delay, data or None))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()

    async def splice(self, creader, cwriter, up_port, first=b""):
        try:
            ureader, uwriter = await asyncio.open_connection(self.host, up_port)
        except OSError:
            cwriter.close()
            return
        try:
            await asyncio.gather(self.pump(creader, uwriter, first), self.pump(ureader, cwriter))
        finally:
            for w in (uwriter, cwriter):
                try:
                    w.close()
                except OSError:
                    pass

    async def relay_for(self, node_port):
        if node_port not in self.relays:
            server = await asyncio.start_server(
                lambda r, w: self.splice(r, w, node_port), self.host, 0)
            self.relays[node_port] = server.sockets[0].getsockname()[1]
        return self.relays[node_port]

    async def epmd_client(self, reader, writer):
        loop = asyncio.get_running_loop()
        try:
            head = await reader.readexactly(3)
        except (asyncio.IncompleteReadError, OSError):
            writer.close()
            return
        if head[2] != PORT2_REQ:
            # Anything else (ALIVE2 keeps its connection open): a plain delayed relay.
            await self.splice(reader, writer, self.real_epmd_port, head)
            return
        arrived = loop.time()
        try:
            (n,) = struct.unpack(">H", head[:2])
            body = await reader.readexactly(n - 1)
            ureader, uwriter = await asyncio.open_connection(self.host, self.real_epmd_port)
            uwriter.write(head + body)
            await uwriter.drain()
            resp = await ureader.read()  # EPMD answers and closes
            uwriter.close()
            if len(resp) >= 4 and resp[0] == PORT2_RESP and resp[1] == 0:
                (node_port,) = struct.unpack(">H", resp[2:4])
                resp = resp[:2] + struct.pack(">H", await self.relay_for(node_port)) + resp[4:]
            # Request delayed on the way in, reply on the way out.
            wait = arrived + 2 * self.delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(resp)
            await writer.drain()
        except (asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epmd-port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--real-epmd-port", type=int, default=4369)
    ap.add_argument("--ready-file")
    a = ap.parse_args()
    proxy = Proxy(a.host, a.real_epmd_port, a.delay_ms / 1000.0)
    server = await asyncio.start_server(proxy.epmd_client, a.host, a.epmd_port)
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(a.ready_file + ".tmp", a.ready_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    os._exit(0)  # connections still in flight are simply dropped


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        print(f"delay_proxy: {e}", file=sys.stderr)
        sys.exit(1)
