"""An AI agent's side of `tessera mcp`, through the official MCP Python SDK.

Usage: client.py CLIENT_NAME -- TESSERA_COMMAND...

Starts TESSERA_COMMAND as an MCP server on stdio, introduces itself as
CLIENT_NAME, then runs the calls given as JSON lines on standard input
({"tool": NAME, "arguments": {...}}, or {"list_tools": true}) and prints one
JSON line per call: {"tools": [...]} or {"error": bool, "text": "..."}.
The Rust test (tests/mcp.rs) decides what is right; this only speaks.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, Implementation, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    name = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1 :]
    calls = [json.loads(line) for line in sys.stdin if line.strip()]
    # The SDK starts servers with a minimal environment unless told; pass
    # this one (the tests point XDG_RUNTIME_DIR at a test desktop's app).
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(server) as (read, write):
        async with ClientSession(
            read, write, client_info=Implementation(name=name, version="1.0")
        ) as session:
            await session.initialize()
            for call in calls:
                if call.get("list_tools"):
                    tools = await session.list_tools()
                    out = {"tools": sorted(t.name for t in tools.tools)}
                else:
                    result = await session.call_tool(call["tool"], call.get("arguments", {}))
                    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                    out = {"error": bool(result.is_error), "text": text}
                print(json.dumps(out), flush=True)


asyncio.run(main())
