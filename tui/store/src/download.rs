//! Downloads MovieLens latest-small into the app's datasets folder, so a first
//! start on an online machine can get real data with one key press.
//!
//! All or nothing: the body streams into a hidden temp file next to the
//! target, is fsynced and must import as a MovieLens dataset before it is
//! renamed into place. A refused, cut-off or wrong download leaves nothing.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use ureq::http::{StatusCode, Uri};
use ureq::{Agent, Proxy};

use super::import::{self, Reason};

/// Where GroupLens publishes MovieLens latest-small (about 1 MB).
pub const LATEST_SMALL_URL: &str = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip";

/// The name the download is saved under in the destination folder.
pub const FILE_NAME: &str = "ml-latest-small.zip";

/// What to do next, appended to every network failure.
const HINT: &str = "check the connection and try again, or import a local copy with `cinema import PATH`";

/// MovieLens 25M, the largest zip anyone should fetch, is about 250 MB: a
/// body past this is not a dataset and must not fill the disk.
const MAX_BYTES: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;

/// Downloads the zip at `url` into `dest_dir/ml-latest-small.zip` (replacing
/// an older copy) and returns that path. `progress(done, total)` is called as
/// bytes arrive; `total` is the announced size, if the server gave one.
pub fn download(url: &str, dest_dir: &Path, mut progress: impl FnMut(u64, Option<u64>)) -> anyhow::Result<PathBuf> {
    let uri: Uri = url.parse().map_err(|e| anyhow!("`{url}` is not a download address ({e})"))?;
    let host = uri.host().with_context(|| format!("`{url}` names no host to download from"))?.to_owned();
    fs::create_dir_all(dest_dir).with_context(|| format!("cannot create {}", dest_dir.display()))?;

    let response = agent(is_loopback(&host)).get(url).call().map_err(|e| request_failed(e, &host, url))?;
    let body = response.into_body();
    let total = body.content_length();
    let mime = body.mime_type().map(str::to_owned);
    if let Some(total) = total.filter(|t| *t > MAX_BYTES) {
        bail!("{url} is {total} bytes, far larger than any MovieLens zip — check the address");
    }

    // Same folder as the target, so the final rename is atomic; dropped (and
    // so deleted) on every early return below.
    let mut part = tempfile::Builder::new()
        .prefix(".ml-latest-small-")
        .suffix(".zip.part")
        .tempfile_in(dest_dir)
        .with_context(|| format!("cannot create a file in {}", dest_dir.display()))?;
    let mut reader = body.into_with_config().limit(MAX_BYTES).reader();
    let done = stream(&mut reader, part.as_file_mut(), total, &mut progress, &host)?;
    if let Some(total) = total.filter(|t| done < *t) {
        bail!("the download from {host} broke off after {done} of {total} bytes — {HINT}");
    }
    part.as_file().sync_all().with_context(|| format!("cannot save the download in {}", dest_dir.display()))?;

    verify(part.path(), url, mime.as_deref())?;
    let dest = dest_dir.join(FILE_NAME);
    part.persist(&dest).map_err(|e| anyhow!("cannot save {}: {}", dest.display(), e.error))?;
    sync_dir(dest_dir);
    Ok(dest)
}

