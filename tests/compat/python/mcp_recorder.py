"""A stdio MCP server (official Python SDK) that records in a file when its `wait` tool starts,
ends and is cancelled."""
import asyncio
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

log = Path(sys.argv[1])
app = MCPServer("recorder")


def note(what: str) -> None:
    with log.open("a") as f:
        f.write(what + "\n")


@app.tool()
async def wait(seconds: float = 30, label: str = "x") -> str:
    """Waits, then says so."""
    note(f"started {label}")
    try:
        await asyncio.sleep(seconds)
    except BaseException:
        note(f"cancelled {label}")
        raise
    note(f"finished {label}")
    return f"waited {seconds} s"


app.run()
