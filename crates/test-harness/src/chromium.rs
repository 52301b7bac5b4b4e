//! A real headless Chromium for browser tests, driven over the DevTools protocol
//! (`chromiumoxide`).
//!
//! [`Chromium::launch`] starts Debian's `chromium` with a fresh profile in a temporary
//! directory and the flags a closed network needs (without `--disable-background-networking`
//! and friends Chromium waits on update and sync servers it cannot reach).
//! [`Chromium::open`] loads a page in a new tab and returns a [`LoadedPage`] holding what the
//! load produced: the HTTP status of the document, console errors and uncaught exceptions,
//! and sub-resources that failed; it reads attributes and text from the DOM and writes PNG
//! screenshots. Tests put screenshots under [`artefacts_dir`]. [`Chromium::download`] clicks
//! a link of a loaded page and waits for the browser to save the file it leads to.
//!
//! A missing `chromium` is an error with a clear message, never a skipped test:
//! `cargo xtask test` installs it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use chromiumoxide::cdp::browser_protocol::browser::{
    DownloadProgressState, EventDownloadProgress, EventDownloadWillBegin,
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel, LogEntrySource};
use chromiumoxide::cdp::browser_protocol::network::{
    CookieParam, CookieSameSite, EventLoadingFailed, EventRequestWillBeSent, EventResponseReceived,
    ResourceType,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::{FutureExt as _, StreamExt as _};
use tokio::task::JoinHandle;

use crate::process::find_program;

/// The flags every launch passes (besides `--headless`, `--no-sandbox`, the profile and the
/// debugging port, which `chromiumoxide` adds).
const FLAGS: &[&str] = &[
    "disable-gpu",
    "disable-quic",
    "no-first-run",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-default-apps",
    "disable-breakpad",
    "disable-dev-shm-usage",
    "disable-extensions",
    "disable-features=Translate,MediaRouter,OptimizationHints",
    "metrics-recording-only",
    "password-store=basic",
    "use-mock-keychain",
    "force-color-profile=srgb",
    "lang=vi-VN",
];

/// The window and viewport size: a district office's ordinary screen.
const WIDTH: u32 = 1366;
const HEIGHT: u32 = 900;

/// A headless Chromium. Close it with [`Chromium::close`]; dropping it kills the process.
#[derive(Debug)]
pub struct Chromium {
    browser: Browser,
    handler: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts `chromium` (found on `PATH` or in `/usr/bin`), headless, with a fresh profile.
    pub async fn launch() -> anyhow::Result<Self> {
        let program = find_program("chromium").context(
            "the browser tests need Debian's `chromium` (headless); install it with \
             `apt-get install chromium` or run `cargo xtask test`, which installs it",
        )?;
        let profile = tempfile::Builder::new()
            .prefix("chromium-profile-")
            .tempdir()
            .context("creating a temporary Chromium profile")?;
        let config = BrowserConfig::builder()
            .chrome_executable(&program)
            .user_data_dir(profile.path())
            .no_sandbox()
            .disable_default_args()
            .args(FLAGS.iter().copied())
            .window_size(WIDTH, HEIGHT)
            .viewport(Viewport {
                width: WIDTH,
                height: HEIGHT,
                device_scale_factor: Some(1.0),
                emulating_mobile: false,
                is_landscape: true,
                has_touch: false,
            })
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow!("configuring Chromium: {e}"))?;
        let (browser, mut handler) = Browser::launch(config)
            .await
            .with_context(|| format!("launching {}", program.display()))?;
        // The handler drives the DevTools connection; it must be polled for anything to happen.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Self {
            browser,
            handler,
            _profile: profile,
        })
    }

    /// Opens `url` in a new tab and waits until it has loaded (the `load` event).
    pub async fn open(&self, url: &str) -> anyhow::Result<LoadedPage> {
        let page = self
            .browser
            .new_page("about:blank")
            .await
            .context("opening a tab")?;
        let mut events = Events::listen(&page).await?;
        page.goto(url)
            .await
            .with_context(|| format!("loading {url}"))?;
        // A round trip: every event sent before its answer has reached the listeners.
        page.evaluate("document.readyState")
            .await
            .with_context(|| format!("reading the state of {url}"))?;
        let outcome = events.drain(url);
        Ok(LoadedPage {
            page,
            url: url.to_string(),
            status: outcome.status,
            console_errors: outcome.console_errors,
            failed_requests: outcome.failed_requests,
        })
    }

    /// Sets cookie `name` = `value` for `url`'s site, as if a sign-in had set it (`HttpOnly`,
    /// `Secure`, `SameSite=Strict`, as the dashboard sets its session cookie). Cookies belong to
    /// a host, not a port: tests that sign different people in serve on different loopback
    /// addresses.
    pub async fn set_cookie(&self, url: &str, name: &str, value: &str) -> anyhow::Result<()> {
        let page = self
            .browser
            .new_page("about:blank")
            .await
            .context("opening a tab")?;
        let cookie = CookieParam::builder()
            .name(name)
            .value(value)
            .url(url)
            .http_only(true)
            .secure(true)
            .same_site(CookieSameSite::Strict)
            .build()
            .map_err(|e| anyhow!("a cookie for {url}: {e}"))?;
        page.set_cookie(cookie)
            .await
            .with_context(|| format!("setting cookie {name} for {url}"))?;
        page.close().await.context("closing a tab")?;
        Ok(())
    }

    /// Clicks (with the mouse) the first element of `page` matching `selector` — a link to a
    /// file — and waits, for at most `timeout`, until the browser has saved the file it leads
    /// to in `dir`: the download has begun and completed (Chromium's `Browser.downloadWillBegin`
    /// and `Browser.downloadProgress` events) and the file is on disk under its final name,
    /// with no `*.crdownload` left in `dir`.
    ///
    /// Downloads go to `dir` browser-wide (`Browser.setDownloadBehavior`), so one browser
    /// should run one download at a time; give each a fresh, empty directory.
    pub async fn download(
        &self,
        page: &LoadedPage,
        selector: &str,
        dir: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Download> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("the download directory {}", dir.display()))?;
        let path = dir
            .to_str()
            .ok_or_else(|| anyhow!("the download directory {} is not UTF-8", dir.display()))?;
        let mut begun = self
            .browser
            .event_listener::<EventDownloadWillBegin>()
            .await?;
        let mut progress = self
            .browser
            .event_listener::<EventDownloadProgress>()
            .await?;
        self.browser
            .execute(
                SetDownloadBehaviorParams::builder()
                    .behavior(SetDownloadBehaviorBehavior::Allow)
                    .download_path(path)
                    .events_enabled(true)
                    .build()
                    .map_err(|e| anyhow!("Browser.setDownloadBehavior: {e}"))?,
            )
            .await
            .context("allowing downloads (Browser.setDownloadBehavior)")?;
        page.page
            .find_element(selector)
            .await
            .with_context(|| format!("no element matches {selector} on {}", page.url))?
            .click()
            .await
            .with_context(|| format!("clicking {selector} on {}", page.url))?;

        let what = format!("the download from {selector} on {}", page.url);
        let waited = tokio::time::timeout(timeout, async {
            let begun = begun
                .next()
                .await
                .ok_or_else(|| anyhow!("Chromium closed before {what} began"))?;
            let mut file = None;
            while let Some(p) = progress.next().await {
                if p.guid != begun.guid {
                    continue;
                }
                match p.state {
                    DownloadProgressState::InProgress => {}
                    DownloadProgressState::Completed => {
                        file = Some(p.file_path.clone().map(PathBuf::from));
                        break;
                    }
                    DownloadProgressState::Canceled => {
                        bail!("{what} ({}) was canceled", begun.url)
                    }
                }
            }
            let file = file
                .ok_or_else(|| anyhow!("Chromium closed before {what} completed"))?
                .unwrap_or_else(|| dir.join(&begun.suggested_filename));
            // The file is written as `*.crdownload` and renamed when complete.
            crate::wait_until(timeout, || {
                let file = file.clone();
                let dir = dir.clone();
                async move { file.is_file() && partial_downloads(&dir).is_empty() }
            })
            .await
            .with_context(|| {
                format!(
                    "{what} completed but {} is not there (the directory holds {:?})",
                    file.display(),
                    listing(&dir)
                )
            })?;
            anyhow::Ok(Download {
                url: begun.url.clone(),
                suggested_file_name: begun.suggested_filename.clone(),
                path: file,
            })
        })
        .await;
        match waited {
            Ok(download) => download,
            Err(_) => bail!(
                "{what} did not complete within {timeout:?} (the directory {} holds {:?})",
                dir.display(),
                listing(&dir)
            ),
        }
    }

    /// Closes the browser and waits for its process to exit.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.browser.close().await.context("closing Chromium")?;
        self.browser.wait().await.context("waiting for Chromium")?;
        self.handler.abort();
        Ok(())
    }
}