/// A fresh agent with timeouts, so a dead or stalled connection fails in
/// seconds instead of hanging the app.
fn agent(local: bool) -> Agent {
    Agent::config_builder()
        .user_agent(concat!("cinema/", env!("CARGO_PKG_VERSION")))
        .timeout_resolve(Some(Duration::from_secs(15)))
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        // Per read, not in total: a slow but steady line may take its time.
        .timeout_per_read(Some(Duration::from_secs(30)))
        // Honour HTTP(S)_PROXY like other tools, except for this machine
        // itself, which no proxy can reach on our behalf.
        .proxy(if local { None } else { Proxy::try_from_env() })
        .build()
        .into()
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Says what went wrong before any body arrived, and what to do about it.
fn request_failed(err: ureq::Error, host: &str, url: &str) -> anyhow::Error {
    match err {
        ureq::Error::StatusCode(code) => {
            let reason = StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
            anyhow!(
                "{host} answered HTTP {code} {reason} for {url} — try again later, or download it in a browser \
                 and import it with `cinema import PATH`"
            )
        }
        ureq::Error::HostNotFound => anyhow!("could not reach {host}: the name does not resolve (offline?) — {HINT}"),
        ureq::Error::Timeout(which) => anyhow!("could not reach {host}: no answer in time ({which} timeout) — {HINT}"),
        ureq::Error::Io(e) => anyhow!("could not reach {host} ({e}) — {HINT}"),
        ureq::Error::ConnectionFailed => anyhow!("could not reach {host} — {HINT}"),
        ureq::Error::BadUri(e) => anyhow!("`{url}` is not a download address ({e})"),
        other => anyhow!("downloading {url} failed ({other}) — {HINT}"),
    }
}

/// Copies the body into `file`, reporting progress; returns the byte count.
fn stream(
    reader: &mut impl Read,
    file: &mut File,
    total: Option<u64>,
    progress: &mut impl FnMut(u64, Option<u64>),
    host: &str,
) -> anyhow::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    progress(done, total);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(done),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let of_total = total.map(|t| format!(" of {t}")).unwrap_or_default();
                bail!("the download from {host} broke off after {done}{of_total} bytes ({e}) — {HINT}");
            }
        };
        file.write_all(&buf[..n]).context("cannot write the download to disk")?;
        done += n as u64;
        progress(done, total);
    }
}

/// Refuses anything `import` would refuse, so a web page, a truncated or a
/// foreign zip never lands where the app looks for datasets.
fn verify(part: &Path, url: &str, mime: Option<&str>) -> anyhow::Result<()> {
    let Err(err) = import::import(part) else {
        return Ok(());
    };
    // The temp file's name means nothing to the person reading this.
    let inside = err.file.strip_prefix(&part.display().to_string()).unwrap_or(&err.file).trim_start_matches(':');
    let what = match (&err.reason, mime) {
        (Reason::NotAnArchive(_), Some(mime)) => format!("not a zip archive but {mime}"),
        (Reason::NotAnArchive(_), None) => "not a zip archive".to_owned(),
        (reason, _) if inside.is_empty() => reason.to_string(),
        (reason, _) => match err.line {
            Some(line) => format!("{inside}:{line}: {reason}"),
            None => format!("{inside}: {reason}"),
        },
    };
    bail!(
        "the download from {url} is not a MovieLens zip ({what}) — the address may be wrong or the server sent an \
         error page; try again later, or import a local copy with `cinema import PATH`"
    )
}

/// Makes the rename itself durable. Best effort: some platforms cannot open
/// a folder, and the file's own data is already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(err) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!("could not sync {}: {err}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "localhost", "[::1]", "127.8.9.1", "LOCALHOST"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["files.grouplens.org", "10.0.0.1", "[2001:db8::1]", "localhost.example"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_non_address_is_refused_before_touching_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("datasets");
        let err = download("not a url", &target, |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("is not a download address"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn status_errors_name_the_code_and_the_way_out() {
        let err = request_failed(ureq::Error::StatusCode(503), "files.grouplens.org", LATEST_SMALL_URL);
        let text = err.to_string();
        assert!(text.starts_with("files.grouplens.org answered HTTP 503 Service Unavailable"), "{text}");
        assert!(text.contains("`cinema import PATH`"), "{text}");
        let err = request_failed(ureq::Error::HostNotFound, "files.grouplens.org", LATEST_SMALL_URL);
        assert!(err.to_string().starts_with("could not reach files.grouplens.org"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_named_for_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join(".ml-latest-small-x.zip.part");
        fs::write(&page, "<html><body>Maintenance</body></html>").unwrap();
        let err = verify(&page, "http://example.invalid/x.zip", Some("text/html")).unwrap_err().to_string();
        assert!(err.contains("is not a MovieLens zip (not a zip archive but text/html)"), "{err}");
        assert!(!err.contains(".zip.part"), "{err}");
    }
}
