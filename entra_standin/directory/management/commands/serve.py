"""``python -m entra_standin serve``: plain http and TLS gunicorn servers, in the foreground."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from entra_standin import config


class Command(BaseCommand):
    help = "Serve the stand-in: http for the browser side, TLS for discovery, token and keys."

    def add_arguments(self, parser):
        parser.add_argument("--http-port", type=int, default=8001)
        parser.add_argument("--tls-port", type=int, default=8443)

    def handle(self, *args, **options):
        directory = settings.STANDIN_DATA_DIR
        needed = [
            config.DB_FILE,
            config.TLS_CERT_FILE,
            config.TLS_KEY_FILE,
            config.SIGNING_KEY_FILE,
        ]
        missing = [name for name in needed if not (directory / name).exists()]
        if missing:
            raise CommandError(
                f"{directory} lacks {', '.join(missing)}: run `python -m entra_standin setup`."
            )
        commands = config.gunicorn_commands(options["http_port"], options["tls_port"], directory)
        env = config.subprocess_env()
        procs = {
            name: subprocess.Popen(cmd, env=env, cwd=config.REPO_ROOT)
            for name, cmd in commands.items()
        }
        self.stdout.write(
            f"Entra ID stand-in: browser side http://localhost:{options['http_port']} "
            f"(STANDIN_HTTP_URL={settings.STANDIN_HTTP_URL}), back channel "
            f"https://127.0.0.1:{options['tls_port']} (STANDIN_TLS_URL={settings.STANDIN_TLS_URL})"
        )
        self.stdout.flush()

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = 0
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"The {name} server exited with {proc.returncode}.")
                        code = proc.returncode or 1
                        stopping = True
                time.sleep(0.2)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if code:
            sys.exit(code)
