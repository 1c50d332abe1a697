//! Everything the function logs, at every level, captured into a buffer in the text format.
//!
//! One subscriber for the whole process, set once: tracing caches per call site whether any
//! subscriber listens, so a subscriber of one test's thread alone would miss every call site
//! another test's thread reached first. This one listens on every thread, at every level, and
//! keeps what a capturing thread logs; it says it listens to nothing until it is the global
//! one, so that no call site is ever cached as unheard.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};

use tracing::level_filters::LevelFilter;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// What was logged so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

thread_local! {
    /// Where this thread's log lines go while it captures.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Whether the subscriber is the global one yet.
static LISTENING: AtomicBool = AtomicBool::new(false);

/// The events of capturing threads; every call site may have some, so none is cached either way.
struct CapturingThreads;

impl<S: Subscriber> Filter<S> for CapturingThreads {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        CAPTURE.with(|c| c.borrow().is_some())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(if LISTENING.load(Ordering::SeqCst) {
            LevelFilter::TRACE
        } else {
            LevelFilter::OFF
        })
    }
}

/// Until it drops, this thread's log lines go to its [`Captured`].
pub struct Capturing {
    /// A capture belongs to the thread that started it.
    _thread: PhantomData<*const ()>,
}

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

/// Capture what this thread logs, at every level and without colours, until the guard drops.
pub fn capture() -> (Captured, Capturing) {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        let lines = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| CAPTURE.with(|c| c.borrow().clone()).unwrap_or_default())
            .with_filter(CapturingThreads);
        // Listening to nothing while it is set (the maximum level stays off, so no call site is
        // reached and cached meanwhile); to everything once it is the global subscriber.
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lines))
            .expect("no other global subscriber in the tests");
        LISTENING.store(true, Ordering::SeqCst);
        tracing::callsite::rebuild_interest_cache();
    });
    let captured = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
    (
        captured,
        Capturing {
            _thread: PhantomData,
        },
    )
}
