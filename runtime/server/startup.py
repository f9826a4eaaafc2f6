"""`ivrc serve`: checks flows and credentials before start-up, then runs the app under uvicorn."""
from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import asdict, dataclass

import httpx
from starlette.applications import Starlette

from ivrc.compiler.errors import IvrcError
from ivrc.runtime.engine.library import Library, load_saved, save
from ivrc.runtime.engine.sealing import STATE_KEY_ENV, keys_from_env
from ivrc.runtime.signing import KEY_ENV, SECRET_ENV, Credentials

from . import connections, environment
from .app import CALLBACK_PATH, Settings, StartupError, create_app
from .backend import DEFAULT_BUDGET
from .callevents import TOKEN_ENV, CallEvents, token_from_env
from .events_out import EVENTS_SECRET_ENV, EventsConfig, check_url, flow_destination, parse_secret
from .logs import CallbackLines

_CONFIG_ENV = "IVRC_SERVE_CONFIG"  # how the parent process hands its options to uvicorn's workers


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
    request_budget: float = DEFAULT_BUDGET
    call_events: bool = False  # serve /events for `ivrc studio --live`, behind IVRC_EVENTS_TOKEN
    log_format: str = "text"
    events_url: str | None = None
    # Connection limits (docs/deployment.md, "Capacity"): seconds a connection may idle between
    # requests, seconds it has to send one whole request, requests and connections served at once
    # (more get 503), and seconds SIGTERM waits for answers in progress.
    keep_alive_timeout: int = 5
    request_timeout: float = 10.0
    limit_concurrency: int = 1000
    graceful_shutdown_timeout: int = 10
    http: str = "auto"  # uvicorn's HTTP parser: httptools when installed (uvicorn[standard]), else h11
    loop: str = "auto"  # uvicorn's event loop: uvloop when installed (uvicorn[standard]), else asyncio


def state_keys_from_env(env=os.environ) -> tuple[bytes, ...]:
    """The keys that seal call state: required, since the Sinch secret alone must not let anyone forge it."""
    try:
        keys = keys_from_env(env.get(STATE_KEY_ENV))
    except ValueError as err:
        raise StartupError(str(err)) from None
    if not keys:
        raise StartupError(f"{STATE_KEY_ENV} is not set. It seals each call's state in Sinch's cookies, so that not "
                           "even someone holding the Sinch secret can forge it; every replica needs the same value. "
                           "Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return keys


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


def events_from_env(url: str | None, env=os.environ) -> EventsConfig | None:
    """Where call events go and the key that signs them, or None without --events-url; StartupError says what is wrong."""
    if url is None:
        return None
    try:
        return EventsConfig(url=check_url(url), secret=parse_secret(env.get(EVENTS_SECRET_ENV, "")))
    except ValueError as err:
        raise StartupError(str(err)) from None


def build_library(options: ServeOptions, *, keep_versions: bool = True) -> Library:
    """Compiles every flow and reads every compiled machine; any problem stops the start-up with the reason."""
    from ivrc.compiler.errors import FlowErrors
    from ivrc.compiler.project import compile_paths

    try:
        machines = compile_paths(options.paths)
    except FlowErrors as err:
        raise StartupError(f"flows have errors; fix them before serving:\n{err}") from None
    except IvrcError as err:
        raise StartupError(str(err)) from None
    library = Library()
    for machine in machines:
        library.add(machine)
    if options.default_flow is not None:
        if options.default_flow not in library.current:
            raise StartupError(f"--default-flow {options.default_flow}: no such flow (loaded: "
                               + ", ".join(sorted(library.current)) + ")")
        library.default_flow = options.default_flow
    # Every missing secret at once: an operator fixing one per start-up would restart once per secret.
    problems = [str(err) for check in (_require_secrets, _require_event_receivers)
                for err in _raised(check, machines)]
    if problems:
        raise StartupError("\n".join(problems))
    if keep_versions:
        save(options.machines_dir, machines)
        load_saved(options.machines_dir, library)
    return library


def _raised(check, machines) -> list[StartupError]:
    try:
        check(machines)
    except StartupError as err:
        return [err]
    return []


def _require_secrets(machines, env=os.environ) -> None:
    """Request states read credentials from the environment: all of them must be there before any call."""
    missing = sorted({name for machine in machines for name in machine.secrets if not env.get(name, "").strip()})
    if missing:
        users = sorted({m.flow for m in machines if m.secrets & set(missing)})
        raise StartupError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
                           f"the requests of flow(s) {', '.join(users)} send {'it' if len(missing) == 1 else 'them'} "
                           f"to their backend. Set {'it' if len(missing) == 1 else 'them'} in the server's environment.")


