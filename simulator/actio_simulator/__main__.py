"""Run the ACTIO simulator: ``python -m actio_simulator --help``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .server import DIALECTS, MULTI_PATHS, SimState, Token, run_simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m actio_simulator",
        description="A local ACTIO SMS API (SMS API + 3CX API) for tests and demos.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="bind address (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8125, help="port (default 8125, 0 = any free)"
    )
    parser.add_argument(
        "--token", default="demo-token", help="SMS API token (default demo-token)"
    )
    parser.add_argument("--tcx-token", default="demo-3cx-token", help="3CX API token")
    parser.add_argument(
        "--sender",
        action="append",
        help="virtual number(s) the tokens may send from (default 48732129000)",
    )
    parser.add_argument(
        "--sender-name",
        action="append",
        help="registered sender name(s) of the SMS API token (default Dom)",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="v1",
        help="v1: the v1.0 PDF (default); live: ACTIO's current documentation",
    )
    parser.add_argument(
        "--no-multi", action="store_true", help="bulk sending not enabled for the token"
    )
    parser.add_argument(
        "--multi-path",
        choices=sorted(MULTI_PATHS),
        default="multi",
        help="serve /api/sms-multi or /api/sms-mult",
    )
    parser.add_argument(
        "--webhook", help="webhook URL for inbound SMS and delivery reports"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="added latency per API request"
    )
    parser.add_argument(
        "--auto-deliver",
        type=float,
        metavar="SECONDS",
        help="report each sent SMS delivered after SECONDS",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Serve until cancelled."""
    senders = args.sender or ["48732129000"]
    state = SimState(
        tokens={
            args.token: Token(
                senders=senders,
                multi=not args.no_multi,
                sender_names=args.sender_name or ["Dom"],
            ),
            args.tcx_token: Token(senders=senders, mode="3cx", multi=False),
        },
        webhook_url=args.webhook,
        multi_path=args.multi_path,
        latency=args.latency_ms / 1000,
        auto_deliver=args.auto_deliver,
        dialect=args.dialect,
    )
    async with run_simulator(state, args.host, args.port) as (_sim, url):
        print(
            f"ACTIO simulator ({state.dialect} dialect) on {url} (phone page: {url}/)",
            flush=True,
        )
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