/// Started once per test process; a failure is kept too, so every test reports it.
static SHARED: std::sync::OnceLock<Result<Chromium, String>> = std::sync::OnceLock::new();

impl Chromium {
    /// One browser for every test of this test binary, launched by the first caller.
    ///
    /// Launching Chromium costs seconds; tests that only open pages in tabs of their own can
    /// share one. It runs on a thread and a tokio runtime of its own (a `#[tokio::test]`'s
    /// runtime ends with its test, and the browser's DevTools handler must keep running), and
    /// lives in a `static`, never closed: its process is registered to be stopped, and its
    /// profile removed, when the test process exits (see the crate's docs).
    pub async fn shared() -> anyhow::Result<&'static Chromium> {
        tokio::task::spawn_blocking(|| {
            SHARED
                .get_or_init(launch_shared)
                .as_ref()
                .map_err(|e| anyhow!("the shared Chromium did not start: {e}"))
        })
        .await
        .context("waiting for the shared Chromium")?
    }
}

fn launch_shared() -> Result<Chromium, String> {
    let (launched, outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("shared-chromium".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("shared-chromium")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = launched.send(Err(format!("building its runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let started = async {
                    let mut browser = Chromium::launch().await?;
                    let pid = browser
                        .browser
                        .get_mut_child()
                        .and_then(|child| child.as_mut_inner().id())
                        .context("Chromium's process id")?;
                    crate::exit_guard::kill_at_exit(pid, nix::sys::signal::Signal::SIGTERM)?;
                    crate::exit_guard::remove_at_exit(browser._profile.path())?;
                    anyhow::Ok(browser)
                };
                match started.await {
                    Ok(browser) => {
                        let _ = launched.send(Ok(browser));
                        // The DevTools handler runs on this runtime: keep it until exit.
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = launched.send(Err(format!("{e:#}")));
                    }
                }
            });
        })
        .map_err(|e| format!("spawning its thread: {e}"))?;
    outcome
        .recv()
        .map_err(|_| "its thread ended without a word".to_owned())?
}

