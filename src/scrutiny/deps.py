"""Review what a lockfile pins: fetch each pinned distribution, review it, say what it runs.

For each pin one file is chosen: the one the lockfile names (an sdist, unless it names
only wheels or ``prefer`` is ``wheel``), else the index's file of that version whose
sha256 the lockfile accepts (else its sdist, else a pure-Python wheel). The download is
checked against the lockfile's hash where it has one, else the index's. Each package is
then reviewed like ``scrutiny review pypi:NAME==VERSION`` and read for install-time and
import-time behaviour (install_time.py). Rendering is in report/deps_out.py.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from scrutiny import install_time, pypi
from scrutiny.api import Config, scan
from scrutiny.findings import Finding
from scrutiny.install_time import Behaviour
from scrutiny.lockfiles import SDIST_SUFFIXES, Artifact, Lockfile, Pin, normalise, version_of
from scrutiny.report.compose import Review

UNCHECKED = "nothing"  # neither the lockfile nor the index gives the file's sha256


@dataclass
class PackageReview:
    pin: Pin
    status: str  # reviewed or failed
    artifact: str = ""  # the file reviewed
    sha256: str = ""
    sha256_from: str = ""  # lockfile, index or nothing: whose hash the download was checked against
    review: Review | None = None
    behaviours: list[Behaviour] = field(default_factory=list)
    error: str = ""
    output: str = ""  # where its review was written

    @property
    def kind(self) -> str:
        return "wheel" if self.artifact.endswith(".whl") else "sdist" if self.artifact else ""

    @property
    def worst(self) -> Finding | None:
        findings = self.review.defects if self.review else []
        return max(findings, key=lambda f: (f.severity, f.confidence), default=None)

    @property
    def counts(self) -> dict[str, int]:
        return self.review.counts if self.review else {}

    @property
    def files(self) -> int:
        return len(self.review.reviewed) if self.review else 0

    def at(self, when: str) -> list[Behaviour]:
        return [b for b in self.behaviours if b.when == when]


@dataclass
class DepsReport:
    lockfile: Lockfile
    packages: list[PackageReview] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """As ``scrutiny review``: 2 when nothing could be reviewed, 1 for any defect, else 0."""
        reviewed = [p for p in self.packages if p.review is not None and p.review.reviewed]
        if not reviewed:
            return 2
        return 1 if any(p.review.defects for p in reviewed if p.review) else 0


def choose(pin: Pin, prefer: str, listing: Callable[[str], list[pypi.IndexFile]]) -> tuple[Artifact, str]:
    """The file to review for ``pin`` and whose hash vouches for it (lockfile or index).

    ``listing(name)`` gives the index's files; it is asked only when the lockfile does not
    name a file with its URL and hash.
    """
    named = [a for a in pin.artifacts if version_of(a.filename, pin.name) is not None or a.url]
    if named:
        artifact = _preferred(named, prefer)
        if artifact.url and artifact.sha256:
            return artifact, "lockfile"
        try:
            on_index = {f.filename: f for f in listing(pin.name)}
        except pypi.FetchError:
            if not artifact.url:
                raise
            on_index = {}  # a direct URL of a project the index does not have
        found = on_index.get(artifact.filename)
        if found is None and not artifact.url:
            raise pypi.FetchError(f"{artifact.filename} is not on the index")
        url = artifact.url or (found.url if found else "")
        if artifact.sha256:
            return Artifact(artifact.filename, url, artifact.sha256), "lockfile"
        digest = found.sha256 if found else ""
        return Artifact(artifact.filename, url, digest), "index" if digest else UNCHECKED
    files = [f for f in listing(pin.name) if _same_version(version_of(f.filename, pin.name), pin.version)]
    if pin.sha256s:
        accepted = [f for f in files if f.sha256 in pin.sha256s]
        if not accepted:
            raise pypi.FetchError(
                f"none of the {len(pin.sha256s)} hash(es) the lockfile gives for {pin.name}=={pin.version} "
                f"matches a file on the index ({len(files)} file(s) of that version)"
            )
        chosen = _preferred([Artifact(f.filename, f.url, f.sha256) for f in accepted], prefer)
        return chosen, "lockfile"
    if not files:
        raise pypi.FetchError(f"{pin.name}=={pin.version} has no file on the index")
    chosen = _preferred([Artifact(f.filename, f.url, f.sha256) for f in files], prefer)
    return chosen, "index" if chosen.sha256 else UNCHECKED


def _same_version(found: str | None, pinned: str) -> bool:
    """1.16 and 1.16.0 are the same release (trailing zeros do not count)."""

    def release(version: str) -> list[str]:
        parts = version.split(".")
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return parts

    return found is not None and release(found) == release(pinned)


def _preferred(artifacts: list[Artifact], prefer: str) -> Artifact:
    """An sdist or a wheel as preferred; among wheels a pure-Python one (py3-none-any) first."""

    def rank(artifact: Artifact) -> tuple[int, int, str]:
        is_sdist = artifact.filename.endswith(SDIST_SUFFIXES)
        kind = 0 if (is_sdist == (prefer == "sdist")) else 1
        pure = 0 if artifact.filename.endswith("-none-any.whl") or is_sdist else 1
        return kind, pure, artifact.filename

    return min(artifacts, key=rank)


def review_package(
    pin: Pin,
    config: Config,
    prefer: str = "sdist",
    listing: Callable[[str], list[pypi.IndexFile]] = pypi.index_files,
    notify: Callable[[str], None] = lambda message: None,
) -> PackageReview:
    """Fetch, check, review and read one pinned distribution; a failure is the result's error."""
    try:
        artifact, vouched_by = choose(pin, prefer, listing)
        if urllib.parse.urlsplit(artifact.url).scheme not in ("https", "http"):
            # A lockfile's URL must not make scrutiny read a local file (file://) or anything but an index.
            raise pypi.FetchError(f"{artifact.filename}: only http(s) URLs are fetched, not {artifact.url!r}")
        fetched = pypi.fetch_file(pin.name, pin.version, artifact.filename, artifact.url, artifact.sha256)
    except pypi.FetchError as exc:
        return PackageReview(pin, "failed", error=str(exc))
    how = "from the cache" if fetched.cached else "downloaded"
    notify(f"{pin.name}=={pin.version}: {fetched.filename} {how}, sha256 {fetched.sha256} (checked: {vouched_by})")
    target = f"{pypi.PREFIX}{normalise(pin.name)}=={pin.version}"
    review = scan([target], config, fetched={target: fetched})
    return PackageReview(
        pin,
        "reviewed" if review.reviewed else "failed",
        fetched.filename,
        fetched.sha256,
        vouched_by,
        review,
        install_time.behaviours(fetched.root),
        "" if review.reviewed else "no file could be reviewed",
    )


def review_lockfile(
    lockfile: Lockfile,
    config: Config,
    prefer: str = "sdist",
    notify: Callable[[str], None] = lambda message: None,
    done: Callable[[PackageReview], None] = lambda package: None,
) -> DepsReport:
    """Review every pin in turn; ``done`` gets each package's review as soon as it exists."""
    report = DepsReport(lockfile)
    for pin in lockfile.pins:
        package = review_package(pin, config, prefer, notify=notify)
        done(package)
        report.packages.append(package)
    return report
