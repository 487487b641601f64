"""Install an InsightFace model pack (and optionally the liveness addon) into INSIGHTFACE_HOME.

    python manage.py install_insightface_pack --zip buffalo_l.zip [--pack buffalo_l]
    python manage.py install_insightface_pack --url https://.../buffalo_l.zip [--pack buffalo_l]
    python manage.py install_insightface_pack --liveness liveness.onnx
    python manage.py install_insightface_pack --liveness-url https://.../liveness.onnx

The checks themselves live in ``apps.face_engine.backends.insightface_pack``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.face_engine.backends.insightface import LIVENESS_URL, PACK_URL_BASE
from apps.face_engine.backends.insightface_pack import (
    PackError,
    liveness_install,
    liveness_install_url,
    pack_install_url,
    pack_install_zip,
)


class Command(BaseCommand):
    help = (
        "Install an InsightFace model pack from a local zip or an https URL into INSIGHTFACE_HOME, "
        "and/or the RGB liveness addon. InsightFace packs are licensed for non-commercial research only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--zip", dest="zip_path", help="a local pack zip, e.g. buffalo_l.zip")
        source.add_argument("--url", help=f"an https URL of a pack zip, e.g. {PACK_URL_BASE}buffalo_l.zip")
        parser.add_argument("--pack", default=None, help="the pack name (default: INSIGHTFACE_PACK, buffalo_l)")
        addon = parser.add_mutually_exclusive_group()
        addon.add_argument("--liveness", help="a local liveness.onnx (verified against its published SHA-256)")
        addon.add_argument("--liveness-url", help=f"an https URL of liveness.onnx, e.g. {LIVENESS_URL}")
        parser.add_argument("--home", default=None, help="the target directory (default: INSIGHTFACE_HOME)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not any(options.get(key) for key in ("zip_path", "url", "liveness", "liveness_url")):
            raise CommandError("Give --zip PATH or --url URL (a pack), and/or --liveness PATH or --liveness-url URL.")
        home = Path(options["home"] or settings.INSIGHTFACE_HOME)
        pack = settings.INSIGHTFACE_PACK if options["pack"] is None else options["pack"]
        source = options["zip_path"] or options["url"]
        if source:
            stem = Path(source.rstrip("/")).name.removesuffix(".zip")
            if stem != pack:
                # Easy to get wrong: the engine loads INSIGHTFACE_PACK, whatever the zip was called.
                self.stderr.write(f"Note: installing {Path(source).name} as pack {pack!r} (use --pack to change).")
        try:
            if options["zip_path"]:
                report = pack_install_zip(zip_path=Path(options["zip_path"]), home=home, pack=pack)
                self._report_pack(report.pack_dir, report.files, report.liveness)
            elif options["url"]:
                report = pack_install_url(url=options["url"], home=home, pack=pack)
                self._report_pack(report.pack_dir, report.files, report.liveness)
            if options["liveness"]:
                path = liveness_install(source=Path(options["liveness"]), home=home)
                self.stdout.write(f"Installed the liveness addon: {path}")
            elif options["liveness_url"]:
                path = liveness_install_url(url=options["liveness_url"], home=home)
                self.stdout.write(f"Installed the liveness addon: {path}")
        except PackError as exc:
            raise CommandError(str(exc)) from exc

    def _report_pack(self, pack_dir: Path | None, files: tuple[str, ...], liveness: Path | None) -> None:
        self.stdout.write(f"Installed {len(files)} model files into {pack_dir}: {', '.join(files)}")
        if liveness is not None:
            self.stdout.write(f"Installed the liveness addon: {liveness}")
        self.stdout.write("InsightFace packs are licensed for non-commercial research only.")