/// A file saved by [`Chromium::download`].
#[derive(Debug, Clone)]
pub struct Download {
    /// The address the file came from.
    pub url: String,
    /// The file name the browser chose from the response (`Content-Disposition`, else the URL).
    pub suggested_file_name: String,
    /// Where the complete file is.
    pub path: PathBuf,
}

/// The names of the files of `dir`, sorted; empty when it cannot be read.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The downloads of `dir` still being written.
fn partial_downloads(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.ends_with(".crdownload"))
        .collect()
}

/// A page loaded by [`Chromium::open`], with what its load produced.
#[derive(Debug)]
pub struct LoadedPage {
    /// The tab, for anything this type does not wrap.
    pub page: Page,
    pub url: String,
    /// The HTTP status of the document; `None` when no response was seen (a network error).
    pub status: Option<i64>,
    /// `console.error` and `console.assert` messages, uncaught exceptions, and the browser's
    /// own error log entries (other than the network's, which are in `failed_requests`).
    pub console_errors: Vec<String>,
    /// Sub-resources (stylesheets, images, scripts, …) that failed to load or answered with
    /// an HTTP status of 400 or more: `"<status or error> <url>"`.
    pub failed_requests: Vec<String>,
}

impl LoadedPage {
    /// Console errors and failed sub-resources together; empty for a clean load.
    pub fn problems(&self) -> Vec<String> {
        self.console_errors
            .iter()
            .map(|e| format!("console: {e}"))
            .chain(self.failed_requests.iter().map(|r| format!("request: {r}")))
            .collect()
    }