def _require_event_receivers(machines, env=os.environ) -> None:
    """A flow that sends its own call events needs a usable URL and its signing secret before any call."""
    problems = []
    for machine in machines:
        if machine.events is not None:
            try:
                flow_destination(machine.flow, machine.events, env)
            except ValueError as err:
                problems.append(str(err))
    if problems:
        raise StartupError("; ".join(problems))


def app(paths: list[str], *, credentials: Credentials | tuple[Credentials, ...] | None = None, insecure_no_signatures: bool = False,
        default_flow: str | None = None, events_url: str | None = None) -> Starlette:
    """The callback app for flows and compiled machines under paths, for any ASGI server.

    Credentials default to SINCH_APPLICATION_KEY and SINCH_APPLICATION_SECRET; with events_url,
    call events are signed with IVRC_EVENTS_SECRET. StartupError says what is missing or wrong."""
    options = ServeOptions(paths=list(paths), default_flow=default_flow,
                           insecure_no_signatures=insecure_no_signatures)
    library = build_library(options, keep_versions=False)
    if credentials is None and not insecure_no_signatures:
        credentials = credentials_from_env(options)
    settings = Settings(credentials=credentials, verify_signatures=not insecure_no_signatures,
                        state_keys=state_keys_from_env(), events=events_from_env(events_url))
    return create_app(library, settings)


def uvicorn_log_config(log_format: str) -> dict | None:
    """uvicorn's own lines (start-up, shutdown, errors) as JSON on stderr with --log-format json;
    None keeps uvicorn's default text."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"json": {"()": "ivrc.runtime.server.logs.JsonFormatter"}},
            "handlers": {"json": handler},
            "loggers": {name: {"handlers": ["json"], "level": "INFO", "propagate": False}
                        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}}


def _configure_logging(level: str, log_format: str = "text") -> None:
    # Every callback writes a log line; these would make each record look up thread and process
    # names that the JSON line never shows.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    callbacks = logging.getLogger("ivrc.callbacks")
    if not callbacks.handlers:
        callbacks.addHandler(CallbackLines(sys.stdout))
        callbacks.propagate = False
    ivrc = logging.getLogger("ivrc")
    if not ivrc.handlers:
        handler = logging.StreamHandler(sys.stderr)
        if log_format == "json":
            from .logs import JsonFormatter

            handler.setFormatter(JsonFormatter())
            # Python's warnings (deprecations in a library, say) become log lines, JSON too.
            logging.captureWarnings(True)
            logging.getLogger("py.warnings").addHandler(handler)
        else:
            handler.setFormatter(logging.Formatter("ivrc: %(levelname)s: %(message)s"))
        ivrc.addHandler(handler)
    ivrc.setLevel(level.upper())


def build_app():
    """uvicorn's factory: every worker builds its own app from the options the parent checked."""
    options = ServeOptions(**json.loads(os.environ[_CONFIG_ENV]))
    _configure_logging(options.log_level, options.log_format)
    connections.configure(options.request_timeout)
    connections.raise_fd_limit()
    try:
        library = build_library(options)
        credentials = credentials_from_env(options)
        events = events_from_env(options.events_url)
        state_keys = state_keys_from_env()
    except StartupError as err:
        print(f"ivrc: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = Settings(credentials=credentials, verify_signatures=credentials is not None,
                        callback_path=options.callback_path, request_budget=options.request_budget,
                        state_keys=state_keys,
                        call_events=CallEvents(token_from_env(os.environ)) if options.call_events else None,
                        events=events)
    if options.reload:
        from .reloader import FlowWatcher

        settings.watcher = FlowWatcher(options.paths, library, options.machines_dir)
    app = create_app(library, settings)
    # Machines, templates and imports live as long as the process: keep them out of the cycle
    # collector's full passes, which would otherwise walk them again and again under load.
    gc.collect()
    gc.freeze()
    return app


def _announcer(options: ServeOptions):
    """What the server says at start-up: lines on stderr, or JSON log lines with --log-format json."""
    if options.log_format == "json":
        _configure_logging(options.log_level, "json")
        log = logging.getLogger("ivrc.serve")
        return lambda level, message, text=None: log.log(logging.getLevelName(level.upper()), message)

    def say(level: str, message: str, text: str | None = None) -> None:
        prefix = "ivrc: WARNING: " if level == "warning" else "ivrc: "
        print(text if text is not None else prefix + message, file=sys.stderr)

    return say


