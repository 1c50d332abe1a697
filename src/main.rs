//! The Lambda bootstrap: logging, the App built and warmed up once, then one handler call per
//! invocation.

use std::borrow::Cow;
use std::convert::Infallible;
use std::io::{self, Write};
use std::time::Duration;

use kaseya_button::App;
use kaseya_button::wording::escaped;
use lambda_http::{Error, Request, service_fn};

/// Lambda allows init 10 s; a BMS that is slow to answer must not hold the first event back
/// longer than this (the request path fetches whatever warm-up did not).
const WARM_UP_LIMIT: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT (JSON) as set by Lambda.
    lambda_http::tracing::init_default_subscriber_with_writer(|| OneLinePerEvent(io::stdout()));
    // Init runs before the first event: the secret and the login, which must come one after the
    // other, with BMS's connections opened meanwhile. A container started for a waiting request
    // then answers it in four round trips from spawn; one started ahead of traffic answers its
    // first press in two. The warm-up is under way before the rules are parsed.
    let (app, warm_up) = App::start().await;
    if let Some(mut warm_up) = warm_up
        && tokio::time::timeout(WARM_UP_LIMIT, &mut warm_up)
            .await
            .is_err()
    {
        // Nothing left running into the first invocation, or across a freeze.
        warm_up.abort();
        tracing::warn!(
            limit_ms = WARM_UP_LIMIT.as_millis() as u64,
            "warm-up did not finish in time; requests will fetch the rest"
        );
    }
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(app.handle(req).await)
    }))
    .await
}

/// Where the log goes, one event at a time (tracing's formatter writes each in one call): a line
/// break or other control character inside an event is written as an escape (`\n`), so a value
/// cannot start a line that reads as an event of its own in the text format. JSON escapes them
/// already.
struct OneLinePerEvent<W>(W);

impl<W: Write> Write for OneLinePerEvent<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (event, end) = match buf.strip_suffix(b"\n") {
            Some(event) => (event, "\n"),
            None => (buf, ""),
        };
        match escaped(&String::from_utf8_lossy(event)) {
            Cow::Borrowed(_) => self.0.write_all(buf)?,
            // One write, so that another thread's event cannot come between the two.
            Cow::Owned(line) => self.0.write_all((line + end).as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use lambda_http::tracing::subscriber;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_with_line_breaks_stays_on_its_event_s_line() {
        let sink = Sink::default();
        let writer = sink.clone();
        let logger = subscriber::fmt()
            .with_target(false)
            .without_time()
            .with_writer(move || OneLinePerEvent(writer.clone()))
            .finish();
        let forged = "x\nlevel=INFO msg=\"ticket created\"\r\n[Submission Errors]\u{2028}y\u{85}";
        tracing::subscriber::with_default(logger, || {
            tracing::warn!(warning = %forged, "a value was replaced");
            tracing::info!("a message made with {forged}");
        });
        let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let escaped = r#"x\nlevel=INFO msg="ticket created"\r\n[Submission Errors]\u{2028}y\u{85}"#;
        assert_eq!(
            log,
            format!(
                " WARN a value was replaced warning={escaped}\n INFO a message made with {escaped}\n"
            )
        );
    }
}