    /// The document's title.
    pub async fn title(&self) -> anyhow::Result<String> {
        Ok(self.page.get_title().await?.unwrap_or_default())
    }

    /// Every attribute of every element matching the CSS `selector`, in document order.
    pub async fn attributes(
        &self,
        selector: &str,
    ) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
        let script = format!(
            "Array.from(document.querySelectorAll({})).map(e => Object.fromEntries(\
             e.getAttributeNames().map(n => [n, e.getAttribute(n)])))",
            serde_json::to_string(selector)?
        );
        self.page
            .evaluate(script)
            .await
            .with_context(|| format!("reading the attributes of {selector}"))?
            .into_value()
            .with_context(|| format!("decoding the attributes of {selector}"))
    }

    /// The rendered text (`innerText`) of every element matching `selector`.
    pub async fn texts(&self, selector: &str) -> anyhow::Result<Vec<String>> {
        let script = format!(
            "Array.from(document.querySelectorAll({})).map(e => e.innerText)",
            serde_json::to_string(selector)?
        );
        self.page
            .evaluate(script)
            .await
            .with_context(|| format!("reading the text of {selector}"))?
            .into_value()
            .with_context(|| format!("decoding the text of {selector}"))
    }

    /// The rendered text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> anyhow::Result<String> {
        self.texts(selector)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no element matches {selector} on {}", self.url))
    }

    /// Writes a PNG screenshot of the whole page (beyond the viewport) to `path`, creating
    /// its directory.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let png = self
            .page
            .screenshot(ScreenshotParams::builder().full_page(true).build())
            .await
            .with_context(|| format!("taking a screenshot of {}", self.url))?;
        if !png.starts_with(b"\x89PNG") {
            bail!("the screenshot of {} is not a PNG", self.url);
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Types `text` into the form field matching `selector` (its value replaced).
    pub async fn fill(&self, selector: &str, text: &str) -> anyhow::Result<()> {
        let script = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.value = {}; return true; }})()",
            serde_json::to_string(selector)?,
            serde_json::to_string(text)?
        );
        let found: bool = self
            .page
            .evaluate(script)
            .await
            .with_context(|| format!("filling {selector}"))?
            .into_value()?;
        if !found {
            bail!("no element matches {selector} on {}", self.url);
        }
        Ok(())
    }

    /// Chooses `path` in the file input matching `selector`, as a person picking a file.
    pub async fn set_file(&self, selector: &str, path: &Path) -> anyhow::Result<()> {
        use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
        let element = self
            .page
            .find_element(selector)
            .await
            .with_context(|| format!("no file input matches {selector} on {}", self.url))?;
        let params = SetFileInputFilesParams {
            files: vec![path.display().to_string()],
            node_id: None,
            backend_node_id: Some(element.backend_node_id),
            object_id: None,
        };
        self.page
            .execute(params)
            .await
            .with_context(|| format!("choosing {} in {selector}", path.display()))?;
        Ok(())
    }

    /// Clicks the element matching `selector` (a submit button) and waits until the page it
    /// leads to has loaded; [`Self::location`] then says where the browser is.
    pub async fn click_and_wait(&mut self, selector: &str) -> anyhow::Result<()> {
        // A mark on this document: the next one, loaded by the click, does not have it.
        // (`wait_for_navigation` may answer for the document already loaded.)
        self.page
            .evaluate("window.__ttOld = true")
            .await
            .context("marking the page")?;
        self.page
            .find_element(selector)
            .await
            .with_context(|| format!("no element matches {selector} on {}", self.url))?
            .click()
            .await
            .with_context(|| format!("clicking {selector} on {}", self.url))?;
        let loaded = crate::wait_until(Duration::from_secs(30), || async {
            let state = self
                .page
                .evaluate("window.__ttOld === undefined && document.readyState === 'complete'")
                .await;
            matches!(state.map(|v| v.into_value::<bool>()), Ok(Ok(true)))
        })
        .await;
        loaded.with_context(|| {
            format!(
                "no new page loaded after clicking {selector} on {}",
                self.url
            )
        })?;
        self.url = self.page.url().await?.unwrap_or_default();
        Ok(())
    }

    /// The path and query the tab shows now (`/dang-nhap?tiep=%2F`).
    pub async fn location(&self) -> anyhow::Result<String> {
        self.page
            .evaluate("location.pathname + location.search")
            .await
            .context("reading the location")?
            .into_value()
            .context("decoding the location")
    }

    /// Closes the tab.
    pub async fn close(self) -> anyhow::Result<()> {
        self.page.close().await.context("closing a tab")
    }
}