def serve(options: ServeOptions) -> None:
    """Checks everything first, so a bad flow or a missing secret stops here with a clear message."""
    library = build_library(options)
    credentials_from_env(options)
    state_keys_from_env()
    if options.call_events:
        try:
            token_from_env(os.environ)
        except ValueError as err:
            raise StartupError(str(err)) from None
    events_from_env(options.events_url)
    _check_port(options.host, options.port)
    for option, module in (("http", "httptools"), ("loop", "uvloop")):
        if getattr(options, option) == module and importlib.util.find_spec(module) is None:
            raise StartupError(f"--{option} {module}: {module} is not installed; install it with "
                               f"pip install 'uvicorn[standard]', or leave --{option} at auto")
    import uvicorn

    say = _announcer(options)
    say("info", f"serving {len(library.current)} flow(s) on http://{options.host}:{options.port}"
                f"{options.callback_path}")
    parser = connections.http_protocol(options.http).rpartition(":")[2]
    loop = options.loop if options.loop != "auto" else "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    say("info", f"HTTP: {'httptools' if 'HttpTools' in parser else 'h11'}, event loop: {loop}"
                + ("" if "HttpTools" in parser and loop == "uvloop" else
                   " (pip install 'uvicorn[standard]' for httptools and uvloop: about 1.5 times the callbacks a second)"))
    for entry in library.listing():
        say("info", f"flow {entry['flow']} {entry['version']} ({entry['direction']}) {', '.join(entry['numbers'])}".rstrip(),
            f"  {entry['flow']} {entry['version']} ({entry['direction']}) {', '.join(entry['numbers']) or ''}")
    for need in environment.unset([loaded.machine for loaded in library.current.values()], os.environ):
        say("warning", f"{need.name} is not set: flow {need.flow} reads it in state {need.state}, so calls that "
                       f"reach that state will take the error path. Set it before starting the server.")
    if options.call_events:
        say("info", f"call events on: GET http://{options.host}:{options.port}/events with the token from {TOKEN_ENV}",
            f"ivrc: call events on: GET http://{options.host}:{options.port}/events with the token from "
            f"{TOKEN_ENV} (numbers masked; each worker streams its own calls)")
    if options.events_url is not None:
        # The host only: a URL's path or query may hold the receiver's token.
        say("info", f"call events go to {httpx.URL(options.events_url).host}, signed with {EVENTS_SECRET_ENV}")
    for loaded in library.current.values():
        if loaded.machine.events is not None:
            say("info", f"flow {loaded.flow} sends its call events to {httpx.URL(loaded.machine.events.url).host}, "
                        f"signed with {loaded.machine.events.secret_env}")
    if options.insecure_no_signatures:
        say("warning", "signature checks are OFF (--insecure-no-signatures); anyone who can reach this "
                       "server can drive calls. Never use this in production.")
    soft, _ = connections.raise_fd_limit()
    # Every connection holds a file descriptor; keep some for logs, machines and the listening socket.
    concurrency = max(1, min(options.limit_concurrency, soft - 64))
    if concurrency < options.limit_concurrency:
        say("warning", f"serving at most {concurrency} connections at once: the open-file limit is {soft} "
                       "(raise `ulimit -n` for more)")
    os.environ[_CONFIG_ENV] = json.dumps(asdict(options))
    if options.reload:
        # Flow files are watched by the server itself (reloader.py), not by restarting the process.
        say("info", "--reload: watching the flow files; a flow saved with errors keeps the last good version")
    with _shared_metrics(options.workers if not options.reload else 1):
        _run(uvicorn, options, concurrency)


def _check_port(host: str, port: int) -> None:
    """A port already in use stops the start-up here, with the reason, instead of inside uvicorn (exit 3)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
        try:
            probe.bind((host, port))
        except OSError as err:
            reason = err.strerror or str(err)
            raise StartupError(f"cannot listen on {host}:{port}: {reason} (is another server running there? "
                               "choose another port with --port)") from None


@contextlib.contextmanager
def _shared_metrics(workers: int):
    """With several workers, their metrics meet in a folder so /metrics adds them up (see metrics.py).

    A folder the operator names in PROMETHEUS_MULTIPROC_DIR is used, emptied of an earlier run's
    values; otherwise a temporary one, removed when the server stops."""
    from .metrics import MULTIPROCESS_ENV

    named = os.environ.get(MULTIPROCESS_ENV)
    if named:
        os.makedirs(named, exist_ok=True)
        for name in os.listdir(named):
            if name.endswith(".db"):
                os.unlink(os.path.join(named, name))
        yield
        return
    if workers <= 1:
        yield
        return
    folder = tempfile.mkdtemp(prefix="ivrc-metrics-")
    os.environ[MULTIPROCESS_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def _run(uvicorn, options: ServeOptions, concurrency: int) -> None:
    uvicorn.run("ivrc.runtime.server.startup:build_app", factory=True, host=options.host, port=options.port,
                workers=options.workers if not options.reload else None,
                log_level=options.log_level, access_log=False, server_header=False,
                http=connections.http_protocol(options.http), loop=options.loop,
                timeout_keep_alive=options.keep_alive_timeout, limit_concurrency=concurrency,
                timeout_graceful_shutdown=options.graceful_shutdown_timeout,
                **({"log_config": config} if (config := uvicorn_log_config(options.log_format)) else {}))
