"""A stand-in for the business systems the examples call: a bank and an order desk, on loopback only.

`make serve` starts it beside `ivrc serve`, so every example works end to end on a fresh machine:

    python examples/backend.py            # http://127.0.0.1:8091

Replace it with your own systems: the flows' request states name the real URLs (https) and read
their credentials from the server's environment.

Accounts: 123456 (PIN 1234), 234567 (PIN 1357), 9123456 (business, PIN 9876).
Callers: +46701234567 is account 123456's verified number; other numbers are unknown (404).
Orders: 100200 shipped, 100300 being packed, 500500 makes the order desk fail (503); others are unknown (404).
"""
from __future__ import annotations

import argparse
import os
import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PORT = 8091
TOKEN_ENV = "BANK_API_TOKEN"  # what account_pin.yaml sends as its bearer token
ACCOUNTS = {
    "123456": {"pin": "1234", "holder": "Ada Lovelace", "balance": "1250.00"},
    "234567": {"pin": "1357", "holder": "Alan Turing", "balance": "87.15"},
    "9123456": {"pin": "9876", "holder": "Hopper Consulting", "balance": "90210.00"},
}
ORDERS = {
    "100200": {"status": "shipped", "eta": "Thursday"},
    "100300": {"status": "being packed", "eta": "next week"},
}
BROKEN_ORDER = "500500"
CALLERS = {"+46701234567": "123456"}  # verified caller numbers (concierge.yaml)


def _authorised(request: Request) -> bool:
    token = os.environ.get(TOKEN_ENV, "demo-bank-token")
    return request.headers.get("authorization") == f"Bearer {token}"


async def verify(request: Request) -> JSONResponse:
    if not _authorised(request):
        return JSONResponse({"error": "unauthorised"}, status_code=403)
    try:
        data = await request.json()
    except ValueError:
        return JSONResponse({"error": "send JSON"}, status_code=400)
    account = ACCOUNTS.get(str(data.get("account", "")))
    if account is None or account["pin"] != data.get("pin"):
        return JSONResponse({"verified": False}, status_code=401)
    return JSONResponse({"verified": True, "holder": account["holder"]})


async def balance(request: Request) -> JSONResponse:
    if not _authorised(request):
        return JSONResponse({"error": "unauthorised"}, status_code=403)
    account = ACCOUNTS.get(request.path_params["account"])
    if account is None:
        return JSONResponse({"error": "no such account"}, status_code=404)
    return JSONResponse({"account": {"balance": account["balance"], "currency": "SEK"}})


async def caller(request: Request) -> JSONResponse:
    account = CALLERS.get(request.path_params["number"])
    if account is None:
        return JSONResponse({"error": "unknown caller"}, status_code=404)
    return JSONResponse({"caller": {"account": account}})


async def order(request: Request) -> JSONResponse:
    number = request.path_params["order"]
    if number == BROKEN_ORDER:
        return JSONResponse({"error": "the order desk is down"}, status_code=503)
    found = ORDERS.get(number)
    if found is None:
        return JSONResponse({"error": "no such order"}, status_code=404)
    return JSONResponse({"order": {"number": number, **found}})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"service": "ivrc-example-backend"})


app = Starlette(routes=[
    Route("/bank/v1/verify", verify, methods=["POST"]),
    Route("/bank/v1/accounts/{account}/balance", balance, methods=["GET"]),
    Route("/bank/v1/callers/{number}", caller, methods=["GET"]),
    Route("/shop/v1/orders/{order}", order, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
])


def _exit_with(pid: int) -> None:
    """Ends this process when `pid` is gone, so stopping `make serve` stops the backend too."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(1)


def _exit_with_users(folder: str) -> None:
    """Ends this process once no process named in `folder` (one file per PID) is alive: test runs
    on one machine share one backend, and the last one to finish lets it go."""
    def anyone() -> bool:
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            try:
                os.kill(int(name), 0)
                return True
            except (ValueError, ProcessLookupError):
                continue
            except PermissionError:
                return True
        return False

    idle = 0
    while True:
        idle = 0 if anyone() else idle + 1
        # Two checks a second apart, and one more at the last moment: a run registers before it
        # looks for a backend, so one that just registered is seen here.
        if idle >= 2 and not anyone():
            os._exit(0)
        time.sleep(1)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The example flows' stand-in backend (loopback only).")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--exit-with", type=int, metavar="PID", help="stop when this process stops")
    parser.add_argument("--exit-with-users", metavar="FOLDER",
                        help="stop when no process whose PID names a file in FOLDER is alive (test runs)")
    args = parser.parse_args()
    if args.exit_with:
        threading.Thread(target=_exit_with, args=(args.exit_with,), daemon=True).start()
    if args.exit_with_users:
        threading.Thread(target=_exit_with_users, args=(args.exit_with_users,), daemon=True).start()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