/// `target/test-artefacts/<name>`: where tests keep files for people to look at
/// (`CARGO_TARGET_DIR` when set, else the workspace's `target`).
pub fn artefacts_dir(name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("test-artefacts").join(name)
}

/// The event streams of one tab's load.
struct Events {
    requests: EventStream<EventRequestWillBeSent>,
    responses: EventStream<EventResponseReceived>,
    failures: EventStream<EventLoadingFailed>,
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    log: EventStream<EventEntryAdded>,
}

/// What a load produced.
struct Outcome {
    status: Option<i64>,
    console_errors: Vec<String>,
    failed_requests: Vec<String>,
}

/// Takes every event already received, without waiting.
fn ready<T, S>(stream: &mut S) -> Vec<Arc<T>>
where
    S: futures::Stream<Item = Arc<T>> + Unpin,
{
    let mut out = Vec::new();
    while let Some(Some(event)) = stream.next().now_or_never() {
        out.push(event);
    }
    out
}

impl Events {
    async fn listen(page: &Page) -> anyhow::Result<Self> {
        Ok(Self {
            requests: page.event_listener().await?,
            responses: page.event_listener().await?,
            failures: page.event_listener().await?,
            console: page.event_listener().await?,
            exceptions: page.event_listener().await?,
            log: page.event_listener().await?,
        })
    }

    fn drain(&mut self, url: &str) -> Outcome {
        let urls: HashMap<String, String> = ready(&mut self.requests)
            .iter()
            .map(|r| (r.request_id.inner().clone(), r.request.url.clone()))
            .collect();
        let mut status = None;
        let mut failed_requests = Vec::new();
        for r in ready(&mut self.responses) {
            if r.r#type == ResourceType::Document {
                // The last document response is the page (after any redirects).
                status = Some(r.response.status);
            } else if r.response.status >= 400 {
                failed_requests.push(format!("{} {}", r.response.status, r.response.url));
            }
        }
        for f in ready(&mut self.failures) {
            let failed = urls
                .get(f.request_id.inner())
                .map_or("(unknown url)", String::as_str);
            failed_requests.push(format!("{} {failed}", f.error_text));
        }
        let mut console_errors = Vec::new();
        for c in ready(&mut self.console) {
            if matches!(
                c.r#type,
                ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
            ) {
                let text: Vec<String> = c.args.iter().map(describe).collect();
                console_errors.push(text.join(" "));
            }
        }
        for e in ready(&mut self.exceptions) {
            let detail = e.exception_details.exception.as_ref().map(describe);
            console_errors.push(match detail {
                Some(d) => format!("{}: {d}", e.exception_details.text),
                None => e.exception_details.text.clone(),
            });
        }
        for entry in ready(&mut self.log) {
            let entry = &entry.entry;
            let is_error = entry.level == LogEntryLevel::Error;
            if is_error && entry.source != LogEntrySource::Network {
                console_errors.push(format!(
                    "{} ({})",
                    entry.text,
                    entry.url.as_deref().unwrap_or(url)
                ));
            }
        }
        Outcome {
            status,
            console_errors,
            failed_requests,
        }
    }
}

