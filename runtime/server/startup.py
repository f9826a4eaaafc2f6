"""`ivrc serve`: checks flows and credentials before start-up, then runs the app under uvicorn."""
from __future__ import annotations

import gc
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field

from ivrc.runtime.engine.library import Library, load_saved, save
from ivrc.runtime.signing import Credentials

from . import connections
from .app import CALLBACK_PATH, Settings, create_app

KEY_ENV = "SINCH_APPLICATION_KEY"
SECRET_ENV = "SINCH_APPLICATION_SECRET"
_CONFIG_ENV = "IVRC_SERVE_CONFIG"  # how the parent process hands its options to uvicorn's workers


class StartupError(Exception):
    """The server must not start; the message says why and what to do."""


@dataclass
class ServeOptions:
    paths: list[str]
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    reload: bool = False
    default_flow: str | None = None
    machines_dir: str = ".ivrc/machines"
    callback_path: str = CALLBACK_PATH
    insecure_no_signatures: bool = False
    log_level: str = "info"
    # Connection limits (docs/deployment.md, "Capacity"): seconds a connection may idle between
    # requests, seconds it has to send one whole request, requests and connections served at once
    # (more get 503), and seconds SIGTERM waits for answers in progress.
    keep_alive_timeout: int = 5
    request_timeout: float = 10.0
    limit_concurrency: int = 1000
    graceful_shutdown_timeout: int = 10
    extra: dict = field(default_factory=dict)


def credentials_from_env(options: ServeOptions, env=os.environ) -> tuple[Credentials, ...] | None:
    """The application key with every secret accepted now: SINCH_APPLICATION_SECRET may list several,
    separated by commas, while a secret is rotated (Base64 has no commas)."""
    if options.insecure_no_signatures:
        return None
    key, secret = env.get(KEY_ENV, "").strip(), env.get(SECRET_ENV, "").strip()
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if not value]
    if missing:
        raise StartupError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Copy the application key and "
            "secret from the Sinch dashboard into the environment; for local development only, "
            "--insecure-no-signatures turns signature checks off.")
    try:
        return tuple(Credentials(key, one.strip()) for one in secret.split(",") if one.strip())
    except ValueError as err:
        raise StartupError(f"{SECRET_ENV} or {KEY_ENV} is not usable: {err}") from None


def build_library(options: ServeOptions) -> Library:
    """Compiles every flow; any error stops the start-up with the diagnostics."""
    from ivrc.compiler import formats
    from ivrc.compiler.project import PathError, check_paths

    try:
        results = check_paths(options.paths, compile=True)
    except PathError as err:
        raise StartupError(str(err)) from None
    if not results:
        raise StartupError("no flow files found in " + ", ".join(options.paths))
    if any(not r.ok for r in results):
        failed = [r for r in results if not r.ok]
        raise StartupError("flows have errors; fix them before serving:\n" + formats.text(failed).rstrip())
    library = Library()
    for result in results:
        library.add(result.machine)
    if options.default_flow is not None:
        if options.default_flow not in library.current:
            raise StartupError(f"--default-flow {options.default_flow}: no such flow (loaded: "
                               + ", ".join(sorted(library.current)) + ")")
        library.default_flow = options.default_flow
    save(options.machines_dir, [r.machine for r in results])
    load_saved(options.machines_dir, library)
    return library


def _configure_logging(level: str) -> None:
    # Every callback writes a log line; these would make each record look up thread and process
    # names that the JSON line never shows.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    callbacks = logging.getLogger("ivrc.callbacks")
    if not callbacks.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        callbacks.addHandler(handler)
        callbacks.propagate = False
    ivrc = logging.getLogger("ivrc")
    if not ivrc.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("ivrc: %(levelname)s: %(message)s"))
        ivrc.addHandler(handler)
    ivrc.setLevel(level.upper())


def build_app():
    """uvicorn's factory: every worker builds its own app from the options the parent checked."""
    options = ServeOptions(**json.loads(os.environ[_CONFIG_ENV]))
    _configure_logging(options.log_level)
    connections.configure(options.request_timeout)
    connections.raise_fd_limit()
    try:
        library = build_library(options)
        credentials = credentials_from_env(options)
    except StartupError as err:
        print(f"ivrc: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = Settings(credentials=credentials, verify_signatures=credentials is not None,
                        callback_path=options.callback_path)
    if options.reload:
        from .reloader import FlowWatcher

        settings.extra["watcher"] = FlowWatcher(options.paths, library, options.machines_dir)
    app = create_app(library, settings)
    # Machines, templates and imports live as long as the process: keep them out of the cycle
    # collector's full passes, which would otherwise walk them again and again under load.
    gc.collect()
    gc.freeze()
    return app


def serve(options: ServeOptions) -> None:
    """Checks everything first, so a bad flow or a missing secret stops here with a clear message."""
    library = build_library(options)
    credentials_from_env(options)
    import uvicorn

    print(f"ivrc: serving {len(library.current)} flow(s) on http://{options.host}:{options.port}"
          f"{options.callback_path}", file=sys.stderr)
    for entry in library.listing():
        print(f"  {entry['flow']} {entry['version']} ({entry['direction']}) "
              f"{', '.join(entry['numbers']) or ''}", file=sys.stderr)
    if options.insecure_no_signatures:
        print("ivrc: WARNING: signature checks are OFF (--insecure-no-signatures); anyone who can reach this "
              "server can drive calls. Never use this in production.", file=sys.stderr)
    soft, _ = connections.raise_fd_limit()
    # Every connection holds a file descriptor; keep some for logs, machines and the listening socket.
    concurrency = max(1, min(options.limit_concurrency, soft - 64))
    if concurrency < options.limit_concurrency:
        print(f"ivrc: serving at most {concurrency} connections at once: the open-file limit is {soft} "
              "(raise `ulimit -n` for more)", file=sys.stderr)
    os.environ[_CONFIG_ENV] = json.dumps(asdict(options))
    if options.reload:
        # Flow files are watched by the server itself (reloader.py), not by restarting the process.
        print("ivrc: --reload: watching the flow files; a flow saved with errors keeps the last good version",
              file=sys.stderr)
    uvicorn.run("ivrc.runtime.server.startup:build_app", factory=True, host=options.host, port=options.port,
                workers=options.workers if not options.reload else None,
                log_level=options.log_level, access_log=False, server_header=False,
                http="ivrc.runtime.server.connections:GuardedH11Protocol",
                timeout_keep_alive=options.keep_alive_timeout, limit_concurrency=concurrency,
                timeout_graceful_shutdown=options.graceful_shutdown_timeout)
