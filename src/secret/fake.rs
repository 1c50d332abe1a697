//! A Secrets Manager on loopback for the store's tests: it answers `GetSecretValue` with the
//! value it holds, or fails as Secrets Manager does when it cannot serve (or as a call cut off
//! by a frozen Lambda ends), and counts the reads it was asked for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{SecretsClient, Source};

pub struct FakeSecretsManager {
    /// What the next read is answered with; `None`: it fails.
    value: Arc<Mutex<Option<String>>>,
    reads: Arc<AtomicUsize>,
    url: String,
}

impl FakeSecretsManager {
    pub fn start(value: &str) -> FakeSecretsManager {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let value = Arc::new(Mutex::new(Some(value.to_string())));
        let reads = Arc::new(AtomicUsize::new(0));
        let (held, counted) = (value.clone(), reads.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &held, &counted);
            }
        });
        FakeSecretsManager { value, reads, url }
    }

    /// From now on, reads get `value`.
    pub fn serve(&self, value: &str) {
        *self.value.lock().unwrap() = Some(value.to_string());
    }

    /// From now on, every read fails.
    pub fn fail(&self) {
        *self.value.lock().unwrap() = None;
    }

    /// How many reads were asked for so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// The store's source, through the real client, which tries each read once.
    pub fn source(&self) -> Source {
        use aws_sdk_secretsmanager::config::retry::RetryConfig;
        use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("id", "secret", None, None, "test"))
            .endpoint_url(&self.url)
            .retry_config(RetryConfig::disabled())
            .http_client(crate::net::aws::http_client(
                &crate::net::Net::new(&[]).unwrap(),
            ))
            .build();
        Source::SecretsManager {
            id: "kaseya-button/test".into(),
            client: SecretsClient::from_conf(conf),
        }
    }
}

/// One request, one answer, one connection.
fn answer(
    stream: TcpStream,
    value: &Mutex<Option<String>>,
    reads: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut request = vec![0; length];
    reader.read_exact(&mut request)?;
    reads.fetch_add(1, Ordering::SeqCst);
    let held = value.lock().unwrap().clone();
    let (status, body) = match held {
        Some(value) => (
            "200 OK",
            serde_json::json!({
                "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:kaseya-button/test",
                "Name": "kaseya-button/test",
                "SecretString": value,
                "VersionId": "v1",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.7e9,
            }),
        ),
        None => (
            "500 Internal Server Error",
            serde_json::json!({"__type": "InternalServiceError", "message": "not now"}),
        ),
    };
    let body = body.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