/// A console argument or exception as text.
fn describe(object: &RemoteObject) -> String {
    object
        .value
        .as_ref()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .or_else(|| object.description.clone())
        .unwrap_or_else(|| format!("{:?}", object.r#type))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The driver sees what a broken page does: console errors, uncaught exceptions and
    /// sub-resources that fail; and it reads the DOM.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_broken_page_is_reported() {
        let port = crate::free_port().unwrap();
        let html = format!(
            "<html><head><title>t</title><link rel=stylesheet href='http://127.0.0.1:{port}/x.css'></head>\
             <body><p id=a data-x=1>một</p><p data-x=2>hai</p>\
             <script>console.error('boom'); throw new Error('oops')</script></body></html>"
        );
        let browser = Chromium::launch().await.unwrap();
        let page = browser
            .open(&format!("data:text/html;charset=utf-8,{html}"))
            .await
            .unwrap();
        let problems = page.problems().join("\n");
        assert!(problems.contains("boom"), "{problems}");
        assert!(problems.contains("oops"), "{problems}");
        assert!(
            problems.contains(&format!("127.0.0.1:{port}/x.css")),
            "{problems}"
        );
        let attrs = page.attributes("p").await.unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].get("data-x").map(String::as_str), Some("1"));
        assert_eq!(page.texts("p").await.unwrap(), vec!["một", "hai"]);
        assert!(page.text("#missing").await.is_err());
        assert_eq!(page.title().await.unwrap(), "t");
        page.close().await.unwrap();
        browser.close().await.unwrap();
    }

    /// A tiny HTTP server: `/` is a page linking to `/tep` (a file sent as an attachment with
    /// a Vietnamese name, slowly, in two parts) and to `#` (no download).
    async fn serve_a_download() -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut request = vec![0; 4096];
                    let n = socket.read(&mut request).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&request[..n]).to_string();
                    if request.starts_with("GET /tep ") {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                                    Content-Disposition: attachment; filename=\"x.bin\"; \
                                    filename*=UTF-8''B%C3%A1o%20c%C3%A1o.bin\r\n\
                                    Content-Length: 8\r\nConnection: close\r\n\r\n1234";
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.flush().await;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = socket.write_all(b"5678").await;
                    } else {
                        let body = "<html><head><title>t</title></head><body>\
                                    <a id=tep href=/tep download>tệp</a> <a id=khong href=#>không</a>\
                                    </body></html>";
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(response.as_bytes()).await;
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://{addr}/")
    }

    /// A clicked link is downloaded complete, under the name from `Content-Disposition`; a
    /// link that downloads nothing is a clear error after the timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clicked_link_is_downloaded() {
        let url = serve_a_download().await;
        let browser = Chromium::launch().await.unwrap();
        let page = browser.open(&url).await.unwrap();
        assert!(page.problems().is_empty(), "{:?}", page.problems());
        let dir = tempfile::tempdir().unwrap();
        let download = browser
            .download(&page, "#tep", dir.path(), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(download.suggested_file_name, "Báo cáo.bin");
        assert_eq!(download.url, format!("{url}tep"));
        assert_eq!(
            download.path.file_name().unwrap().to_str(),
            Some("Báo cáo.bin")
        );
        assert_eq!(std::fs::read(&download.path).unwrap(), b"12345678");
        assert_eq!(listing(dir.path()), vec!["Báo cáo.bin".to_string()]);

        let other = tempfile::tempdir().unwrap();
        let error = browser
            .download(&page, "#khong", other.path(), Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("did not complete within"),
            "{error:#}"
        );
        let error = browser
            .download(&page, "#thieu", other.path(), Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(format!("{error:#}").contains("#thieu"), "{error:#}");
        page.close().await.unwrap();
        browser.close().await.unwrap();
    }
}
